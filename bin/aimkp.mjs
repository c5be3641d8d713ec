#!/usr/bin/env node
// Entry point of the `aimkp` CLI. The core is TypeScript; tsx compiles it on the fly so that
// `npx aimkp` works right after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../models/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
