// The embeddable core's evaluation surface (models/index.ts) on a tiny run trained here: evaluateRun and
// predictSplit agree with the files they write, one case predicted through Predictor equals the same item of a
// predicted split (by path and by bytes), compareRuns' rows, and stops fired from a timer (encoding, decoding).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { loadDataset } from '../../models/data/load-dataset';
import type { ManifestItem } from '../../models/data/manifest-types';
import { resolveConfig } from '../../models/train/config-resolve';
import { train } from '../../models/train/trainer';
import {
  compareRuns,
  evaluateRun,
  listPresets,
  predictSplit,
  Predictor,
  CoreError,
  VERSION,
  systemInfo,
  pageItems,
  describeDataset,
  importManifestFolder,
  importSynthetic,
  runRobustness,
  predictCase,
} from '../../models/index';
import { readPredictionFile, type PredictionRecord } from '../../models/evaluate/prediction-file';
import { readMetricsFile } from '../../models/evaluate/metrics-file';
import { scoreRepeats } from '../../models/evaluate/score-predictions';
import { encodeRunSplit, openRun } from '../../models/evaluate/open-run';
import { predictExamples } from '../../models/evaluate/predict-run';
import { GREEDY_DECODE } from '../../models/evaluate/decode-settings';
import { encodeImages } from '../../models/vision/feature-cache';
import { PatchEncoder } from '../../models/vision/patch-encoder';
import type { ImageEncoder } from '../../models/vision/image-encoder';
import type { ProgressEvent } from '../../shared/training-events';
import { predictCommand } from '../../models/cli/commands/predict';

const root = mkdtempSync(join(tmpdir(), 'aimkp-core-api-'));
const data = join(root, 'data');
const run = join(root, 'run');
let testItems: ManifestItem[] = [];
after(() => rmSync(root, { recursive: true, force: true }));

before(async () => {
  await buildSynthDataset({ n: 60, seed: 11, out: data });
  const config = resolveConfig({ preset: 'baseline', flags: { epochs: 1, encoder: 'patch:3:4', seed: 4 } });
  config.model = {
    ...config.model,
    dModel: 16,
    nLayers: 1,
    nHeads: 2,
    dFF: 32,
    adapterHidden: 16,
    dropout: 0,
    lora: null,
  };
  config.batchSize = 8;
  config.samplesPerCall = 8;
  config.maxValid = 4;
  config.checkpointEvery = 0;
  await train({ runDir: run, dataDir: data, config });
  testItems = (await loadDataset(data, { splits: ['test'], checkImages: false })).items;
});

test('evaluateRun: three modes, metrics = scores of the predictions written; typed progress phases in order', async () => {
  const events: ProgressEvent[] = [];
  const r = await evaluateRun({
    runDir: run,
    decode: { strategy: 'greedy' },
    limit: 5,
    onProgress: (e) => events.push(e),
  });
  assert.deepEqual(
    r.metrics.map((m) => m.mode),
    ['multimodal', 'text', 'image'],
  );
  for (const m of r.metrics) {
    const recs = readPredictionFile(join(run, 'predictions', `test.${m.mode}.greedy.jsonl`)).records;
    assert.equal(recs.length, 5);
    assert.deepEqual(m.aimkp, scoreRepeats(recs).aimkp);
    assert.deepEqual(readMetricsFile(join(run, 'metrics', `test.${m.mode}.greedy.json`))!.cmkp, m.cmkp);
  }
  // JSON-safe: a JSON round trip gives the same object (no Map, no typed array, no undefined field).
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
  const phases = events.map((e) => e.phase).filter((p, i, a) => p !== a[i - 1]);
  assert.deepEqual(phases, [
    'preparing',
    'encoding',
    'predicting',
    'evaluating',
    'predicting',
    'evaluating',
    'predicting',
    'evaluating',
    'done',
  ]);
  const enc = events.filter((e) => e.phase === 'encoding');
  assert.equal(enc[enc.length - 1].done, 5);
  assert.equal(enc[enc.length - 1].total, 5);
  assert.equal(enc[enc.length - 1].unit, 'images');
});

