// @vitest-environment node
// The Pinia stores against the real backend: the service of electron/service (supervisor, worker threads, core)
// behind the contract's in-process transport, on a workspace holding two runs made with `aimkp train` (global
// setup) and the bundled ClipArt-KP set.
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPinia, setActivePinia } from 'pinia';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createClient } from '@shared/contract/client';
import { createLocalTransport } from '@shared/contract/local-transport';
import { createService, type Service } from '../../electron/service/create-service';
import { PRESET_NAMES } from '../../models/train/presets';
import { isFinishedJobState } from '@shared/vocabulary';
import { api, setApi } from '../src/api/api';
import { useCaseConditions } from '../src/composables/use-case-conditions';
import { useCompareJobs } from '../src/composables/use-compare-jobs';
import { useCompareRobustness } from '../src/composables/use-compare-robustness';
import { followJob, newFollowedJob } from '../src/composables/use-job-follower';
import { useCompareStore } from '../src/stores/compare';
import { useDatasetsStore } from '../src/stores/datasets';
import { useLiveStore } from '../src/stores/live';
import { useRunsStore } from '../src/stores/runs';
import { useSystemStore } from '../src/stores/system';
import { readEvents } from './fixture-events';

const fixtures = inject('fixtureRuns');
const clipart = fileURLToPath(new URL('../../data/clipart-kp', import.meta.url));
let root = '';
let service: Service;

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'aimkp-ui-stores-'));
  cpSync(fixtures.aimkp, join(root, 'ws/runs/fx-aimkp'), { recursive: true });
  cpSync(fixtures.baseline, join(root, 'ws/runs/fx-baseline'), { recursive: true });
  // The runs' data set as a workspace data set, so their cases can be predicted by item (predict.case).
  cpSync(fixtures.data, join(root, 'ws/datasets/synth'), { recursive: true });
  service = createService({ workspace: join(root, 'ws'), host: 'browser', bundledDataDir: clipart, locatorFile: null });
  setApi(createClient(createLocalTransport(service.backend, { validateResponses: true }), { validateResponses: true }));
  setActivePinia(createPinia());
});

