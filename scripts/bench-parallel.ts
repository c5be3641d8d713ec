// `npm run bench:parallel`: data-parallel training speed. Trains the same run (the presets' model on the first N
// train items of a data set, MobileNetV2 features from the feature cache) for a fixed number of optimizer steps with
// each worker count, for the baseline preset and for AimKP's masked epochs (preset aimkp-no-warmup: strides 2/2 from
// the first step, i.e. the step of AimKP's second epoch), and reports samples/s over the timed steps (the first
// `--warmup` steps of every run are not timed). Runs alternate between the worker counts, `--rounds` times, so a
// busy spell of the shared machine hits them alike; each figure carries the 1-minute load average beside it.
// CPU time too, per thread (/proc/self/task/*/stat), because on a machine other jobs share, wall time says as much
// about them as about us: `cpuMsPerSample` sums every thread, `busiestThreadMsPerSample` is the thread that
// bounds the step (rank 0 or a worker), and `cpuBoundSpeedup` = K=1's busiest thread's CPU per sample / K's —
// the speed-up with a core per rank to itself. Prints one JSON object (and a Markdown table on stderr).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir, availableParallelism, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { resolveConfig, train } from '../models/index';
import type { StepEvent } from '../shared/training-events';
import { BACKEND_CHOICES, type BackendRequest } from '../shared/vocabulary';
import { fileURLToPath } from 'node:url';
import { scriptArgs } from './lib/script-args';

const USAGE = `Usage: node --import tsx scripts/bench-parallel.ts [--data DIR] [--train N] [--steps S] [--warmup W]
                                                  [--workers 1,2] [--rounds R] [--cache DIR] [--out FILE]
                                                  [--batch B] [--backend NAME]
  --data DIR     data set (default data/clipart-kp, in the repository)
  --train N      train items (default 256)
  --batch B      samples per optimizer step (default 16, the presets'; K ranks split it by sample)
  --backend B    backend of every rank (default wasm: the CPU path whose scaling this measures)
  --steps S      timed optimizer steps per run (default 12)
  --warmup W     untimed steps first (default 2)
  --workers L    worker counts (default 1,2)
  --rounds R     alternating rounds (default 2); the best round of each (preset, K) is reported, all are listed
  --cache DIR    feature cache (default: a temporary folder; the first run encodes N images)
  --out FILE     also write the JSON there`;

const { values } = scriptArgs(
  fileURLToPath(import.meta.url),
  {
    options: {
      data: { type: 'string' },
      train: { type: 'string' },
      steps: { type: 'string' },
      warmup: { type: 'string' },
      workers: { type: 'string' },
      rounds: { type: 'string' },
      cache: { type: 'string' },
      out: { type: 'string' },
      batch: { type: 'string' },
      backend: { type: 'string' },
    },
  },
  USAGE,
);
const dataDir = resolve(values.data ?? 'data/clipart-kp');
const trainItems = Number(values.train ?? 256);
const steps = Number(values.steps ?? 12);
const warmup = Number(values.warmup ?? 2);
const counts = (values.workers ?? '1,2').split(',').map(Number);
const rounds = Number(values.rounds ?? 2);
const batchSize = Number(values.batch ?? 16);
const backend = (values.backend ?? 'wasm') as BackendRequest;
for (const [flag, n] of [
  ['--train', trainItems],
  ['--steps', steps],
  ['--warmup', warmup],
  ['--rounds', rounds],
  ['--batch', batchSize],
  ...counts.map((k) => ['--workers', k] as const),
] as const)
  if (!Number.isInteger(n) || n < (flag === '--warmup' ? 0 : 1)) {
    console.error(`bench-parallel: ${flag}: expected a positive integer, got ${n}\n${USAGE}`);
    process.exit(2);
  }
if (!(BACKEND_CHOICES as readonly string[]).includes(backend)) {
  console.error(`bench-parallel: --backend: expected one of ${BACKEND_CHOICES.join(', ')}, got ${backend}`);
  process.exit(2);
}
// Every timed step a full batch of the first epoch (the last batch of an epoch may be short).
if (Math.floor(trainItems / batchSize) < warmup + steps) {
  console.error(
    `bench-parallel: --train ${trainItems} holds ${Math.floor(trainItems / batchSize)} full batches of ${batchSize}; ${warmup} + ${steps} steps need --train ${(warmup + steps) * batchSize} or more`,
  );
  process.exit(2);
}
let backendPicked = '';
const root = mkdtempSync(join(tmpdir(), 'aimkp-bench-parallel-'));
const cacheDir = values.cache ? resolve(values.cache) : join(root, 'cache');
const log = (line: string) => process.stderr.write(line + '\n');

/** CPU ms of every thread of this process, by thread id (utime + stime; clock ticks of 10 ms). */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, (Number(fields[11]) + Number(fields[12])) * 10);
    } catch {
      /* the thread ended */
    }
  }
  return out;
}