test('one case through Predictor (image path, image bytes) = that item in a predicted split; a timer-fired stop', async (t) => {
  const split = await predictSplit({
    runDir: run,
    decode: { strategy: 'greedy' },
    limit: 4,
    out: join(root, 'four.jsonl'),
  });
  assert.equal(split.items, 4);
  const predictor = await Predictor.open(run);
  try {
    const records = readPredictionFile(split.file).records;
    for (const [i, item] of testItems.slice(0, 4).entries()) {
      const byPath = await predictor.predict({ image: { path: join(data, item.image!) }, text: item.text });
      assert.deepEqual(byPath.keyphrases, records[i].predictions, item.id);
      assert.ok(byPath.ms >= byPath.imageMs && byPath.ms > 0);
      const byBytes = await predictor.predict({
        image: { bytes: readFileSync(join(data, item.image!)) },
        text: item.text,
      });
      assert.deepEqual(byBytes.keyphrases, byPath.keyphrases);
    }
    // Text-only mode ignores the image; repeats give one list each.
    const textOnly = await predictor.predict({
      image: null,
      text: testItems[0].text,
      mode: 'text',
      decode: { strategy: 'beam-sample', repeats: 2, beamSize: 2 },
    });
    assert.equal(textOnly.keyphrases.length, 2);
    // A stop fired from a timer while the case decodes (many repeats) ends it at the next repeat.
    const controller = new AbortController();
    let abortedAt = 0;
    setTimeout(() => {
      abortedAt = performance.now();
      controller.abort();
    }, 0);
    const slow = predictor.predict(
      {
        image: { path: join(data, testItems[0].image!) },
        text: testItems[0].text,
        decode: { strategy: 'beam-sample', repeats: 500, beamSize: 2 },
      },
      controller.signal,
    );
    await assert.rejects(slow, (e: unknown) => e instanceof CoreError && e.code === 'ABORTED');
    t.diagnostic(`one case: stopped ${(performance.now() - abortedAt).toFixed(1)} ms after the abort`);
    await assert.rejects(
      predictor.predict({ image: { bytes: new Uint8Array([1, 2, 3]) }, text: 'x' }),
      (e: unknown) => e instanceof CoreError && e.code === 'BAD_INPUT',
    );
    await assert.rejects(
      predictor.predict({ image: { path: 'relative.png' }, text: 'x' }),
      (e: unknown) => e instanceof CoreError && e.code === 'BAD_INPUT' && /absolute/.test(e.message),
    );
  } finally {
    predictor.dispose();
  }
});

// The fixtures of test/evaluate/compare.test.ts, with hand-computed per-case scores.
const A: PredictionRecord[] = [
  { id: 'c1', gold: ['aa', 'bb'], predictions: [['aa', 'bb']] }, // F1@1 ⅔ (P 1, R ½), F1@3 0.8, AP@5 1
  { id: 'c2', gold: ['cc'], predictions: [['dd']] }, // 0, 0, 0
  { id: 'c3', gold: ['ee'], predictions: [['ee']] }, // 1, 0.5, 1
  { id: 'c4', gold: ['ff'], predictions: [['ff']] }, // 1, 0.5, 1
];
const B: PredictionRecord[] = [
  { id: 'c2', gold: ['cc'], predictions: [['cc']] },
  { id: 'c1', gold: ['aa', 'bb'], predictions: [['aa', 'xx']] }, // F1@3 0.4, AP@5 (1 + ½)/2 = 0.75
  { id: 'c3', gold: ['ee'], predictions: [['ee', 'zz']] },
  { id: 'c4', gold: ['ff'], predictions: [['qq']] },
];

