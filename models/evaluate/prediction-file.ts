// Predictions JSONL: one line per item, {"id","gold":[...],"predictions":[[...repeat 1],[...repeat 2],...]}.
import { existsSync, readFileSync } from 'node:fs';
import { CoreError } from '../core-error';
import { writeFileAtomicSync as writeFileAtomic } from '../fs/atomic-write';

export interface PredictionRecord {
  id: string;
  gold: string[];
  /** One ranked keyphrase list per decoding repeat. */
  predictions: string[][];
}

/** A bad line of a predictions file: reported and skipped. */
export interface PredictionIssue {
  file: string;
  line: number;
  field?: string;
  message: string;
}

export interface PredictionFile {
  file: string;
  records: PredictionRecord[];
  issues: PredictionIssue[];
  /** Number of repeats of the first valid record (every record should have the same). */
  repeats: number;
}

export function formatPredictionIssues(issues: readonly PredictionIssue[], max = 20): string {
  const lines = issues
    .slice(0, max)
    .map((i) => `${i.file}:${i.line}: ${i.field ? `${i.field}: ` : ''}${i.message} (skipped)`);
  if (issues.length > max) lines.push(`… and ${issues.length - max} more issue(s)`);
  return lines.join('\n');
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** Validates one parsed line; returns the record or the issue. */
export function parsePredictionLine(raw: string, file: string, line: number): PredictionRecord | PredictionIssue {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return { file, line, message: `invalid JSON (${(err as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { file, line, message: 'not a JSON object' };
  const obj = value as Record<string, unknown>;
  if (typeof obj.id !== 'string' || obj.id === '')
    return { file, line, field: 'id', message: 'must be a non-empty string' };
  if (!isStringArray(obj.gold)) return { file, line, field: 'gold', message: 'must be an array of strings' };
  const preds = obj.predictions;
  if (!Array.isArray(preds) || preds.length === 0 || !preds.every(isStringArray)) {
    return { file, line, field: 'predictions', message: 'must be a non-empty array of string arrays (one per repeat)' };
  }
  return { id: obj.id, gold: obj.gold, predictions: preds as string[][] };
}

/**
 * Reads a predictions file. Bad lines, duplicate ids and records whose repeat count differs from the
 * first record's become issues and are skipped. Throws a CoreError only if the file is missing.
 */
export function readPredictionFile(file: string): PredictionFile {
  if (!existsSync(file)) throw new CoreError('NOT_FOUND', `predictions file "${file}" does not exist`);
  const lines = readFileSync(file, 'utf8').split('\n');
  const records: PredictionRecord[] = [];
  const issues: PredictionIssue[] = [];
  const seen = new Map<string, number>();
  let repeats = 0;
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '') return;
    const parsed = parsePredictionLine(raw, file, line);
    if (!('predictions' in parsed)) {
      issues.push(parsed);
      return;
    }
    const first = seen.get(parsed.id);
    if (first !== undefined) {
      issues.push({ file, line, field: 'id', message: `duplicate id "${parsed.id}" (first on line ${first})` });
      return;
    }
    if (repeats === 0) repeats = parsed.predictions.length;
    else if (parsed.predictions.length !== repeats) {
      issues.push({
        file,
        line,
        field: 'predictions',
        message: `has ${parsed.predictions.length} repeats, expected ${repeats} like the first record`,
      });
      return;
    }
    seen.set(parsed.id, line);
    records.push(parsed);
  });
  return { file, records, issues, repeats };
}

export function serializePredictions(records: readonly PredictionRecord[]): string {
  return (
    records.map((r) => JSON.stringify({ id: r.id, gold: r.gold, predictions: r.predictions })).join('\n') +
    (records.length > 0 ? '\n' : '')
  );
}

/** Writes a predictions file atomically. */
export function writePredictionFile(file: string, records: readonly PredictionRecord[]): void {
  writeFileAtomic(file, serializePredictions(records));
}
