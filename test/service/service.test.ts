// The service end to end through the contract (typed client → local transport → dispatch with response
// validation → handlers → supervisor → worker threads → core), on a synthetic data set imported as a job and
// two real tiny trainings: every answer must match its response schema.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ApiClient } from '../../shared/contract/client';
import type { ServiceEvent } from '../../shared/contract/events';
import type { Service } from '../../electron/service/create-service';
import { RunSeries } from '../../shared/run-series';
import { tempDir } from '../fixtures/temp-dirs';
import { openService, TINY_RUN_OVERRIDES as TINY } from './fixtures';

let root: string;
let service: Service;
let api: ApiClient;
before(() => {
  root = tempDir('aimkp-service-');
  ({ service, api } = openService(join(root, 'ws')));
});
after(() => service?.close());

async function waitJob(jobId: string): Promise<void> {
  const job = await service.supervisor().waitForJob(jobId);
  assert.equal(job.state, 'completed', `${job.id}: ${JSON.stringify(job.error)}`);
}

test('system, presets and settings', async () => {
  const info = await api.call('system.info', {});
  assert.equal(info.host, 'browser');
  assert.ok(['wasm', 'cpu', 'tfjs-node', 'tfjs-node-gpu'].includes(info.backend.name), info.backend.name);
  assert.equal(info.workspace, join(root, 'ws'));
  const { presets } = await api.call('presets.list', {});
  assert.ok(presets.some((p) => p.name === 'aimkp') && presets.some((p) => p.name === 'baseline'));
  assert.deepEqual(await api.call('settings.set', { concurrency: 2 }), {
    workspace: join(root, 'ws'),
    backend: 'auto',
    concurrency: 2,
    workers: null,
  });
  assert.equal((await api.call('settings.get', {})).concurrency, 2);
  assert.equal((await api.call('settings.set', { workers: 2 })).workers, 2);
  assert.equal((await api.call('settings.set', { workers: null })).workers, null);
});

let datasetId = '';
test('a synthetic data set imported as a job: listed, Table 3 stats, items with present/absent marks', async () => {
  const started = await api.call('datasets.import', {
    name: 'Synth 40',
    source: { kind: 'synthetic', items: 40, seed: 5 },
  });
  datasetId = started.datasetId;
  assert.equal(datasetId, 'synth-40');
  assert.equal(started.stream, `job:${started.jobId}`);
  await waitJob(started.jobId);
  const jobEvents = await api.call('runs.events', { id: started.stream });
  assert.deepEqual(
    jobEvents.events.filter((e) => e.kind === 'job').map((e) => e.kind === 'job' && e.data.state),
    ['queued', 'running', 'completed'],
  );
  const { datasets } = await api.call('datasets.list', {});
  const ds = datasets.find((d) => d.id === datasetId)!;
  assert.deepEqual(ds.items, { train: 32, valid: 4, test: 4 });
  assert.equal(ds.kind, 'synthetic');
  const { stats } = await api.call('datasets.stats', { id: datasetId });
  assert.equal(stats.all.size, 40);
  const page = await api.call('datasets.items', { id: datasetId, split: 'test', limit: 3 });
  assert.equal(page.total, 4);
  assert.equal(page.items.length, 3);
  assert.ok(page.items.every((i) => i.image === null || i.image.startsWith('data:image/png;base64,')));
  assert.ok(
    page.items.some((i) => i.keyphrases.some((k) => k.present)) &&
      page.items.some((i) => i.keyphrases.some((k) => !k.present)),
    'synthetic items have present and absent keyphrases',
  );
  await assert.rejects(api.call('datasets.stats', { id: 'nope' }), /not found/);
});