test('compareRuns: per-case rows (gold, predictions, hits, F1@1/F1@3/AP@5, diff), filter, search, sort, page', async () => {
  const write = (name: string, recs: PredictionRecord[]) => {
    mkdirSync(join(root, name, 'predictions'), { recursive: true });
    writeFileSync(join(root, name, 'config.json'), JSON.stringify({ preset: name, seed: 1 }));
    writeFileSync(
      join(root, name, 'predictions', 'test.multimodal.greedy.jsonl'),
      recs.map((r) => JSON.stringify(r)).join('\n') + '\n',
    );
  };
  write('runA', A);
  write('runB', B);
  const base = { a: join(root, 'runA'), b: join(root, 'runB'), decode: 'greedy' as const };
  const all = await compareRuns(base);
  assert.equal(all.total, 4);
  const c1 = all.cases[0];
  assert.deepEqual(
    [c1.id, c1.gold, c1.predA, c1.predB, c1.hitsA, c1.hitsB],
    ['c1', ['aa', 'bb'], ['aa', 'bb'], ['aa', 'xx'], [true, true], [true, false]],
  );
  assert.ok(
    Math.abs(c1.scoresA['f1@1'] - 2 / 3) < 1e-12 &&
      Math.abs(c1.scoresA['f1@3'] - 0.8) < 1e-12 &&
      c1.scoresA['ap@5'] === 1,
  );
  assert.ok(Math.abs(c1.scoresB['f1@3'] - 0.4) < 1e-12 && Math.abs(c1.scoresB['ap@5'] - 0.75) < 1e-12);
  assert.ok(Math.abs(c1.diff - 0.4) < 1e-12);
  assert.deepEqual(
    all.cases.map((c) => c.outcome),
    ['A', 'B', 'tie', 'A'],
  );

  assert.deepEqual(
    (await compareRuns({ ...base, filter: 'ties' })).cases.map((c) => c.id),
    ['c3'],
  );
  assert.deepEqual(
    (await compareRuns({ ...base, sort: 'b-first' })).cases.map((c) => c.id),
    ['c2', 'c3', 'c1', 'c4'],
  );
  assert.deepEqual(
    (await compareRuns({ ...base, sort: 'a-first' })).cases.map((c) => c.id),
    ['c4', 'c1', 'c3', 'c2'],
  );
  const page = await compareRuns({ ...base, sort: 'a-first', offset: 1, limit: 2 });
  assert.deepEqual([page.total, page.offset, page.cases.map((c) => c.id)], [4, 1, ['c1', 'c3']]);
  const search = await compareRuns({ ...base, search: 'QQ' });
  assert.deepEqual([search.total, search.cases.map((c) => c.id)], [1, ['c4']]);
  assert.equal(search.summary.common, 4, 'the summary covers every case');
  await assert.rejects(
    compareRuns({ ...base, decode: 'beam' }),
    (e: unknown) => e instanceof CoreError && e.code === 'NOT_FOUND',
  );
});

test('decoding stops within one batch of an abort fired from a timer (predictExamples, predictSplit)', async (t) => {
  const opened = await openRun(run, 'best', () => undefined);
  try {
    const split = await encodeRunSplit(opened, data, 'test');
    // Many small batches: the same 6 items repeated, one per generate() call.
    const examples = Array.from({ length: 40 }, (_, i) => ({
      ...split.examples[i % split.examples.length],
      id: `x${i}`,
    }));
    const gold = examples.map(() => ['a']);
    const controller = new AbortController();
    let batches = 0;
    let atAbort = -1;
    let abortedAt = 0;
    // The timer is armed after the first batch so that it fires mid-decoding; the abort itself runs in the
    // timer's callback, as a stop request arriving from outside the job would.
    const pending = predictExamples(
      opened.model,
      opened.tokenizer,
      examples,
      gold,
      'multimodal',
      { ...GREEDY_DECODE, maxNewTokens: 8 },
      {
        batchSize: 1,
        signal: controller.signal,
        onBatch: () => {
          batches++;
          if (batches === 1)
            setTimeout(() => {
              atAbort = batches;
              abortedAt = performance.now();
              controller.abort();
            }, 5);
        },
      },
    );
    await assert.rejects(pending, (e: unknown) => e instanceof CoreError && e.code === 'ABORTED');
    const ms = performance.now() - abortedAt;
    assert.ok(atAbort >= 1 && atAbort < 40, `aborted mid-decoding (after batch ${atAbort})`);
    assert.ok(batches - atAbort <= 1, `${batches - atAbort} batch(es) decoded after the abort`);
    t.diagnostic(`decoding: ${batches - atAbort} batch(es) after the abort, stopped ${ms.toFixed(1)} ms after it`);
  } finally {
    opened.model.dispose();
  }

  // Through the API: the job reports 'stopped' and rejects with ABORTED.
  const controller = new AbortController();
  const events: ProgressEvent[] = [];
  const job = predictSplit({
    runDir: run,
    decode: { strategy: 'greedy' },
    batchSize: 1,
    out: join(root, 'stopped.jsonl'),
    signal: controller.signal,
    onProgress: (e) => {
      events.push(e);
      if (e.phase === 'predicting' && e.done === 0) setTimeout(() => controller.abort(), 1);
    },
  });
  await assert.rejects(job, (e: unknown) => e instanceof CoreError && e.code === 'ABORTED');
  assert.equal(events[events.length - 1].phase, 'stopped');
  assert.equal(events[events.length - 1].error?.code, 'ABORTED');
});

