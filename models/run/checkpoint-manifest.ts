// A checkpoint folder's manifest.json: the size and SHA-256 of every other file, plus where training stood.
// It is written last (its presence marks the folder complete) and checked before anything is decoded, so a
// truncated, emptied, garbled or bit-flipped file is named with what is wrong instead of surfacing as a
// TF.js shape error, a NaN loss, or silently changed weights.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { systemErrorCode } from '../core-error';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'aimkp-checkpoint-manifest-v1';
/** Files every checkpoint has (optimizer.json/.bin only in training checkpoints). */
export const REQUIRED_FILES = ['model.json', 'weights.bin', 'state.json'] as const;

export interface ManifestEntry {
  bytes: number;
  sha256: string;
}

export interface CheckpointManifest {
  format: typeof MANIFEST_FORMAT;
  createdAt: string;
  /** Where training stood after the checkpointed step (copied from state.json, for listings). */
  epoch: number;
  globalStep: number;
  files: Record<string, ManifestEntry>;
}

export function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function checksumFiles(files: Map<string, Uint8Array | string>): Record<string, ManifestEntry> {
  const out: Record<string, ManifestEntry> = {};
  for (const [name, data] of files)
    out[name] = { bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength, sha256: sha256(data) };
  return out;
}

export type CheckpointVerdict =
  /** `data` holds the verified bytes of every file (decode these, not a second read). `manifest` null: an
   * unverifiable checkpoint written before manifests existed (accepted, with a warning by the caller). */
  | { ok: true; dir: string; manifest: CheckpointManifest | null; data: Map<string, Buffer> }
  | { ok: false; dir: string; file: string; problem: string };

async function readOrNull(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (err) {
    if (systemErrorCode(err) === 'ENOENT') return null;
    throw err;
  }
}

function parseManifest(text: string): CheckpointManifest | string {
  let v: Partial<CheckpointManifest>;
  try {
    v = JSON.parse(text) as Partial<CheckpointManifest>;
  } catch (err) {
    return `invalid JSON (${(err as Error).message})`;
  }
  if (typeof v !== 'object' || v === null || v.format !== MANIFEST_FORMAT)
    return `field "format": expected "${MANIFEST_FORMAT}"`;
  if (typeof v.files !== 'object' || v.files === null) return 'field "files" missing';
  for (const [name, e] of Object.entries(v.files)) {
    if (typeof e?.bytes !== 'number' || typeof e?.sha256 !== 'string')
      return `field "files.${name}": expected {bytes, sha256}`;
  }
  if (typeof v.globalStep !== 'number' || typeof v.epoch !== 'number') return 'fields "epoch" / "globalStep" missing';
  return v as CheckpointManifest;
}

/** Reads a checkpoint's manifest without verifying the files (listings, doctor); null when absent or unreadable. */
export async function readManifest(dir: string): Promise<CheckpointManifest | null> {
  const buf = await readOrNull(join(dir, MANIFEST_FILE));
  if (buf === null) return null;
  const m = parseManifest(buf.toString('utf8'));
  return typeof m === 'string' ? null : m;
}

/**
 * Verifies the checkpoint folder `dir`: manifest present and valid, every listed file present with its size
 * and SHA-256, the required files listed. A folder without manifest.json is accepted unverified only when its
 * model.json predates manifests (no "checksummed" flag) and its required files are there.
 */
export async function verifyCheckpointDir(dir: string): Promise<CheckpointVerdict> {
  const bad = (file: string, problem: string): CheckpointVerdict => ({
    ok: false,
    dir,
    file: join(dir, file),
    problem,
  });
  if (!existsSync(dir)) return { ok: false, dir, file: dir, problem: 'folder missing' };
  const manifestBuf = await readOrNull(join(dir, MANIFEST_FILE));
  const data = new Map<string, Buffer>();
  if (manifestBuf === null) {
    const model = await readOrNull(join(dir, 'model.json'));
    if (model === null) return bad('model.json', 'missing (the checkpoint is incomplete)');
    let checksummed: boolean;
    try {
      checksummed = (JSON.parse(model.toString('utf8')) as { checksummed?: unknown }).checksummed === true;
    } catch {
      return bad(MANIFEST_FILE, 'missing, and model.json is not valid JSON');
    }
    if (checksummed)
      return bad(MANIFEST_FILE, 'missing (the checkpoint was not completely written, or the file was deleted)');
    for (const f of REQUIRED_FILES) {
      const buf = f === 'model.json' ? model : await readOrNull(join(dir, f));
      if (buf === null) return bad(f, 'missing (the checkpoint is incomplete)');
      data.set(f, buf);
    }
    for (const f of ['optimizer.json', 'optimizer.bin']) {
      const buf = await readOrNull(join(dir, f));
      if (buf !== null) data.set(f, buf);
    }
    return { ok: true, dir, manifest: null, data };
  }
  const manifest = parseManifest(manifestBuf.toString('utf8'));
  if (typeof manifest === 'string') return bad(MANIFEST_FILE, manifest);
  for (const f of REQUIRED_FILES) if (!(f in manifest.files)) return bad(MANIFEST_FILE, `does not list ${f}`);
  for (const [name, entry] of Object.entries(manifest.files)) {
    if (name.includes('/') || name.includes('\\') || name === '..')
      return bad(MANIFEST_FILE, `lists a file outside the folder ("${name}")`);
    const buf = await readOrNull(join(dir, name));
    if (buf === null) return bad(name, 'missing');
    if (buf.byteLength !== entry.bytes) {
      const how = buf.byteLength === 0 ? 'empty' : buf.byteLength < entry.bytes ? 'truncated' : 'longer than written';
      return bad(name, `${buf.byteLength} bytes, the manifest says ${entry.bytes} (${how})`);
    }
    if (sha256(buf) !== entry.sha256)
      return bad(name, 'content differs from the manifest (SHA-256 mismatch: the file was changed or garbled)');
    data.set(name, buf);
  }
  return { ok: true, dir, manifest, data };
}
