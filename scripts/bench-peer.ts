// `npm run bench:peer`: our `aimkp bench` and the PyTorch peer (../shared/peer/torch_step.py, the same model on the
// same row shapes) interleaved, round after round, each pinned to the same core, with the 1-minute load average
// beside every run; prints the ratios and the BLAS torch actually loaded. Not part of CI (it needs python3-torch and
// a quiet machine). docs/benchmarks.md, "Against PyTorch", has how to read it.
//
//   npm run bench:peer -- [--rounds 3] [--core 0] [--native both|on|off] [--peer FILE] [--python FILE] [--out FILE]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchRows } from '../models/bench/bench-rows';
import { getPreset } from '../models/train/presets';
import { scriptArgs } from './lib/script-args';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');

const USAGE = `Usage: npm run bench:peer -- [--rounds 3] [--core 0] [--native both|on|off] [--peer FILE] [--python FILE] [--out FILE]
  --rounds R    interleaved rounds (default 3)
  --core C      the CPU every run is pinned to with taskset (default 0)
  --native M    ours with the native matmuls on, off (plain wasm) or both (default)
  --peer FILE   the PyTorch peer (default ../shared/peer/torch_step.py)
  --python FILE the interpreter with torch (default /usr/bin/python3: Debian's python3-torch)
  --out FILE    also write the JSON there
Needs python3-torch and libopenblas0-pthread (apt-get install -y python3-torch libopenblas0-pthread) and a quiet machine.`;

const { values } = scriptArgs(
  fileURLToPath(import.meta.url),
  {
    options: {
      rounds: { type: 'string', default: '3' },
      core: { type: 'string', default: '0' },
      native: { type: 'string', default: 'both' },
      peer: { type: 'string', default: join(root, '..', 'shared', 'peer', 'torch_step.py') },
      python: { type: 'string', default: '/usr/bin/python3' },
      out: { type: 'string' },
    },
  },
  USAGE,
);

function fail(message: string): never {
  console.error(`bench:peer: ${message}`);
  process.exit(2);
}

const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) fail(`--rounds ${values.rounds}: expected a positive integer`);
const core = values.core;
if (!/^\d+$/.test(core)) fail(`--core ${core}: expected a CPU number`);
const nativeModes = values.native === 'both' ? ['on', 'off'] : [values.native];
if (!nativeModes.every((m) => m === 'on' || m === 'off')) fail(`--native ${values.native}: expected both, on or off`);
if (!existsSync(values.peer)) fail(`--peer ${values.peer}: no such file (the PyTorch peer, torch_step.py)`);
if (!existsSync(values.python)) fail(`--python ${values.python}: no such file`);
const taskset = spawnSync('taskset', ['--version'], { encoding: 'utf8' });
if (taskset.error) fail('taskset (util-linux) is needed to pin both sides to one core');

/** The peer's README: one OpenBLAS thread, glibc malloc kept from mapping and unmapping every large tensor. */
const PEER_ENV = {
  OPENBLAS_NUM_THREADS: '1',
  MALLOC_MMAP_THRESHOLD_: '67108864',
  MALLOC_TRIM_THRESHOLD_: '268435456',
};

const load = (): number => Math.round(loadavg()[0] * 100) / 100;

/** Text and answer token counts of the bench's 16 rows (same data, preset and caps as models/bench/run-bench.ts). */
async function rowLengths(): Promise<{ text: number[]; answer: number[]; source: string }> {
  const preset = getPreset('aimkp');
  if (!preset) fail('the aimkp preset is missing');
  const dataDir = existsSync(join(root, 'data', 'clipart-kp', 'manifest.jsonl'))
    ? join(root, 'data', 'clipart-kp')
    : null;
  const rows = await benchRows({
    dataDir,
    count: preset.batchSize,
    grid: 7,
    channels: 1792,
    maxTextTokens: preset.maxTextTokens,
    maxAnswerTokens: preset.maxAnswerTokens,
    synthetic: { vocabSize: 8000, textTokens: 24, answerTokens: 10 },
    seed: 1,
  });
  return {
    text: rows.examples.map((e) => e.text.length),
    answer: rows.examples.map((e) => e.answer.length),
    source: rows.source,
  };
}

/** Which BLAS torch's process has mapped after a product (the reference libblas is 13× slower than OpenBLAS). */
function torchBlas(): { torch: string; blasLibraries: string[]; openblasCore: string | null } {
  const probe = `
import torch, ctypes, json
a = torch.randn(64, 64); (a @ a).sum().item()
libs = sorted({l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l.lower() and '/' in l})
core = None
for l in libs:
    try:
        f = ctypes.CDLL(l).openblas_get_corename; f.restype = ctypes.c_char_p; core = f().decode(); break
    except Exception: pass
print(json.dumps({'torch': torch.__version__, 'blasLibraries': libs, 'openblasCore': core}))`;
  const r = spawnSync(values.python, ['-c', probe], { encoding: 'utf8', env: { ...process.env, ...PEER_ENV } });
  if (r.status !== 0) fail(`${values.python} cannot import torch (apt-get install python3-torch): ${r.stderr.trim()}`);
  return JSON.parse(r.stdout.trim()) as { torch: string; blasLibraries: string[]; openblasCore: string | null };
}

interface OursRun {
  native: string;
  backend: string;
  baseline: number;
  aimkpMasked: number;
  loadBefore: number;
  loadAfter: number;
}
interface PeerRun {
  baseline: number;
  aimkpReleased: number;
  loadBefore: number;
  loadAfter: number;
}

