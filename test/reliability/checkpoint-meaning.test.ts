// A checkpoint's meaning is checked, not only its bytes (issue 16, items 13–15): a state.json or weights.bin
// rewritten together with its manifest (stride maps of the wrong length, globalStep −7, NaN / infinite numbers)
// is CHECKPOINT_CORRUPT naming the field, in doctor, evaluation and resume alike; a NaN weight is corruption,
// never "lower the learning rate"; `aimkp eval --which last` over a corrupt last says which checkpoint it
// scored and why; a stale lock taken over is said even with --quiet; a failed checkpoint write says what is
// left to continue from, never a checkpoint that does not exist.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, cpSync, mkdirSync, openSync, readFileSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { CoreError } from '../../models/core-error';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { sha256 } from '../../models/run/checkpoint-manifest';
import { writeCheckpoint, type CheckpointFiles } from '../../models/run/checkpoint-io';
import { diagnoseRun } from '../../models/run/run-doctor';
import { loadRunForInference } from '../../models/run/run-loader';
import { LOCK_FILE } from '../../models/run/run-lock';
import { validateTrainStateOfRun } from '../../models/train/checkpoint-parts';
import { train } from '../../models/train/trainer';
import type { TrainingEvent } from '../../shared/training-events';
import { tempDir } from '../fixtures/temp-dirs';
import { cliInProcess, tinyTrainConfig } from './fixtures';

const root = tempDir('aimkp-rel-meaning-');
const data = join(root, 'data');
const stopped = join(root, 'stopped');

// A run stopped after step 9: checkpoints/last = step 9, checkpoints/previous = step 8.
before(async () => {
  await buildSynthDataset({ n: 40, seed: 5, out: data });
  const part = await train({ runDir: stopped, dataDir: data, config: tinyTrainConfig(), maxSteps: 9 });
  assert.equal(part.globalStep, 9);
});

/** Runs the CLI in this process; its progress and warning lines go to process.stderr directly, so they are caught too. */
async function cliWithStderr(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    const r = await cliInProcess(...args);
    return { ...r, stderr: written.join('') + r.stderr };
  } finally {
    process.stderr.write = write;
  }
}

let copies = 0;
function copyOfStopped(): string {
  const run = join(root, `copy-${++copies}`);
  cpSync(stopped, run, { recursive: true });
  return run;
}

/** Rewrites `file` of checkpoint folder `dir` and its manifest entry, so that the bytes verify again. */
function rewriteVerified(dir: string, file: string, change: (b: Buffer) => Buffer, globalStep?: number): void {
  const bytes = change(readFileSync(join(dir, file)));
  writeFileSync(join(dir, file), bytes);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
    globalStep: number;
    files: Record<string, { bytes: number; sha256: string }>;
  };
  manifest.files[file] = { bytes: bytes.byteLength, sha256: sha256(bytes) };
  if (globalStep !== undefined) manifest.globalStep = globalStep;
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

const editState =
  (edit: (s: Record<string, unknown>) => void) =>
  (b: Buffer): Buffer => {
    const s = JSON.parse(b.toString('utf8')) as Record<string, unknown>;
    edit(s);
    return Buffer.from(JSON.stringify(s));
  };

const poisonFloat =
  (value: number) =>
  (b: Buffer): Buffer => {
    const out = Buffer.from(b);
    out.writeFloatLE(value, 4 * Math.floor(out.length / 8));
    return out;
  };

interface Meaningless {
  what: string;
  file: string;
  change: (b: Buffer) => Buffer;
  globalStep?: number;
  /** What the CHECKPOINT_CORRUPT message names. */
  names: RegExp;
}

