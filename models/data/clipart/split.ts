// Deterministic 8:1:1 split: the same id lands in the same split on every machine and every rebuild.

import { createHash } from 'node:crypto';
import type { Split } from '../manifest-types';

/** The bucket 0–9 of an id: the first 8 hex digits of its SHA-1, as a number, mod 10. */
export function splitBucket(id: string): number {
  return parseInt(createHash('sha1').update(id, 'utf8').digest('hex').slice(0, 8), 16) % 10;
}

/** Buckets 0–7 → train, 8 → valid, 9 → test. */
export function splitForId(id: string): Split {
  const b = splitBucket(id);
  return b < 8 ? 'train' : b === 8 ? 'valid' : 'test';
}
