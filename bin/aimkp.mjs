#!/usr/bin/env node
// Entry point of the `aimkp` CLI. The core is TypeScript; tsx compiles it on the fly so that
// `npx aimkp` works right after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const argv = process.argv.slice(2);
if (argv[0] === 'serve') {
  // Browser mode lives beside the Electron main process (electron/server/), not in the core's CLI.
  const { serveMain } = await import('../electron/server/cli.ts');
  process.exitCode = await serveMain(argv.slice(1));
} else if (argv[0] === 'worker' || argv[0] === 'sweep') {
  // The lab queue (BullMQ on Redis) and sweeps need the supervisor: they live beside it (electron/queue/).
  const cli = await import('../electron/queue/cli.ts');
  process.exitCode = await (argv[0] === 'worker' ? cli.workerMain : cli.sweepMain)(argv.slice(1));
} else {
  const { main } = await import('../models/cli/main.ts');
  process.exitCode = await main(argv);
}
