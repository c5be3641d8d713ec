// End to end on a tiny run trained inside the test: predict → eval --run (both conventions, repeats) →
// report → compare → robustness, with cross-checks between the commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { loadDataset } from '../../models/data/load-dataset';
import { resolveConfig } from '../../models/train/config-resolve';
import { train } from '../../models/train/trainer';
import { predictCommand } from '../../models/cli/commands/predict';
import { evalRunCommand } from '../../models/cli/commands/eval-run';
import { reportCommand } from '../../models/cli/commands/report';
import { compareCommand } from '../../models/cli/commands/compare';
import { robustnessCommand } from '../../models/cli/commands/robustness';
import { readPredictionFile } from '../../models/evaluate/prediction-file';
import { readMetricsFile } from '../../models/evaluate/metrics-file';
import { scoreRepeats } from '../../models/evaluate/score-predictions';
import type { RobustnessReport } from '../../models/evaluate/robustness';
import { tempDir } from '../fixtures/temp-dirs';

const root = tempDir('aimkp-eval-e2e-');
const data = join(root, 'data');
const run = join(root, 'run');

/** Runs a command with stdout captured (stderr silenced); returns [exit code, printed lines]. */
async function capture(fn: () => Promise<number>): Promise<[number, string]> {
  const out: string[] = [];
  const log = console.log;
  const write = process.stderr.write.bind(process.stderr);
  console.log = (s: string) => out.push(s);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    return [await fn(), out.join('\n')];
  } finally {
    console.log = log;
    process.stderr.write = write;
  }
}

test('predict, eval --run, report, compare and robustness on a tiny trained run', async () => {
  await buildSynthDataset({ n: 40, seed: 7, out: data });
  const config = resolveConfig({ preset: 'baseline', flags: { epochs: 1, encoder: 'patch:3:4', seed: 2 } });
  config.model = { dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16, dropout: 0, lora: null };
  config.batchSize = 8;
  config.samplesPerCall = 8;
  config.maxValid = 4;
  config.checkpointEvery = 0;
  await train({ runDir: run, dataDir: data, config });
  const testItems = (await loadDataset(data, { splits: ['test'], checkImages: false })).items.slice(0, 6);
  const N = testItems.length;
  assert.ok(N >= 3, `the synthetic test split has ${N} items`);

  // predict: greedy is deterministic; beam-sample writes one list per repeat; gold comes from the manifest.
  const greedyFile = join(run, 'predictions', 'test.multimodal.greedy.jsonl');
  assert.equal((await capture(() => predictCommand(['--run', run, '--decode', 'greedy', '--limit', '6'])))[0], 0);
  const greedy = readPredictionFile(greedyFile);
  assert.deepEqual(greedy.issues, []);
  assert.deepEqual(
    greedy.records.map((r) => r.id),
    testItems.map((i) => i.id),
  );
  assert.deepEqual(
    greedy.records.map((r) => r.gold),
    testItems.map((i) => i.keyphrases),
  );
  assert.equal(greedy.repeats, 1);
  const again = join(root, 'again.jsonl');
  await capture(() => predictCommand(['--run', run, '--decode', 'greedy', '--limit', '6', '--out', again]));
  assert.deepEqual(readPredictionFile(again).records, greedy.records);

  await capture(() =>
    predictCommand(['--run', run, '--mode', 'text', '--repeats', '2', '--limit', '6', '--max-new', '6']),
  );
  const sampled = readPredictionFile(join(run, 'predictions', 'test.text.beam-sample.jsonl'));
  assert.equal(sampled.repeats, 2);
  assert.equal(sampled.records.length, N);

  // eval --run: three modes, metrics files whose scores are the per-repeat means of the predictions.
  const [code, table] = await capture(() => evalRunCommand(['--run', run, '--decode', 'greedy', '--limit', '6']));
  assert.equal(code, 0);
  assert.match(table, new RegExp(`\\| multimodal \\| ${N} \\|`));
  assert.match(table, /AimKP F1@1 .* CMKP F1@1/);
  for (const mode of ['multimodal', 'text', 'image'] as const) {
    const m = readMetricsFile(join(run, 'metrics', `test.${mode}.greedy.json`));
    assert.ok(m, mode);
    const recs = readPredictionFile(join(run, 'predictions', `test.${mode}.greedy.jsonl`)).records;
    const s = scoreRepeats(recs);
    assert.deepEqual(m.aimkp, s.aimkp);
    assert.deepEqual(m.cmkp, s.cmkp);
    assert.equal(m.n, N);
    assert.equal(m.decode, 'greedy');
  }
  // The same decoding as `predict` gave the same predictions.
  assert.deepEqual(readPredictionFile(greedyFile).records, greedy.records);

  // --reuse scores the text-mode beam-sample file (2 repeats) without decoding.
  await capture(() => evalRunCommand(['--run', run, '--modes', 'text', '--reuse', '--max-new', '6']));
  const reused = readMetricsFile(join(run, 'metrics', 'test.text.beam-sample.json'))!;
  assert.equal(reused.repeats, 2);
  assert.deepEqual(reused.aimkpPerRepeat, scoreRepeats(sampled.records).aimkpPerRepeat);

  // report: one preset, one seed, no std.
  const [, md] = await capture(() => reportCommand([run, '--decode', 'greedy']));
  assert.match(md, /\| baseline \| 1 \| 2 \|/);

  // compare a run with itself: every case ties.
  const [, cmp] = await capture(() => compareCommand([run, run, '--data', data, '--decode', 'greedy', '--json']));
  const c = JSON.parse(cmp);
  assert.equal(c.summary.common, N);
  assert.equal(c.summary.ties, N);

  // robustness: the clean and text-only conditions decode exactly as eval's greedy multimodal / text modes.
  const [rc] = await capture(() =>
    robustnessCommand([
      '--run',
      run,
      '--limit',
      '6',
      '--ratios',
      '0,0.5',
      '--strides',
      '2',
      '--sigmas',
      '0,1',
      '--batch',
      '8',
    ]),
  );
  assert.equal(rc, 0);
  const rob = JSON.parse(readFileSync(join(run, 'robustness', 'test.json'), 'utf8')) as RobustnessReport;
  assert.ok(existsSync(join(run, 'robustness', 'test.md')));
  const byName = new Map(rob.conditions.map((x) => [x.name, x]));
  assert.equal(rob.conditions.length, 11);
  const mm = readMetricsFile(join(run, 'metrics', 'test.multimodal.greedy.json'))!;
  const tx = readMetricsFile(join(run, 'metrics', 'test.text.greedy.json'))!;
  for (const k of ['f1@1', 'f1@3', 'map@5'] as const) {
    assert.equal(byName.get('clean')!.aimkp[k], mm.aimkp[k], `clean ${k}`);
    assert.equal(byName.get('image-noise@0')!.aimkp[k], mm.aimkp[k], `noise σ=0 ${k}`);
    assert.equal(byName.get('text-only')!.aimkp[k], tx.aimkp[k], `text-only ${k}`);
  }
});
