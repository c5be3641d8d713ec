// What every domain of the service contract builds its commands from: one command = its request schema, its
// response schema and a line of documentation (docs/api.md describes each in full).
import { z } from 'zod';
import { LIMITS } from '../common';

export function command<Req extends z.ZodType, Res extends z.ZodType>(request: Req, response: Res, doc: string) {
  return { request, response, doc };
}

/** A command that takes no argument. */
export const Empty = z.strictObject({});
/** Where a page starts. */
export const Offset = z.int().min(0).max(Number.MAX_SAFE_INTEGER).default(0);
/** A page size: `def` by default, at most `max`. */
export const pageLimit = (def: number, max: number = LIMITS.maxPage) => z.int().min(1).max(max).default(def);
