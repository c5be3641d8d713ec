import { existsSync } from 'node:fs';
import { backendFlag, intFlag, parseCommandArgs } from '../args';
import { writeFileAtomicSync as writeFileAtomic } from '../../fs/atomic-write';
import { runBench } from '../../bench/run-bench';
import { BACKEND_CHOICES, initBackend } from '../../tf/backend';

const USAGE = `Usage: aimkp bench [--quick] [--out FILE] [--data DIR] [--seed N] [--backend B]

Measures on this machine and prints ONE JSON object (progress goes to stderr):
  - machine: CPU model and cores, clock, vector extensions, Node version, TF.js backend;
  - ms per training sample of the baseline step, of the AimKP warm-up step (strides 1) and of the AimKP step
    with masked rows at strides 2/2 (per-row gradients + cosine filter), each including the AdamW update;
  - the AimKP / baseline epoch-time ratios (per masked epoch, averaged over a 4-epoch run, and a 4-epoch AimKP
    run against a 6-epoch baseline run);
  - achieved GFLOP/s of the training step (analytic matmul FLOPs) against the measured tf.matMul peak and the
    CPU's theoretical FP32 peak;
  - ms per test case for greedy and beam-5 decoding (40 new tokens).
The default model is the presets' model (d=128, 2 layers) on MobileNetV2's 7×7×1792 image tokens; row shapes
come from data/clipart-kp when it exists (synthetic image features), else synthetic rows.

Options:
  --quick       tiny model, few rows: a smoke run (seconds); numbers are not meaningful
  --out FILE    also write the JSON to FILE
  --data DIR    data set for the row shapes (default data/clipart-kp)
  --seed N      default 1
  --backend B   ${BACKEND_CHOICES.join(' | ')} (default auto, or env AIMKP_BACKEND)

Example:
  npm run bench -- --out bench.json

See docs/benchmarks.md.`;

export async function benchCommand(argv: string[]): Promise<number> {
  // Before parsing, so that `--run --help` (a flag missing its value) still shows the usage.
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  const { values } = parseCommandArgs('bench', argv, {
    help: { type: 'boolean', short: 'h' },
    quick: { type: 'boolean' },
    out: { type: 'string' },
    data: { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
  });
  if (values.help === true) {
    console.log(USAGE);
    return 0;
  }
  // Picked before the bench starts (runBench's own initBackend() then returns this choice).
  await initBackend(backendFlag('bench', values.backend));
  const dataDir = values.data ?? (existsSync('data/clipart-kp/manifest.jsonl') ? 'data/clipart-kp' : null);
  const result = await runBench({
    quick: values.quick === true,
    dataDir,
    seed: intFlag('bench', values.seed, 'seed', 1),
    log: (line) => console.error(line),
  });
  const text = JSON.stringify(result, null, 2);
  if (values.out) writeFileAtomic(values.out, text + '\n');
  console.log(text);
  return 0;
}
