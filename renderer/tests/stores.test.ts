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
import { setApi } from '../src/api/api';
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
      await until('import job ends', () => job.state !== 'running', 100_000);
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
});