const CASES: Meaningless[] = [
  {
    what: 'stride map one entry short',
    file: 'state.json',
    change: editState((s) => (s.strideText as number[]).pop()),
    names: /state\.json: field "strideText": 31 entries, the run has 32 train items/,
  },
  {
    what: 'frozen map of the wrong length',
    file: 'state.json',
    change: editState((s) => (s.frozenImage as boolean[]).push(false)),
    names: /state\.json: field "frozenImage": 33 entries/,
  },
  {
    what: 'globalStep −7 (manifest agreeing)',
    file: 'state.json',
    change: editState((s) => (s.globalStep = -7)),
    globalStep: -7,
    names: /state\.json: field "globalStep": -7 is not a step count/,
  },
  {
    what: 'a NaN weight',
    file: 'weights.bin',
    change: poisonFloat(NaN),
    names: /weights\.bin: variable "[^"]+": 1 NaN of \d+ values/,
  },
  {
    what: 'an infinite optimizer moment',
    file: 'optimizer.bin',
    change: poisonFloat(Infinity),
    names: /optimizer\.bin: optimizer array "[^"]+": 1 infinite of \d+ values/,
  },
];

for (const c of CASES) {
  test(`checkpoints/last with ${c.what}: doctor and evaluation call it corrupt naming the field, and use previous`, async () => {
    const run = copyOfStopped();
    rewriteVerified(join(run, 'checkpoints', 'last'), c.file, c.change, c.globalStep);

    const d = await diagnoseRun(run, { validateState: validateTrainStateOfRun });
    const problem = d.checks.find((k) => k.level === 'problem');
    assert.ok(problem, JSON.stringify(d.checks));
    assert.match(problem.message, c.names);
    assert.equal(d.resumeFrom, join('checkpoints', 'previous'));
    const cli = await cliInProcess('doctor', run);
    assert.equal(cli.code, 3, cli.stdout);
    assert.match(cli.stdout, c.names);

    const loaded = await loadRunForInference(run, 'last', { validateState: validateTrainStateOfRun });
    try {
      assert.equal(loaded.checkpoint.name, join('checkpoints', 'previous'));
      assert.equal(loaded.checkpoint.globalStep, 8);
      assert.match(loaded.checkpoint.fallback ?? '', c.names);
    } finally {
      loaded.model.dispose();
    }
  });
}

test('resume over a NaN weight in last: falls back to previous naming the variable; both poisoned: CHECKPOINT_CORRUPT, not DIVERGED', async () => {
  const run = copyOfStopped();
  rewriteVerified(join(run, 'checkpoints', 'last'), 'weights.bin', poisonFloat(NaN));
  const logs: string[] = [];
  const events: TrainingEvent[] = [];
  const r = await train({
    runDir: run,
    resume: true,
    maxSteps: 10,
    log: (l) => logs.push(l),
    onEvent: (e) => events.push(e),
  });
  assert.equal(r.status, 'stopped');
  const warning = logs.find((l) => l.startsWith('warning:') && l.includes('resuming from'));
  assert.ok(warning, logs.join('\n'));
  assert.match(warning, /weights\.bin: variable "[^"]+": 1 NaN/);
  const start = events.find((e) => e.type === 'run-start');
  assert.ok(start?.type === 'run-start' && start.startStep === 8, 'continued from previous (step 8)');

  const both = copyOfStopped();
  for (const slot of ['last', 'previous'])
    rewriteVerified(join(both, 'checkpoints', slot), 'weights.bin', poisonFloat(NaN));
  const cli = await cliInProcess('train', '--out', both, '--resume');
  assert.equal(cli.code, 3, cli.stderr);
  assert.match(cli.stderr, /CHECKPOINT_CORRUPT|checkpoint/i);
  assert.match(cli.stderr, /NaN/);
  assert.doesNotMatch(cli.stderr, /learning rate|DIVERGED/);
});

