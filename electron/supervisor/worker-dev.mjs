// Runs the TypeScript worker entry from source (tests, `tsx` development). Node 20 does not apply a loader
// given with --import to a worker's own entry module, so the entry is plain JS that registers tsx first.
import { register } from 'tsx/esm/api';

register();
await import('./worker-entry.ts');
