// Bundle entry of the browser-mode server (dist-electron/server.js): `node dist-electron/server.js [flags]`.
import { serveMain } from './cli';

process.exitCode = await serveMain(process.argv.slice(2));