let aimkpRun = '';
let baseRun = '';
test('runs: start two presets, stream events, list/get, rename, tag, evaluate, compare, report, predict, delete', async () => {
  const a = await api.call('runs.start', {
    preset: 'aimkp',
    dataset: datasetId,
    overrides: TINY,
    seeds: [3],
    name: 'tiny aimkp',
    tags: ['demo'],
  });
  const b = await api.call('runs.start', { preset: 'baseline', dataset: datasetId, overrides: TINY, seeds: [3] });
  aimkpRun = a.runs[0].id;
  baseRun = b.runs[0].id;
  assert.match(aimkpRun, /^aimkp-s3-\d{8}-\d{6}$/);

  const seen: ServiceEvent[] = [];
  const sub = api.subscribe(aimkpRun, 0, (batch) => seen.push(...batch.events));
  const listed = await api.call('runs.list', {});
  assert.ok(
    listed.runs.some((r) => r.id === aimkpRun && ['queued', 'running'].includes(r.status)),
    'a queued run is listed at once',
  );
  await waitJob(a.runs[0].jobId);
  await waitJob(b.runs[0].jobId);
  const got = await api.call('runs.get', { id: aimkpRun });
  for (let i = 0; i < 3000 && seen.length < got.run.lastSeq; i++) await new Promise((r) => setTimeout(r, 10));
  sub.close();
  assert.equal(got.run.status, 'completed');
  assert.equal(got.run.name, 'tiny aimkp');
  assert.deepEqual(got.run.tags, ['demo']);
  assert.equal(got.run.origin, 'app');
  assert.equal(got.run.step, 16);
  assert.equal(got.checkpoints.last?.step, 16);
  // patch:3:4 → a 3×3 grid: what Compare's masking preview draws for this run.
  assert.equal(got.imageGrid, 3);
  assert.equal(got.maxTextTokens, got.config.maxTextTokens);
  assert.deepEqual(
    seen.map((e) => e.seq),
    Array.from({ length: got.run.lastSeq }, (_, i) => i + 1),
    'subscription: every event once, in order',
  );
  assert.equal(
    (await api.call('runs.list', {})).runs.find((r) => r.id === aimkpRun)?.lastSeq,
    got.run.lastSeq,
    'runs.list gives the exact lastSeq',
  );

  const p1 = await api.call('runs.events', { id: aimkpRun, sinceSeq: 0, limit: 5 });
  assert.deepEqual(
    p1.events.map((e) => e.seq),
    [1, 2, 3, 4, 5],
  );
  assert.ok(p1.more);
  const rest = await api.call('runs.events', { id: aimkpRun, sinceSeq: 5, limit: 5000 });
  assert.equal(rest.more, false);
  assert.equal(rest.events.at(-1)!.seq, got.run.lastSeq);

  // runs.history = the renderer's own fold of every event, done on the server (numbers to 7 digits).
  const hist = await api.call('runs.history', { id: aimkpRun });
  assert.equal(hist.lastSeq, got.run.lastSeq);
  const fold = new RunSeries();
  // Job lines too: the run's stream carries its job's states, which both folds keep (issue 16).
  fold.ingestBatch(seen.map((e) => (e.kind === 'job' ? { type: 'job' as const, time: e.time, data: e.data } : e.data)));
  const want = fold.snapshot(got.run.lastSeq);
  assert.deepEqual(hist.steps.step, want.steps.step);
  assert.equal(hist.steps.step.length, 16);
  for (const k of ['loss', 'lossOriginal', 'lossText', 'lossImage', 'cosText', 'cosImage'] as const) {
    hist.steps[k].forEach((v, i) => {
      const w = want.steps[k][i];
      assert.ok(
        v === w || (v !== null && w !== null && Math.abs(v - w) <= 1e-6 * Math.abs(w)),
        `${k}[${i}]: ${v} vs ${w}`,
      );
    });
  }
  assert.deepEqual(hist.epochs, want.epochs);
  assert.deepEqual(hist.cosine, want.cosine);
  assert.deepEqual(hist.log, want.log);
  assert.equal((hist.end as { status?: string } | null)?.status, 'completed');
  await assert.rejects(api.call('runs.history', { id: 'no-such-run' }), /no such run/);

  assert.equal((await api.call('runs.rename', { id: baseRun, name: 'the baseline' })).run.name, 'the baseline');
  assert.deepEqual((await api.call('runs.tag', { id: baseRun, add: ['x', 'y'], remove: ['x'] })).run.tags, ['y']);
  assert.deepEqual(
    (await api.call('runs.list', { tag: 'y' })).runs.map((r) => r.id),
    [baseRun],
  );

  for (const id of [aimkpRun, baseRun]) {
    const ev = await api.call('runs.evaluate', { id, modes: ['multimodal', 'text'], decode: { strategy: 'greedy' } });
    await waitJob(ev.jobId);
  }
  const after = await api.call('runs.get', { id: aimkpRun });
  assert.deepEqual(after.metrics.map((m) => `${m.split}.${m.mode}.${m.decode}`).sort(), [
    'test.multimodal.greedy',
    'test.text.greedy',
  ]);
  assert.deepEqual(after.run.test.map((t) => t.mode).sort(), ['multimodal', 'text']);

  const cmp = await api.call('compare.cases', { baseline: baseRun, other: aimkpRun, decode: 'greedy', limit: 2 });
  assert.equal(cmp.summary.common, 4);
  assert.equal(cmp.summary.wins + cmp.summary.losses + cmp.summary.ties, 4);
  assert.equal(cmp.total, 4);
  assert.equal(cmp.cases.length, 2);
  for (const cs of cmp.cases) assert.ok(Math.abs(cs.diff - (cs.other['f1@3'] - cs.baseline['f1@3'])) < 1e-12);
  const sorted = await api.call('compare.cases', {
    baseline: baseRun,
    other: aimkpRun,
    decode: 'greedy',
    sort: 'diff-desc',
  });
  for (let i = 1; i < sorted.cases.length; i++) assert.ok(sorted.cases[i - 1].diff >= sorted.cases[i].diff);
  const wins = await api.call('compare.cases', {
    baseline: baseRun,
    other: aimkpRun,
    decode: 'greedy',
    filter: 'wins',
  });
  assert.equal(wins.total, cmp.summary.wins);

  const report = await api.call('report.table', {
    runs: [aimkpRun, baseRun],
    decode: 'greedy',
    modes: ['multimodal'],
    format: 'csv',
  });
  assert.deepEqual(report.groups.map((g) => g.preset).sort(), ['aimkp', 'baseline']);
  assert.ok(report.text.includes('aimkp'));

  const items = await api.call('datasets.items', { id: datasetId, split: 'test', limit: 1 });
  const pred = await api.call('predict.case', {
    runIds: [aimkpRun, baseRun],
    input: { kind: 'item', dataset: datasetId, itemId: items.items[0].id },
  });
  assert.deepEqual(
    pred.gold,
    items.items[0].keyphrases.map((k) => k.phrase),
  );
  assert.deepEqual(
    pred.results.map((r) => r.runId),
    [aimkpRun, baseRun],
  );
  assert.ok(pred.results.every((r) => r.error === null && r.ms > 0));
  // The same prediction through the test split's predictions file (greedy, multimodal).
  const file = await api.call('compare.cases', {
    baseline: baseRun,
    other: aimkpRun,
    decode: 'greedy',
    search: items.items[0].id,
  });
  const caseRow = file.cases.find((c) => c.id === items.items[0].id)!;
  assert.deepEqual(
    pred.results[0].keyphrases,
    caseRow.other.predictions.map((p) => p.phrase),
  );
  // The prediction worker stays up with the models loaded; the same request gives the same answer.
  assert.equal(service.supervisor().predictor.running, true);
  const again = await api.call('predict.case', {
    runIds: [aimkpRun, baseRun],
    input: { kind: 'item', dataset: datasetId, itemId: items.items[0].id },
  });
  assert.deepEqual(
    again.results.map((r) => r.keyphrases),
    pred.results.map((r) => r.keyphrases),
  );
  // The robustness conditions on this one case: clean = the plain prediction, text-only = mode text, the swaps
  // use the next item of the split with an image; hits and F1@3 are scored against the gold.
  const withConditions = await api.call('predict.case', {
    runIds: [aimkpRun, baseRun],
    input: { kind: 'item', dataset: datasetId, itemId: items.items[0].id },
    conditions: true,
  });
  const testItems = (await api.call('datasets.items', { id: datasetId, split: 'test', limit: 10 })).items;
  const donorWanted = testItems.slice(1).find((i) => i.image !== null)?.id;
  assert.deepEqual(withConditions.donor, { itemId: donorWanted });
  const textOnly = await api.call('predict.case', {
    runIds: [aimkpRun, baseRun],
    input: { kind: 'item', dataset: datasetId, itemId: items.items[0].id },
    mode: 'text',
  });
  withConditions.results.forEach((r, k) => {
    const conds = r.conditions!;
    assert.deepEqual(conds.map((x) => x.name).slice(0, 2), ['clean', 'image-mask@0.25']);
    for (const name of [
      'text-only',
      'image-only',
      'image-swap',
      'text-swap',
      'image-noise@1',
      'image-stride@2',
      'text-stride@2',
    ])
      assert.ok(
        conds.some((x) => x.name === name),
        name,
      );
    assert.deepEqual(
      conds.find((x) => x.name === 'clean')!.keyphrases,
      pred.results[k].keyphrases,
      'clean = the plain greedy prediction',
    );
    assert.deepEqual(
      conds.find((x) => x.name === 'text-only')!.keyphrases,
      textOnly.results[k].keyphrases,
      'text-only = mode text',
    );
    for (const x of conds) {
      assert.equal(x.hits!.length, x.keyphrases.length);
      assert.ok(x.f1at3! >= 0 && x.f1at3! <= 1);
    }
  });
  const clean0 = withConditions.results[0].conditions!.find((x) => x.name === 'clean')!;
  assert.deepEqual(
    clean0.hits,
    caseRow.other.predictions.map((p) => p.hit),
    'hits as Compare marks them',
  );
  assert.equal(clean0.f1at3, caseRow.other['f1@3']);
  assert.equal(pred.results[0].conditions, undefined, 'no conditions unless asked');
  // An uploaded image (data: URL) and text work too.
  const png = items.items[0].image!;
  const upload = await api.call('predict.case', {
    runIds: [aimkpRun],
    input: { kind: 'upload', image: png, text: 'a post about the harbour' },
  });
  assert.equal(upload.gold, null);
  assert.equal(upload.results[0].error, null);
  // A prediction worker that dies fails the request in flight with the reason; the next request starts a new one.
  const inFlight = api.call('predict.case', {
    runIds: [aimkpRun, baseRun],
    input: { kind: 'item', dataset: datasetId, itemId: items.items[0].id },
  });
  while (service.supervisor().predictor.inFlight === 0) await new Promise((r) => setTimeout(r, 5));
  await service.supervisor().predictor.close();
  await assert.rejects(inFlight, (e: unknown) => (e as { code?: string }).code === 'WORKER_DIED');
  assert.deepEqual(
    (
      await api.call('predict.case', {
        runIds: [aimkpRun],
        input: { kind: 'item', dataset: datasetId, itemId: items.items[0].id },
      })
    ).results[0].keyphrases,
    pred.results[0].keyphrases,
  );

  const jobs = await api.call('jobs.list', {});
  assert.ok(jobs.jobs.length >= 5);
  assert.ok(jobs.jobs.every((j) => j.state === 'completed'));

  await api.call('runs.delete', { id: baseRun });
  await assert.rejects(api.call('runs.get', { id: baseRun }), /no such run/);
  await assert.rejects(api.call('runs.resume', { id: aimkpRun }), /already completed/);
});