/** The patch encoder with MobileNet-like latency (~15 ms per image), so that a stop lands mid-job. */
class SlowEncoder implements ImageEncoder {
  private readonly inner = new PatchEncoder(3, 4);
  readonly id = 'slow-' + this.inner.id;
  readonly grid = this.inner.grid;
  readonly channels = this.inner.channels;
  async encodeFile(path: string): Promise<Float32Array> {
    await new Promise((r) => setTimeout(r, 15));
    return this.inner.encodeFile(path);
  }
  dispose(): void {}
}

test('image encoding stops within one image per worker of an abort fired from a timer', async (t) => {
  const items = (await loadDataset(data, { checkImages: false })).items.filter((i) => i.image !== null);
  const controller = new AbortController();
  let done = 0;
  let atAbort = -1;
  let abortedAt = 0;
  setTimeout(() => {
    atAbort = done;
    abortedAt = performance.now();
    controller.abort();
  }, 60);
  const concurrency = 2;
  await assert.rejects(
    encodeImages(new SlowEncoder(), data, items, {
      cacheDir: join(root, 'cache-abort'),
      concurrency,
      signal: controller.signal,
      onProgress: (p) => (done = p.done),
    }),
    (e: unknown) => e instanceof CoreError && e.code === 'ABORTED',
  );
  const ms = performance.now() - abortedAt;
  assert.ok(atAbort > 0 && atAbort < items.length, `aborted mid-encoding (${atAbort} of ${items.length})`);
  assert.ok(
    done - atAbort <= concurrency,
    `${done - atAbort} image(s) finished after the abort (in flight at most ${concurrency})`,
  );
  t.diagnostic(
    `encoding: ${done - atAbort} image(s) after the abort (concurrency ${concurrency}), stopped ${ms.toFixed(1)} ms after it`,
  );
});

test('presets, system info, data-set description and item pages', async () => {
  const presets = listPresets();
  const aimkp = presets.find((p) => p.name === 'aimkp')!;
  assert.ok(aimkp.description.length > 0 && /Table/.test(aimkp.paper) && aimkp.method === 'aimkp');
  assert.ok(
    presets.every((p) => p.description !== '' && p.paper !== ''),
    'every preset has a description and a paper reference',
  );
  const sys = await systemInfo();
  assert.equal(sys.versions.app, VERSION);
  assert.ok(sys.cpu.cores >= 1 && sys.backend.name !== '');
  const d = await describeDataset(data);
  assert.equal(d.stats.all.size, 60);
  const page = await pageItems({ dataDir: data, split: 'test', offset: 2, limit: 3 });
  assert.deepEqual(
    [page.total, page.items.map((i) => i.id)],
    [testItems.length, testItems.slice(2, 5).map((i) => i.id)],
  );
  assert.equal(page.items[0].image, join(data, testItems[2].image!));
  await assert.rejects(
    pageItems({ dataDir: 'data', limit: 3 }),
    (e: unknown) => e instanceof CoreError && e.code === 'BAD_INPUT',
  );
});

