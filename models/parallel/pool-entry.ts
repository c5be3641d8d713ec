// Where the pool worker's script is: models/train/pool-worker-dev.mjs (which loads pool-worker.ts through tsx) when
// this module runs from source (CLI, tests), pool-worker.js beside the bundle when bundled (scripts/build-electron.ts
// writes dist-electron/pool-worker.js next to worker.js, main.js and server.js, whichever of them holds this code).
// The worker runs training steps, so it lives in models/train; named here by URL, not imported (no room circle).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CoreError } from '../core-error';

export function poolWorkerEntry(): URL {
  const here = import.meta.url;
  if (here.endsWith('.ts')) return new URL('../train/pool-worker-dev.mjs', here);
  const bundled = new URL('./pool-worker.js', here);
  if (existsSync(fileURLToPath(bundled))) return bundled;
  throw new CoreError(
    'INTERNAL',
    `${fileURLToPath(bundled)}: the data-parallel worker script is missing beside ${fileURLToPath(here)} (the build writes it with the other bundles); train with --workers 1 meanwhile`,
  );
}
