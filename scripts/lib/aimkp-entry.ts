// The `aimkp` CLI as one module, for bundling (scripts/gpu-bundle.ts): bin/aimkp.mjs without tsx.
import { main } from '../../models/cli/main';

process.exitCode = await main(process.argv.slice(2));
