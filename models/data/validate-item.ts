// Checks one parsed manifest.jsonl line against the ManifestItem contract (everything except the image file).
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { DataIssue, IssueReason } from './data-issue';
import { SPLITS, type ManifestItem, type Split } from './manifest-types';

const KNOWN_FIELDS = new Set(['id', 'split', 'text', 'image', 'keyphrases', 'attributes', 'ocr', 'source']);

export interface LineResult {
  item?: ManifestItem;
  issues: DataIssue[];
}

/** Trims keyphrases and drops empty ones; returns null when the value is not an array of strings. */
export function cleanKeyphrases(value: unknown): string[] | null {
  if (!Array.isArray(value) || !value.every((k) => typeof k === 'string')) return null;
  return (value as string[]).map((k) => k.trim()).filter((k) => k.length > 0);
}

/** True when `image` (relative to `dir`) resolves inside `dir`. */
export function imageInsideFolder(dir: string, image: string): boolean {
  if (image === '' || isAbsolute(image) || image.includes('\\')) return false;
  const rel = relative(resolve(dir), resolve(dir, image));
  return rel !== '' && !rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel);
}

/**
 * Validates one parsed line. Every field problem becomes an issue; the item is returned only when there
 * is no 'skipped' issue. Unknown extra fields are dropped with a 'kept' warning.
 */
export function validateManifestValue(value: unknown, dir: string, file: string, line: number): LineResult {
  const issues: DataIssue[] = [];
  const skip = (reason: IssueReason, message: string, field?: string) =>
    issues.push({ file, line, ...(field ? { field } : {}), message, action: 'skipped', reason });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    skip('not-an-object', `expected a JSON object, got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value}`);
    return { issues };
  }
  const obj = value as Record<string, unknown>;
  const fieldType = (field: string, want: string) => {
    if (!(field in obj)) skip('missing-field', `missing required field "${field}"`, field);
    else skip('wrong-type', `must be ${want}, got ${describe(obj[field])}`, field);
  };

  const id = obj.id;
  if (typeof id !== 'string') fieldType('id', 'a string');
  else if (id.trim() === '') skip('empty-id', 'id is empty', 'id');

  const split = obj.split;
  if (typeof split !== 'string') fieldType('split', 'a string');
  else if (!(SPLITS as readonly string[]).includes(split)) {
    skip('unknown-split', `unknown split "${split}" (expected ${SPLITS.join(' | ')})`, 'split');
  }

  const text = obj.text;
  if (typeof text !== 'string') fieldType('text', 'a string (may be empty)');

  const image = obj.image;
  if (!('image' in obj)) skip('missing-field', 'missing required field "image" (use null for no image)', 'image');
  else if (image !== null && typeof image !== 'string') skip('wrong-type', `must be a relative path or null, got ${describe(image)}`, 'image');
  else if (typeof image === 'string' && !imageInsideFolder(dir, image)) {
    skip('image-path-escape', `image path "${image}" is not a relative path inside the data-set folder`, 'image');
  }

  const keyphrases = cleanKeyphrases(obj.keyphrases);
  if (keyphrases === null) fieldType('keyphrases', 'an array of strings');
  else if (keyphrases.length === 0) skip('empty-keyphrases', 'no keyphrases (after trimming and dropping empty strings)', 'keyphrases');

  for (const field of ['attributes', 'ocr', 'source'] as const) {
    if (field in obj && obj[field] !== undefined && typeof obj[field] !== 'string') {
      skip('wrong-type', `must be a string when present, got ${describe(obj[field])}`, field);
    }
  }

  if (typeof text === 'string' && text.trim() === '' && image === null && issues.length === 0) {
    skip('empty-text-and-image', 'item has neither text nor image', 'text');
  }

  for (const key of Object.keys(obj)) {
    if (!KNOWN_FIELDS.has(key)) {
      issues.push({ file, line, field: key, message: `unknown field "${key}" ignored`, action: 'kept', reason: 'unknown-field' });
    }
  }

  if (issues.some((i) => i.action === 'skipped')) return { issues };
  const item: ManifestItem = {
    id: id as string,
    split: split as Split,
    text: text as string,
    image: image as string | null,
    keyphrases: keyphrases as string[],
  };
  for (const field of ['attributes', 'ocr', 'source'] as const) {
    if (typeof obj[field] === 'string') item[field] = obj[field] as string;
  }
  return { item, issues };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}