test('data-set import: a manifest folder is checked and copied (without its feature cache); a synthetic set is built', async () => {
  const copy = join(root, 'imported');
  assert.ok(existsSync(join(data, '.cache')), 'the source has a feature cache (written by the training in before())');
  const r = await importManifestFolder({ source: data, out: copy });
  assert.equal(r.dir, copy);
  assert.equal(r.summary.loaded, 60);
  assert.ok(existsSync(join(copy, 'manifest.jsonl')));
  assert.ok(!existsSync(join(copy, '.cache')), 'the feature cache stays behind');
  assert.deepEqual(
    (await pageItems({ dataDir: copy, limit: 500 })).items.map((i) => i.id),
    (await pageItems({ dataDir: data, limit: 500 })).items.map((i) => i.id),
  );
  await assert.rejects(
    importManifestFolder({ source: data, out: copy }),
    (e: unknown) => e instanceof CoreError && e.code === 'ALREADY_EXISTS',
  );
  await assert.rejects(
    importManifestFolder({ source: join(root, 'nothing'), out: null }),
    (e: unknown) => e instanceof CoreError && e.code === 'NOT_FOUND',
  );
  const synth = await importSynthetic({ n: 20, seed: 3, out: join(root, 'synth20') });
  assert.equal(synth.items, 20);
  await assert.rejects(
    importSynthetic({ n: 20, seed: 3, out: join(root, 'x'), noise: 2 }),
    (e: unknown) => e instanceof CoreError && e.code === 'BAD_INPUT',
  );
});

test('aimkp predict --text/--image: one case from the command line = the same case through the API', async () => {
  const item = testItems[1];
  const lines: string[] = [];
  const log = console.log;
  const write = process.stderr.write.bind(process.stderr);
  console.log = (x: string) => lines.push(x);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    assert.equal(
      await predictCommand(['--run', run, '--image', join(data, item.image!), '--text', item.text, '--json']),
      0,
    );
  } finally {
    console.log = log;
    process.stderr.write = write;
  }
  const cli = JSON.parse(lines.join('\n')) as { keyphrases: string[][]; decoding: { strategy: string } };
  const predictor = await Predictor.open(run);
  try {
    const api = await predictor.predict({ image: { path: join(data, item.image!) }, text: item.text });
    assert.deepEqual(cli.keyphrases, api.keyphrases);
    assert.equal(cli.decoding.strategy, 'greedy');
  } finally {
    predictor.dispose();
  }
});

test('robustness suite: a stop fired from a timer ends it within one batch; unstopped, clean = greedy multimodal eval', async (t) => {
  const controller = new AbortController();
  let conditionsDone = 0;
  let abortedAt = 0;
  const job = runRobustness({
    runDir: run,
    limit: 5,
    batchSize: 1,
    out: null,
    signal: controller.signal,
    onProgress: (e) => {
      if (e.phase !== 'robustness') return;
      conditionsDone = e.done ?? 0;
      if (e.done === 0)
        setTimeout(() => {
          abortedAt = performance.now();
          controller.abort();
        }, 0);
    },
  });
  await assert.rejects(job, (e: unknown) => e instanceof CoreError && e.code === 'ABORTED');
  assert.equal(conditionsDone, 0, 'no condition finished');
  t.diagnostic(`robustness: stopped ${(performance.now() - abortedAt).toFixed(1)} ms after the abort`);

  const full = await runRobustness({
    runDir: run,
    limit: 5,
    out: null,
    suite: { ratios: [0], strides: [], sigmas: [] },
  });
  const ev = await evaluateRun({
    runDir: run,
    decode: { strategy: 'greedy', maxNewTokens: 40 },
    limit: 5,
    modes: ['multimodal'],
  });
  const clean = full.report.conditions.find((c) => c.name === 'clean')!;
  for (const k of ['f1@1', 'f1@3', 'map@5'] as const) assert.equal(clean.aimkp[k], ev.metrics[0].aimkp[k], k);
});

