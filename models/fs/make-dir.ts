// Creating a folder (and its missing parents) in a bounded number of steps, then proving it writable.
//
// Why not mkdirSync(dir, { recursive: true }): Node 20's recursive mkdir retries a component for as long as the
// kernel answers ENOENT while its parent exists, which is what /proc and /sys answer. `mkdirSync('/proc/x',
// { recursive: true })` never returns: the thread spins on mkdir (38,000 calls in 3 s) and a SIGTERM handler
// never runs. Here every missing component gets exactly one mkdir, so the walk ends after at most one stat and
// one mkdir per path component, and every failure becomes one CoreError naming the folder and why.
import { mkdirSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { CoreError, fromFsError } from '../core-error';

/** More components than any real path has (PATH_MAX 4096 / 2): the walk up never exceeds it. */
const MAX_COMPONENTS = 2048;

function statOf(path: string): Stats | null {
  return statSync(path, { throwIfNoEntry: false }) ?? null;
}

/**
 * Creates `dir` and its missing parents, one mkdir per missing component (no retry). Throws a CoreError naming the
 * path: NOT_FOUND for a file system that refuses new folders (/proc, /sys answer ENOENT under an existing parent),
 * BAD_INPUT when a part of the path is a file, PERMISSION / READ_ONLY / IO from the system error. `what` names the
 * folder in messages ("workspace folder"); `hint` says what to do instead.
 */
export function makeDirBounded(dir: string, what = 'folder', hint = 'choose another folder'): string {
  const abs = resolve(dir);
  const missing: string[] = [];
  let cur = abs;
  for (let i = 0; i < MAX_COMPONENTS; i++) {
    let st: Stats | null;
    try {
      st = statOf(cur);
    } catch (err) {
      // ENOTDIR: a part of the path above `cur` is a file.
      if ((err as NodeJS.ErrnoException).code === 'ENOTDIR')
        throw new CoreError('BAD_INPUT', `${abs}: cannot create the ${what}: a part of the path is a file; ${hint}`, {
          path: abs,
          errno: 'ENOTDIR',
          hint,
        });
      throw fromFsError(err, `create the ${what}`, cur, hint);
    }
    if (st !== null) {
      if (!st.isDirectory())
        throw new CoreError('BAD_INPUT', `${cur}: is a file, not a folder; ${hint}`, { path: cur, hint });
      break;
    }
    missing.push(cur);
    const up = dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && statOf(d)?.isDirectory()) continue; // made by someone else meanwhile
      if (code === 'ENOENT')
        // The parent exists (it was found or made just now), yet the kernel says ENOENT: /proc, /sys.
        throw new CoreError(
          'NOT_FOUND',
          `${d}: cannot create the ${what}: the file system under ${dirname(d)} does not allow new folders (as /proc and /sys); ${hint}`,
          { path: d, errno: 'ENOENT', hint },
        );
      throw fromFsError(err, `create the ${what}`, d, hint);
    }
  }
  return abs;
}

/**
 * Proves `dir` writable by creating and removing one small file (an existing folder can still be read-only, or
 * one where mkdir works but files cannot be written). Throws PERMISSION / READ_ONLY / DISK_FULL / IO naming it.
 */
export function probeWritable(dir: string, what = 'folder', hint = 'choose another folder'): void {
  const probe = join(dir, `.aimkp-write-probe-${process.pid}`);
  try {
    writeFileSync(probe, 'probe\n');
  } catch (err) {
    throw fromFsError(err, `write in the ${what}`, dir, hint);
  } finally {
    try {
      rmSync(probe, { force: true });
    } catch {
      /* nothing was written */
    }
  }
}

/** An absolute path as given, or a BAD_INPUT that shows what a relative one would have meant (never guessed). */
export function requireAbsoluteDir(path: string, field: string, label: string, cwd = process.cwd()): string {
  if (path.trim() === '') throw new CoreError('BAD_INPUT', `${label}: give a folder`, { field });
  if (!isAbsolute(path))
    throw new CoreError(
      'BAD_INPUT',
      `${label} "${path}": a relative path is not used (it would depend on the folder the server was started in: here ${resolve(cwd, path)}); give an absolute path${path.startsWith('~') ? ' (~ is not expanded)' : ''}`,
      { field, path: resolve(cwd, path) },
    );
  return resolve(path);
}