test('aimkp eval --which last over a corrupt last: says it scored previous and why, in the table and the metrics file', async () => {
  const run = copyOfStopped();
  // One float changed without its manifest: the bytes no longer verify.
  const weights = join(run, 'checkpoints', 'last', 'weights.bin');
  const b = readFileSync(weights);
  b.writeFloatLE(b.readFloatLE(400) + 0.001, 400);
  writeFileSync(weights, b);

  const cli = await cliWithStderr(
    'eval',
    '--run',
    run,
    '--which',
    'last',
    '--modes',
    'text',
    '--decode',
    'greedy',
    '--limit',
    '2',
  );
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(
    cli.stderr,
    /warning: .*checkpoints\/last\/weights\.bin.*; read checkpoints\/previous \(epoch \d+, step 8\) instead of checkpoints\/last/,
  );
  assert.match(cli.stderr, /previous checkpoint \(epoch \d+, step 8\), not last: it is corrupt/);
  assert.doesNotMatch(cli.stderr, /, last checkpoint \(/);
  const head = cli.stdout.split('\n')[0];
  assert.match(head, /, checkpoint previous \(epoch \d+, step 8\);/);
  assert.match(cli.stdout, /^note: .*weights\.bin/m);
  const metricsDir = join(run, 'metrics');
  const [file] = readdirSync(metricsDir).filter((n) => n.endsWith('.json'));
  const m = JSON.parse(readFileSync(join(metricsDir, file), 'utf8')) as {
    checkpoint: string;
    checkpointFallback?: string;
  };
  assert.match(m.checkpoint, /^previous \(epoch \d+, step 8\)$/);
  assert.match(m.checkpointFallback ?? '', /weights\.bin/);
});

test('a stale run lock taken over is said even with --quiet', async () => {
  const run = copyOfStopped();
  const dead = spawnSync(process.execPath, ['-e', '']).pid!;
  writeFileSync(
    join(run, LOCK_FILE),
    JSON.stringify({
      pid: dead,
      host: hostname(),
      startedAt: new Date().toISOString(),
      command: 'aimkp train',
      token: 'x',
    }),
  );
  const r = await cliWithStderr('train', '--out', run, '--resume', '--quiet', '--max-steps', '10');
  assert.equal(r.code, 0, r.stderr);
  const said = r.stderr.split('\n').filter((l) => l.includes('took over the lock'));
  assert.equal(said.length, 1, r.stderr);
  assert.match(said[0], new RegExp(`^warning: took over the lock of "aimkp train" \\(pid ${dead} on `));
});

test('disk full at a checkpoint write: the message says what is left to continue from, never a checkpoint that does not exist', async (t) => {
  const small = join(root, 'small-disk');
  mkdirSync(small);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small], { stdio: 'pipe' });
  } catch (err) {
    return t.skip(`cannot mount a tmpfs (needs root and CAP_SYS_ADMIN): ${String(err)}`);
  }
  t.after(() => execFileSync('umount', ['-l', small], { stdio: 'pipe' }));
  const run = join(small, 'run');
  const kept = join(small, 'kept');
  mkdirSync(join(run, 'checkpoints'), { recursive: true });
  mkdirSync(join(kept, 'checkpoints', 'last'), { recursive: true });
  // Fill the disk to the last byte.
  const fd = openSync(join(small, 'filler'), 'w');
  try {
    for (const size of [1 << 16, 4096, 1])
      for (;;) {
        try {
          writeSync(fd, Buffer.alloc(size, 7));
        } catch {
          break;
        }
      }
  } finally {
    closeSync(fd);
  }
  const weights = new Map([['w', tf.zeros([4096])]]);
  t.after(() => tf.dispose([...weights.values()]));
  const files: CheckpointFiles = {
    weights,
    optimizer: null,
    state: { epoch: 0, globalStep: 2, bestEpoch: null, bestScore: null },
    modelInfo: null,
  };
  const fail = (runDir: string, target: string, keepPrevious: boolean) =>
    writeCheckpoint(join(runDir, target), files, join(runDir, 'checkpoints'), { keepPrevious }).then(
      () => assert.fail('the write should fail'),
      (e: unknown) => {
        assert.ok(e instanceof CoreError && e.code === 'DISK_FULL', String(e));
        return e.message;
      },
    );
  const first = await fail(run, join('checkpoints', 'last'), true);
  assert.match(
    first,
    /no space left on the device \(ENOSPC\); free some disk space .*; no checkpoint had been written yet, so --resume starts again from step 0$/,
  );
  assert.doesNotMatch(first, /intact/);
  assert.match(await fail(run, 'best', false), /; there was no best\/ checkpoint before this one$/);
  assert.match(await fail(kept, join('checkpoints', 'last'), true), /; the previous checkpoint is intact$/);
});
