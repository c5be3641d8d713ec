// FLOOD_WORKER_ENTRY (event-flood.ts): the supervisor's worker with the benchmark's job kind registered first, then
// the app's worker entry. From source only (tsx), like electron/supervisor/worker-dev.mjs.
import { register } from 'tsx/esm/api';

register();
await import('./event-flood.ts');
await import('../../electron/supervisor/worker-entry.ts');
