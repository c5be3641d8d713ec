// Runs the TypeScript pool worker from source (CLI through bin/aimkp.mjs, tests). Node 20 does not apply a loader
// given with --import to a worker's own entry module, so the entry is plain JS that registers tsx first.
import { register } from 'tsx/esm/api';

register();
await import('./pool-worker.ts');