afterAll(async () => {
  useLiveStore().closeAll();
  useRunsStore().unwatch();
  await service?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('stores on the real service', () => {
  it('system: every preset with its paper reference, the backend and the settings', { timeout: 60_000 }, async () => {
    const system = useSystemStore();
    await system.load();
    expect(system.error).toBeNull();
    for (const name of PRESET_NAMES) expect(system.presetByName.get(name)?.paper, name).toMatch(/\S/);
    expect(system.info?.host).toBe('browser');
    expect(system.settings?.workspace).toBe(join(root, 'ws'));
  });

  it('runs: lists the runs made with aimkp train, with their best validation score', async () => {
    const runs = useRunsStore();
    await runs.load();
    const aimkp = runs.byId.get('fx-aimkp');
    expect(aimkp?.origin).toBe('cli');
    expect(aimkp?.status).toBe('completed');
    const lastEpoch = readEvents(fixtures.aimkp)
      .filter((e) => e.type === 'epoch-end')
      .at(-1);
    expect(lastEpoch?.type === 'epoch-end' && lastEpoch.best?.score).toBe(aimkp?.best?.score);
    expect(runs.byId.get('fx-baseline')?.method).toBe('standard');
  });

  it('live: a run opened from seq 0 holds every step and epoch of its events.jsonl', async () => {
    const live = useLiveStore();
    const stream = live.open('fx-aimkp');
    await until('replay done', () => stream.live);
    const file = readEvents(fixtures.aimkp);
    expect(stream.series.step).toEqual(
      file.filter((e) => e.type === 'step').map((e) => (e.type === 'step' ? e.step : 0)),
    );
    expect(stream.series.epochs).toHaveLength(3);
    expect(stream.lastSeq).toBe(file.length);
    expect(live.ticks['fx-aimkp']).toBeGreaterThan(0);
    expect(live.open('fx-aimkp')).toBe(stream); // idempotent
  });

  it('datasets: the bundled ClipArt-KP with its Table 3 numbers and pages of items', { timeout: 60_000 }, async () => {
    const ds = useDatasetsStore();
    await ds.load();
    const bundled = ds.list.find((d) => d.kind === 'bundled');
    expect(bundled?.readOnly).toBe(true);
    await ds.loadStats(bundled!.id);
    expect(ds.stats[bundled!.id].all.size).toBe(3182);
    await ds.loadItems(bundled!.id, { split: 'test', limit: 5, offset: 5 });
    expect(ds.items?.total).toBe(319);
    expect(ds.items?.items).toHaveLength(5);
    expect(ds.items?.items.every((i) => i.split === 'test')).toBe(true);
  });

  it(
    'datasets: a manifest folder with bad lines imports as a job and lists each problem with file and line',
    { timeout: 120_000 },
    async () => {
      const dir = join(root, 'manifest-in');
      mkdirSync(dir, { recursive: true });
      const good = (i: number, split: string) =>
        JSON.stringify({
          id: `m${i}`,
          split,
          text: `item ${i} about cats`,
          image: null,
          keyphrases: ['cat', `tag${i}`],
        });
      const lines = [
        good(1, 'train'),
        good(2, 'train'),
        good(3, 'train'),
        '{"id": "broken", ',
        good(4, 'valid'),
        JSON.stringify({ id: 'm5', split: 'test', text: 'no tags', image: null, keyphrases: [] }),
        good(6, 'test'),
        good(7, 'train'),
      ];
      writeFileSync(join(dir, 'manifest.jsonl'), lines.join('\n') + '\n');
      const ds = useDatasetsStore();
      const job = await ds.startImport('Manifest with problems', { kind: 'manifest', dir, copy: true });
      await until('import job ends', () => isFinishedJobState(job.state), 100_000);
      expect(job.error).toBeNull();
      expect(job.state).toBe('completed');
      await until(
        'the new set listed (the store reloads the list when the job ends)',
        () => ds.list.some((d) => d.id === job.datasetId),
        30_000,
      );
      await ds.loadIssues(job.datasetId);
      const lineNumbers = ds.issues!.issues.map((i) => i.line).sort((a, b) => a - b);
      expect(lineNumbers).toEqual([4, 6]); // the malformed line and the empty keyphrase list, 1-based
      expect(ds.issues!.issues.every((i) => i.file.endsWith('manifest.jsonl') && i.reason.length > 0)).toBe(true);
    },
  );

  it('compare: evaluates both runs as jobs, then pages, filters and steps through the cases', async () => {
    const runs = useRunsStore();
    for (const id of ['fx-baseline', 'fx-aimkp']) {
      const job = await runs.evaluate({ id, modes: ['multimodal'], decode: { strategy: 'greedy' } });
      const done = await service.supervisor().waitForJob(job.jobId);
      expect(done.state).toBe('completed');
    }
    const cmp = useCompareStore();
    cmp.query = { ...cmp.query, baseline: 'fx-baseline', other: 'fx-aimkp' };
    cmp.pageSize = 2;
    await cmp.load(0);
    expect(cmp.error).toBeNull();
    const s = cmp.summary!;
    expect(s.wins + s.losses + s.ties).toBe(s.common);
    expect(cmp.total).toBe(s.common);
    expect(cmp.cases).toHaveLength(Math.min(2, s.common));
    // Stepping past the page loads the next one; moves queue behind each other.
    await Promise.all([cmp.move(1), cmp.move(1)]);
    expect(cmp.offset + cmp.selected).toBe(Math.min(2, s.common - 1));
    const lastId = await (async () => {
      cmp.pageSize = 500;
      await cmp.load(0);
      return cmp.cases.at(-1)!.id;
    })();
    cmp.pageSize = 2;
    await cmp.load(0);
    expect(await cmp.selectId(lastId)).toBe(true);
    expect(cmp.current?.id).toBe(lastId);
    cmp.query = { ...cmp.query, filter: 'ties' };
    await cmp.load(0);
    expect(cmp.total).toBe(s.ties);
  }, 240_000);

  it('job follower: an evaluation followed to its end runs onEnd once; a stopped one reads stopped, not failed', async () => {
    const runs = useRunsStore();
    const started = await runs.evaluate({ id: 'fx-baseline', modes: ['text'], decode: { strategy: 'greedy' } });
    let ends = 0;
    const { job } = followJob(newFollowedJob(started.jobId, 'evaluate'), started.stream, () => ends++);
    await until('the evaluation ends', () => isFinishedJobState(job.state));
    expect(job.state).toBe('completed');
    expect(job.error).toBeNull();
    await new Promise((r) => setTimeout(r, 300)); // no second onEnd from later deliveries
    expect(ends).toBe(1);

    // A long evaluation (beam-sample, three modes, three repeats) stopped as soon as it runs.
    const long = await runs.evaluate({ id: 'fx-aimkp', decode: { strategy: 'beam-sample', repeats: 3 } });
    const stopped = followJob(newFollowedJob(long.jobId, 'evaluate'), long.stream).job;
    await until('the evaluation runs', () => stopped.state !== 'queued');
    await api().call('jobs.cancel', { id: long.jobId });
    await until('the evaluation stops', () => isFinishedJobState(stopped.state));
    expect(stopped.state).toBe('stopped');
    expect(stopped.error).toBeNull();
  }, 120_000);

  it('compare: "Evaluate both runs" evaluates both for the query, then the cases load', async () => {
    const cmp = useCompareStore();
    cmp.query = { ...cmp.query, baseline: 'fx-baseline', other: 'fx-aimkp', filter: 'all', decode: 'beam' };
    await cmp.load(0);
    expect(cmp.errorCode).not.toBeNull(); // not evaluated with beam yet
    const jobs = useCompareJobs();
    let done = 0;
    await jobs.evaluateBoth(() => done++);
    expect(jobs.error.value).toBeNull();
    expect(jobs.jobs.value.map((j) => j.label)).toEqual(['evaluate fx-baseline', 'evaluate fx-aimkp']);
    await until('both evaluations end', () => done > 0);
    expect(jobs.jobs.value.map((j) => j.state)).toEqual(['completed', 'completed']);
    await cmp.load(0);
    expect(cmp.error).toBeNull();
    expect(cmp.total).toBeGreaterThan(0);
    cmp.query = { ...cmp.query, decode: 'greedy' };
  }, 180_000);

  it("compare: both runs' robustness reports, their conditions side by side for the chosen mode", async () => {
    const cmp = useCompareStore();
    cmp.query = { ...cmp.query, baseline: 'fx-baseline', other: 'fx-aimkp', mode: 'multimodal' };
    const robustness = useCompareRobustness();
    await robustness.load();
    expect(robustness.rows.value).toEqual([]); // no report yet
    // Every suite option given: a request that leaves them to the defaults fails in the worker today (suite fields
    // set to undefined override DEFAULT_SUITE; reported to the lead), which is also what Compare's button sends.
    const options = { ratios: [0.5], strides: [2], sigmas: [1], pattern: 'structured' as const, seed: 1 };
    const runs = useRunsStore();
    for (const id of ['fx-baseline', 'fx-aimkp']) {
      const r = await runs.robustness({ id, split: 'test', options });
      const { job } = followJob(newFollowedJob(r.jobId, `robustness ${id}`), r.stream);
      await until(`the suite on ${id} ends`, () => isFinishedJobState(job.state), 240_000);
      expect(job.error).toBeNull();
      expect(job.state).toBe('completed');
    }
    await robustness.load();
    const [a, b] = [
      (await runs.detail('fx-baseline')).robustness.at(-1)!,
      (await runs.detail('fx-aimkp')).robustness.at(-1)!,
    ];
    const f1 = (conditions: typeof a.conditions, name: string, mode: string) =>
      conditions.find((c) => c.name === name && c.mode === mode)?.aimkp['f1@1'];
    const multimodal = a.conditions.filter((c) => c.mode === 'multimodal');
    expect(multimodal.length).toBeGreaterThan(0);
    expect(robustness.rows.value).toEqual(
      multimodal.map((c) => ({ name: c.name, a: c.aimkp['f1@1'], b: f1(b.conditions, c.name, c.mode) ?? null })),
    );
    // Another mode keeps the multimodal conditions and adds that mode's own, named with it.
    cmp.query = { ...cmp.query, mode: 'text' };
    expect(robustness.rows.value.map((r) => r.name)).toEqual(
      a.conditions
        .filter((c) => c.mode === 'multimodal' || c.mode === 'text')
        .map((c) => (c.mode === 'text' ? `${c.name} (text)` : c.name)),
    );
    cmp.query = { ...cmp.query, mode: 'multimodal' };
  }, 300_000);

  it('compare: every condition on the selected case, shown only while that case is selected', async () => {
    const cmp = useCompareStore();
    const runs = useRunsStore();
    await runs.load();
    cmp.query = { ...cmp.query, baseline: 'fx-baseline', other: 'fx-aimkp', mode: 'multimodal', filter: 'all' };
    cmp.pageSize = 50;
    await cmp.load(0);
    cmp.selected = 0;
    const conditions = useCaseConditions(() => cmp.current);
    const first = cmp.current!.id;
    await conditions.run();
    expect(conditions.error.value).toBeNull();
    const shown = conditions.shown.value!;
    expect(shown.caseId).toBe(first);
    expect(shown.rows[0].name).toBe('clean');
    expect(shown.rows.every((r) => r.baseline !== null && r.other !== null)).toBe(true);
    if (cmp.cases.length > 1) {
      cmp.selected = 1;
      expect(conditions.shown.value).toBeNull();
      cmp.selected = 0;
      expect(conditions.shown.value?.caseId).toBe(first);
    }
  }, 120_000);
});