test('predictSplit textStride 8 = the robustness suite\'s text-stride@8 condition (the premise benchmark\'s "text masked")', async () => {
  const suite = await runRobustness({
    runDir: run,
    limit: 5,
    out: null,
    suite: { ratios: [0], strides: [8], sigmas: [] },
  });
  const cond = suite.report.conditions.find((c) => c.name === 'text-stride@8')!;
  const out = join(root, 'text-masked.jsonl');
  const masked = await predictSplit({
    runDir: run,
    limit: 5,
    decode: { strategy: 'greedy', maxNewTokens: 40 },
    textStride: 8,
    out,
  });
  for (const k of ['f1@1', 'f1@3', 'map@5'] as const) assert.equal(masked.scores.aimkp[k], cond.aimkp[k], k);
  const whole = await predictSplit({ runDir: run, limit: 5, decode: { strategy: 'greedy', maxNewTokens: 40 }, out });
  const clean = suite.report.conditions.find((c) => c.name === 'clean')!;
  for (const k of ['f1@1', 'f1@3', 'map@5'] as const) assert.equal(whole.scores.aimkp[k], clean.aimkp[k], k);
});

test('no tensor outlives an evaluation job: evaluate, one case, robustness, a stopped prediction', async () => {
  const tf = await import('@tensorflow/tfjs');
  await evaluateRun({ runDir: run, decode: { strategy: 'greedy' }, limit: 2, modes: ['multimodal'] }); // warm-up
  const before = tf.memory().numTensors;
  await evaluateRun({ runDir: run, decode: { strategy: 'beam', beamSize: 2 }, limit: 3 });
  await predictCase({ runDir: run, image: { path: join(data, testItems[0].image!) }, text: testItems[0].text });
  await runRobustness({ runDir: run, limit: 3, out: null, suite: { ratios: [0.5], strides: [2], sigmas: [1] } });
  const controller = new AbortController();
  const stopped = predictSplit({
    runDir: run,
    decode: { strategy: 'greedy' },
    batchSize: 1,
    out: join(root, 'leak-stop.jsonl'),
    signal: controller.signal,
    onProgress: (e) => e.phase === 'predicting' && e.done === 0 && setTimeout(() => controller.abort(), 0),
  });
  await assert.rejects(stopped, (e: unknown) => e instanceof CoreError && e.code === 'ABORTED');
  assert.equal(tf.memory().numTensors, before);
});

test('bad options are refused before any work, with the field named', async () => {
  const refused = async (p: Promise<unknown>, field: string) =>
    assert.rejects(p, (e: unknown) => e instanceof CoreError && e.code === 'BAD_INPUT' && e.details?.field === field);
  await refused(evaluateRun({ runDir: run, split: 'dev' as never }), 'split');
  await refused(evaluateRun({ runDir: run, which: 'first' as never }), 'which');
  await refused(evaluateRun({ runDir: run, decode: { strategy: 'greedy', maxNewTokens: 0 } }), 'decode.maxNewTokens');
  await refused(evaluateRun({ runDir: run, batchSize: 0 }), 'batchSize');
  await refused(evaluateRun({ runDir: 'relative/run' }), 'runDir');
  await refused(runRobustness({ runDir: run, suite: { ratios: [2] } }), 'suite.ratios');
  await refused(predictSplit({ runDir: run, textStride: 0 }), 'textStride');
  await refused(predictSplit({ runDir: run, textStride: 2.5 }), 'textStride');
  await refused(compareRuns({ a: run, b: run, sort: 'random' as never }), 'sort');
  await assert.rejects(
    evaluateRun({ runDir: join(root, 'missing-run') }),
    (e: unknown) => e instanceof CoreError && e.code === 'NOT_FOUND',
  );
});
