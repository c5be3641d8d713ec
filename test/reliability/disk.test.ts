// A full disk and a read-only disk at the run folder's edge: training fails with ONE clear line (path,
// operation, what to do), the checkpoint on disk stays good, and a resume after freeing space ends
// byte-identical to a run that never failed. Needs root to mount a small tmpfs; skipped (with the reason)
// where mounting is not possible.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreError, systemErrorCode } from '../../models/core-error';
import { formatCliError } from '../../models/cli/cli-error';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { verifyCheckpointDir } from '../../models/run/checkpoint-manifest';
import { train } from '../../models/train/trainer';
import { assertSameFinal, cliInProcess, tinyTrainConfig } from './fixtures';

const root = mkdtempSync(join(tmpdir(), 'aimkp-rel-disk-'));
const data = join(root, 'data');
const reference = join(root, 'reference');
const mnt = join(root, 'small-disk');
let mountError: string | null = null;

before(async () => {
  try {
    execFileSync('mkdir', ['-p', mnt]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], { stdio: 'pipe' });
  } catch (err) {
    mountError = `cannot mount a 4 MiB tmpfs (needs root and CAP_SYS_ADMIN): ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
    return;
  }
  await buildSynthDataset({ n: 40, seed: 5, out: data });
  await train({ runDir: reference, dataDir: data, config: tinyTrainConfig() });
});
after(() => {
  if (mountError === null) {
    try {
      execFileSync('umount', [mnt], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
    }
  }
  rmSync(root, { recursive: true, force: true });
});

/** Fills the small disk to the last byte; returns the filler's path. */
function fillDisk(): string {
  const file = join(mnt, 'filler');
  const fd = openSync(file, 'w');
  try {
    for (const size of [1 << 16, 4096, 1]) {
      const chunk = Buffer.alloc(size, 7);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if (systemErrorCode(err) === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

test('disk full during a checkpoint write → one clear line; checkpoints stay good; resume after freeing space is byte-identical', async (t) => {
  if (mountError !== null) return t.skip(mountError);
  const run = join(mnt, 'run');
  let filler = '';
  // The disk fills up right after step 4's event: the next write is step 4's checkpoint.
  const failed = await train({
    runDir: run,
    dataDir: data,
    config: tinyTrainConfig(),
    onEvent: (e) => e.type === 'step' && e.step === 4 && (filler = fillDisk()),
  }).then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(failed instanceof CoreError, `a CoreError, got ${String(failed)}`);
  assert.equal(failed.code, 'DISK_FULL');
  assert.equal(failed.details?.path, join(run, 'checkpoints', 'last'));
  assert.equal(failed.details?.operation, 'write a checkpoint');
  const line = formatCliError(failed, false);
  assert.ok(!line.includes('\n'), line);
  assert.match(
    line,
    /checkpoints\/last: cannot write a checkpoint: no space left on the device \(ENOSPC\); free some disk space .* continue with --resume/,
  );

  // Nothing half-written is left, and the step-2 checkpoint verifies.
  assert.deepEqual(
    readdirSync(join(run, 'checkpoints')).filter((n) => n.startsWith('.tmp-')),
    [],
  );
  const last = await verifyCheckpointDir(join(run, 'checkpoints', 'last'));
  assert.ok(last.ok && last.manifest?.globalStep === 2);

  // Still full (bar the few pages the removed temp folder freed): the CLI's resume fails at the first write
  // that does not fit, with one line and exit code 5.
  const cli = await cliInProcess('train', '--out', run, '--resume');
  assert.equal(cli.code, 5, cli.stderr);
  assert.equal(cli.stderr.split('\n').length, 1, cli.stderr);
  assert.match(
    cli.stderr,
    /^aimkp: \/\S+: cannot [a-z ]+: no space left on the device \(ENOSPC\); free some disk space/,
  );

  rmSync(filler);
  const resumed = await train({ runDir: run, resume: true });
  assert.equal(resumed.status, 'completed');
  assertSameFinal(run, reference, 'resumed after a full disk');
});

test('read-only disk → one line naming the folder, exit code 5', async (t) => {
  if (mountError !== null) return t.skip(mountError);
  const run = join(mnt, 'run');
  if (!existsSync(run)) return t.skip('needs the run of the previous test');
  execFileSync('mount', ['-o', 'remount,ro', mnt], { stdio: 'pipe' });
  try {
    const cli = await cliInProcess('train', '--out', run, '--resume');
    assert.equal(cli.code, 5, cli.stderr);
    assert.equal(cli.stderr.split('\n').length, 1, cli.stderr);
    assert.match(
      cli.stderr,
      /run\.lock: cannot create the run lock: the file system is read-only \(EROFS\); choose a folder on a writable disk/,
    );
  } finally {
    execFileSync('mount', ['-o', 'remount,rw', mnt], { stdio: 'pipe' });
  }
});