test('runs.stop: a queued run is cancelled (answered as stopped, gone from the list); a running one stops resumable', async () => {
  await api.call('settings.set', { concurrency: 1 });
  const started = await api.call('runs.start', {
    preset: 'baseline',
    dataset: datasetId,
    overrides: { ...TINY, epochs: 20 },
    seeds: [7, 8],
  });
  const [first, second] = started.runs;
  const cancelled = await api.call('runs.stop', { id: second.id });
  assert.equal(cancelled.run.status, 'stopped');
  assert.ok(!(await api.call('runs.list', {})).runs.some((r) => r.id === second.id));
  for (let i = 0; i < 6000; i++) {
    const r = (await api.call('runs.list', {})).runs.find((x) => x.id === first.id);
    if (r && r.step >= 1) break;
    await new Promise((res) => setTimeout(res, 20));
  }
  await api.call('runs.stop', { id: first.id });
  assert.equal((await service.supervisor().waitForJob(first.jobId)).state, 'stopped');
  const got = await api.call('runs.get', { id: first.id });
  assert.equal(got.run.status, 'stopped');
  assert.equal(got.checkpoints.last?.step, got.run.step);
  assert.equal((await api.call('jobs.list', {})).jobs.find((j) => j.id === first.jobId)?.state, 'stopped');
});

test('settings.set { workspace } switches to another folder (new runs/, jobs) and back', async () => {
  const other = join(root, 'ws2');
  const s = await api.call('settings.set', { workspace: other });
  assert.equal(s.workspace, other);
  assert.equal((await api.call('system.info', {})).workspace, other);
  assert.deepEqual((await api.call('runs.list', {})).runs, []);
  assert.deepEqual((await api.call('jobs.list', {})).jobs, []);
  assert.equal((await api.call('settings.set', { workspace: join(root, 'ws') })).workspace, join(root, 'ws'));
  assert.ok(
    (await api.call('runs.list', {})).runs.some((r) => r.id === aimkpRun),
    'the first workspace’s runs are back',
  );
});