interface Timed {
  preset: string;
  workers: number;
  round: number;
  samples: number;
  wallMs: number;
  samplesPerSec: number;
  cpuMsPerSample: number;
  busiestThreadMsPerSample: number;
  load1mStart: number;
  load1mEnd: number;
}

async function timeRun(preset: string, workers: number, round: number, maxSteps = warmup + steps): Promise<Timed> {
  const config = resolveConfig({ preset, flags: { epochs: 1, maxTrain: trainItems, seed: 1 } });
  config.maxValid = 0;
  config.checkpointEvery = 0;
  config.batchSize = batchSize;
  const runDir = join(root, `${preset}-k${workers}-r${round}`);
  let t0 = 0;
  let cpu0 = new Map<string, number>();
  let t1 = 0;
  let cpu1 = new Map<string, number>();
  let samples = 0;
  const load1mStart = loadavg()[0];
  await train({
    runDir,
    dataDir,
    config,
    cacheDir,
    workers,
    maxSteps,
    backend,
    onEvent: (e) => {
      if (e.type === 'run-start') backendPicked = e.backend.name;
      if (e.type !== 'step') return;
      const s = e as StepEvent;
      if (s.step === warmup) {
        t0 = performance.now();
        cpu0 = threadCpu();
      } else if (s.step > warmup) {
        samples += s.samples.length > 0 ? s.samples.length : config.batchSize;
        if (s.step === warmup + steps) {
          t1 = performance.now();
          cpu1 = threadCpu();
        }
      }
    },
  });
  rmSync(runDir, { recursive: true, force: true });
  const deltas = [...cpu1].map(([tid, ms]) => ms - (cpu0.get(tid) ?? 0));
  const wallMs = t1 - t0;
  return {
    preset,
    workers,
    round,
    samples,
    wallMs,
    samplesPerSec: (1000 * samples) / wallMs,
    cpuMsPerSample: deltas.reduce((a, b) => a + b, 0) / samples,
    busiestThreadMsPerSample: Math.max(...deltas) / samples,
    load1mStart,
    load1mEnd: loadavg()[0],
  };
}

try {
  log(
    `bench-parallel: ${dataDir}, ${trainItems} train items, batch ${batchSize}, ${warmup} + ${steps} steps, workers ${counts.join(', ')}, backend ${backend}`,
  );
  // Encode the images once (not timed): a 1-step run fills the cache.
  await timeRun('baseline', Math.max(...counts), 0, 1);
  const all: Timed[] = [];
  for (let round = 1; round <= rounds; round++)
    for (const preset of ['baseline', 'aimkp-no-warmup'])
      for (const k of round % 2 === 1 ? counts : [...counts].reverse()) {
        const t = await timeRun(preset, k, round);
        all.push(t);
        log(
          `  round ${round} ${preset} K=${k}: ${t.samplesPerSec.toFixed(2)} samples/s, CPU ${t.cpuMsPerSample.toFixed(1)} ms/sample (busiest thread ${t.busiestThreadMsPerSample.toFixed(1)}), load ${t.load1mStart.toFixed(2)}→${t.load1mEnd.toFixed(2)}`,
        );
      }
  const best = (preset: string, k: number) =>
    all.filter((t) => t.preset === preset && t.workers === k).sort((a, b) => b.samplesPerSec - a.samplesPerSec)[0];
  const summary = ['baseline', 'aimkp-no-warmup'].map((preset) => {
    const one = best(preset, counts[0]);
    return {
      preset,
      byWorkers: counts.map((k) => {
        const t = best(preset, k);
        return {
          workers: k,
          samplesPerSec: t.samplesPerSec,
          speedup: t.samplesPerSec / one.samplesPerSec,
          cpuMsPerSample: t.cpuMsPerSample,
          busiestThreadMsPerSample: t.busiestThreadMsPerSample,
          cpuBoundSpeedup: one.busiestThreadMsPerSample / t.busiestThreadMsPerSample,
          load1m: [t.load1mStart, t.load1mEnd],
        };
      }),
    };
  });
  const result = {
    benchmark: 'aimkp-bench-parallel-v1',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), node: process.version },
    setup: { dataDir, trainItems, batchSize, backend: backendPicked, warmupSteps: warmup, timedSteps: steps, rounds },
    summary,
    runs: all,
  };
  log('');
  log(
    '| preset | K | samples/s | speed-up | CPU ms/sample (all threads) | busiest thread ms/sample | CPU-bound speed-up | load 1 min |',
  );
  log('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const s of summary)
    for (const b of s.byWorkers)
      log(
        `| ${s.preset} | ${b.workers} | ${b.samplesPerSec.toFixed(2)} | ${b.speedup.toFixed(2)}× | ${b.cpuMsPerSample.toFixed(1)} | ${b.busiestThreadMsPerSample.toFixed(1)} | ${b.cpuBoundSpeedup.toFixed(2)}× | ${b.load1m.map((x) => x.toFixed(2)).join(' → ')} |`,
      );
  const text = JSON.stringify(result, null, 2);
  if (values.out) writeFileSync(values.out, text + '\n');
  console.log(text);
} finally {
  rmSync(root, { recursive: true, force: true });
}
