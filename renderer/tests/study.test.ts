// @vitest-environment node
// The Study store against the real service (electron/service behind the contract's in-process transport) on a
// workspace of study runs copied from the global setup's real AimKP training with hand-set scores and filter
// records (test/fixtures/study-runs.ts): it shows what study.get answers, pins a baseline, keeps only the latest
// answer, reports a refused request, and saves a selection as a study by tagging its runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPinia, setActivePinia } from 'pinia';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createClient } from '@shared/contract/client';
import { createLocalTransport } from '@shared/contract/local-transport';
import { createService, type Service } from '../../electron/service/create-service';
import { STUDY_RUNS, writeRunFromTemplate } from '../../test/fixtures/study-runs';
import { setApi } from '../src/api/api';
import { useStudyStore } from '../src/stores/study';

const fixtures = inject('fixtureRuns');
let root = '';
let service: Service;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'aimkp-ui-study-'));
  for (const r of STUDY_RUNS)
    writeRunFromTemplate(fixtures.aimkp, join(root, 'ws/runs', r.id), r, r.id === 'solo' ? [] : ['study:premise']);
  service = createService({ workspace: join(root, 'ws'), host: 'browser', bundledDataDir: null, locatorFile: null });
  setApi(createClient(createLocalTransport(service.backend, { validateResponses: true }), { validateResponses: true }));
  setActivePinia(createPinia());
});

afterAll(async () => {
  await service?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('study store on the real service', () => {
  it('lists the studies and shows one: arms, the default baseline, Δ and the pooled acceptance', async () => {
    const study = useStudyStore();
    await study.loadStudies();
    expect(study.studies).toEqual([{ name: 'premise', runs: 7 }]);
    await study.show({ kind: 'study', name: 'premise' });
    expect(study.error).toBeNull();
    const r = study.result!;
    expect(r.arms.map((a) => a.arm)).toEqual(['aimkp-e4', 'baseline-e6']);
    expect(r.baseline).toBe('baseline-e6');
    const d = r.deltas.find((x) => x.mode === 'multimodal' && x.metric === 'f1@1')!;
    expect(d.delta).toBeCloseTo(4, 9);
    expect(d.welch!.df).toBeCloseTo(3.4845360825, 8);
    expect(r.arms[0].acceptance.find((s) => s.epoch === 2 && s.modality === 'text')?.acceptedShare).toBe(0.625);
  });

  it('pins another baseline, then none; only the latest of two quick requests is kept', async () => {
    const study = useStudyStore();
    await study.pinBaseline('aimkp-e4');
    expect(study.result!.deltas.find((x) => x.mode === 'multimodal' && x.metric === 'f1@1')!.delta).toBeCloseTo(-4, 9);
    const first = study.pinBaseline('aimkp-e4');
    const second = study.pinBaseline(null);
    await Promise.all([first, second]);
    expect(study.result!.baseline).toBeNull();
    expect(study.result!.deltas).toEqual([]);
    expect(study.loading).toBe(false);
  });

  it('a refused request leaves no stale answer and says why', async () => {
    const study = useStudyStore();
    await study.show({ kind: 'study', name: 'premise' }, { baseline: 'solo' });
    expect(study.result).toBeNull();
    expect(study.error).toMatch(/\[BAD_INPUT\] baseline "solo" is not an arm of this study/);
  });

  it('saves a glob selection as a study: its runs are tagged and the study is shown by name', async () => {
    const study = useStudyStore();
    await study.show({ kind: 'pattern', glob: 'sol?' });
    expect(study.result!.selected).toEqual(['solo']);
    await study.saveAs('lone', study.result!.selected);
    expect(study.selection).toEqual({ kind: 'study', name: 'lone' });
    expect(study.studies.map((s) => s.name)).toEqual(['lone', 'premise']);
    expect(study.result!.arms.map((a) => a.arm)).toEqual(['solo']);
  });
});