function runOurs(native: string, scratch: string): OursRun {
  const out = join(scratch, `bench-${native}.json`);
  const loadBefore = load();
  const r = spawnSync(
    'taskset',
    ['-c', core, process.execPath, join(root, 'bin', 'aimkp.mjs'), 'bench', '--out', out],
    {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, AIMKP_NATIVE_MATMUL: native, AIMKP_BACKEND: 'wasm' },
      maxBuffer: 64 * 2 ** 20,
    },
  );
  if (r.status !== 0) fail(`aimkp bench (native ${native}) exited ${r.status}:\n${r.stderr.slice(-3000)}`);
  const bench = JSON.parse(readFileSync(out, 'utf8')) as {
    machine: { backend: string };
    train: { baseline: { msPerSample: number }; aimkpMasked: { msPerSample: number } };
  };
  return {
    native,
    backend: bench.machine.backend,
    baseline: bench.train.baseline.msPerSample,
    aimkpMasked: bench.train.aimkpMasked.msPerSample,
    loadBefore,
    loadAfter: load(),
  };
}

function runPeer(lengths: { text: number[]; answer: number[] }): PeerRun {
  const loadBefore = load();
  const r = spawnSync(
    'taskset',
    ['-c', core, values.python, values.peer, '1', lengths.text.join(','), lengths.answer.join(',')],
    { encoding: 'utf8', env: { ...process.env, ...PEER_ENV } },
  );
  if (r.status !== 0) fail(`torch_step.py exited ${r.status}:\n${r.stderr.slice(-3000)}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  const res = JSON.parse(line) as {
    baseline: { msPerSample_median: number };
    aimkpReleased: { msPerSample_median: number };
  };
  return {
    baseline: res.baseline.msPerSample_median,
    aimkpReleased: res.aimkpReleased.msPerSample_median,
    loadBefore,
    loadAfter: load(),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f1 = (x: number): string => x.toFixed(1);

const lengths = await rowLengths();
const blas = torchBlas();
console.error(
  `bench:peer: rows ${lengths.source}; torch ${blas.torch}, BLAS ${blas.blasLibraries.join(', ') || 'none mapped'}`,
);
const scratch = mkdtempSync(join(tmpdir(), 'aimkp-bench-peer-'));
const ours: OursRun[] = [];
const peer: PeerRun[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    // Alternate who goes first, so a slow spell of the shared machine does not always hit the same side.
    const order = round % 2 === 1 ? ['peer', ...nativeModes] : [...nativeModes, 'peer'];
    for (const who of order) {
      if (who === 'peer') {
        const p = runPeer(lengths);
        peer.push(p);
        console.error(
          `round ${round} peer: baseline ${f1(p.baseline)}, AimKP loop ${f1(p.aimkpReleased)} ms/sample (load ${p.loadBefore} → ${p.loadAfter})`,
        );
      } else {
        const o = runOurs(who, scratch);
        ours.push(o);
        console.error(
          `round ${round} ours, native ${who}: baseline ${f1(o.baseline)}, AimKP masked ${f1(o.aimkpMasked)} ms/sample (load ${o.loadBefore} → ${o.loadAfter})`,
        );
      }
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const peerBaseline = median(peer.map((p) => p.baseline));
const peerLoop = median(peer.map((p) => p.aimkpReleased));
const summary = nativeModes.map((native) => {
  const runs = ours.filter((o) => o.native === native);
  const baseline = median(runs.map((o) => o.baseline));
  const aimkpMasked = median(runs.map((o) => o.aimkpMasked));
  return {
    native,
    backend: runs[0].backend,
    baseline,
    aimkpMasked,
    baselineVsPeer: baseline / peerBaseline,
    aimkpVsPeerLoop: aimkpMasked / peerLoop,
  };
});
const result = {
  benchmark: 'aimkp-bench-peer-v1',
  date: new Date().toISOString(),
  core: Number(core),
  rows: lengths,
  peer: { ...blas, env: PEER_ENV, baseline: peerBaseline, aimkpReleased: peerLoop, runs: peer },
  ours: { summary, runs: ours },
  goals: {
    baselineWithin2x: summary.map((s) => ({ native: s.native, value: s.baselineVsPeer, met: s.baselineVsPeer <= 2 })),
    aimkpWithin1_5xOfLoop: summary.map((s) => ({
      native: s.native,
      value: s.aimkpVsPeerLoop,
      met: s.aimkpVsPeerLoop <= 1.5,
    })),
  },
};
console.log(
  `| ms/sample, median of ${rounds} (core ${core}) | baseline | ratio to peer | AimKP step | ratio to peer loop |`,
);
console.log('|---|---:|---:|---:|---:|');
console.log(
  `| PyTorch ${blas.torch} (${blas.blasLibraries.map((l) => l.split('/').slice(-2).join('/')).join(', ')}) | ${f1(peerBaseline)} | 1 | ${f1(peerLoop)} (per-sample loop) | 1 |`,
);
for (const s of summary)
  console.log(
    `| ours, native matmul ${s.native} | ${f1(s.baseline)} | ${s.baselineVsPeer.toFixed(2)} | ${f1(s.aimkpMasked)} (masked) | ${s.aimkpVsPeerLoop.toFixed(2)} |`,
  );
if (values.out) writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result));
