// Whole-file writes that never leave a half-written file behind (manifests, run files, metrics, cached
// features): write a uniquely named temp file beside the target, then rename it into place (atomic on one
// file system). The temp file is removed when the write fails, and a file-system failure (disk full,
// permission, read-only) becomes a one-line CoreError naming the target file and what to do.
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fromFsError, systemErrorCode } from '../core-error';

function translated(err: unknown, file: string): unknown {
  return systemErrorCode(err) === undefined ? err : fromFsError(err, 'write', file);
}

function tempPath(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/** Writes `data` to `file` atomically, creating the folder. `fsync` flushes the data before the rename. */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: { fsync?: boolean } = {},
): Promise<void> {
  await mkdir(dirname(file), { recursive: true }).catch((err: unknown) => {
    throw translated(err, file);
  });
  const tmp = tempPath(file);
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data);
      if (options.fsync === true) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw translated(err, file);
  }
}

/** Synchronous twin of writeFileAtomic, for small result files written from synchronous code. */
export function writeFileAtomicSync(file: string, data: string | Uint8Array): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (err) {
    throw translated(err, file);
  }
  const tmp = tempPath(file);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, file);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      /* the original error is what matters */
    }
    throw translated(err, file);
  }
}
