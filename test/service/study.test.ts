// Issue 19 item 6 through the contract on the real service: a study is the runs tagged study:<name> (or ticked ids,
// or a glob on ids); study.get answers the core's arms, CIs, Welch Δ and the filter's acceptance pooled per arm
// (responses validated against the schema), lists what it leaves out with why (unevaluated, unknown, unreadable),
// and refuses bad requests naming the field. The runs are copies of one real tiny training with hand-set scores and
// filter decisions (test/fixtures/study-runs.ts).
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Service } from '../../electron/service/create-service';
import { globToRegExp } from '../../electron/service/handlers/study';
import type { ApiClient } from '../../shared/contract/client';
import { STUDY_RUNS, trainTemplate, writeRunFromTemplate } from '../fixtures/study-runs';
import { tempDir } from '../fixtures/temp-dirs';
import { openService } from './fixtures';

let ws = '';
let service: Service;
let api: ApiClient;

const close = (a: number | null | undefined, b: number, what: string, tol = 1e-6) =>
  assert.ok(a !== null && a !== undefined && Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

before(async () => {
  const dir = tempDir('aimkp-study-service-');
  const template = trainTemplate(dir);
  ws = join(dir, 'ws');
  for (const r of STUDY_RUNS) writeRunFromTemplate(template, join(ws, 'runs', r.id), r);
  // A folder the registry cannot read (config.json of another format): listed as left out, never a crash.
  mkdirSync(join(ws, 'runs', 'aimkp-e4-s9'), { recursive: true });
  writeFileSync(join(ws, 'runs', 'aimkp-e4-s9', 'config.json'), '{"format":"something-else"}\n');
  ({ service, api } = openService(ws));
  for (const r of STUDY_RUNS)
    if (r.id !== 'solo') await api.call('runs.tag', { id: r.id, add: ['study:premise', 'keep'] });
});
after(() => service?.close());

test('study.list: every study:<name> tag with its number of runs', async () => {
  assert.deepEqual((await api.call('study.list', {})).studies, [{ name: 'premise', runs: 7 }]);
});

test('study.get by tag: arms, CIs, Welch Δ, pooled acceptance and what was left out', async () => {
  const r = await api.call('study.get', { select: { kind: 'study', name: 'premise' } });
  assert.deepEqual(
    r.selected,
    STUDY_RUNS.filter((x) => x.id !== 'solo')
      .map((x) => x.id)
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true })),
  );
  assert.deepEqual(
    r.arms.map((a) => [a.arm, a.runs.length]),
    [
      ['aimkp-e4', 3],
      ['baseline-e6', 3],
    ],
  );
  assert.equal(r.baseline, 'baseline-e6');
  const base = r.arms[1].cells.multimodal['f1@1']!;
  assert.deepEqual([base.n, Math.round(base.mean * 1e9) / 1e9], [3, 12]);
  close(base.ci95?.[0], 7.0317245765, 'CI low');
  const d = r.deltas.find((x) => x.mode === 'multimodal' && x.metric === 'f1@1')!;
  close(d.welch?.t, 1.9215378457, 't');
  close(d.welch?.df, 3.4845360825, 'df');
  close(d.welch?.ci95[1], 10.1329472061, 'CI high');
  assert.deepEqual(
    r.arms[0].acceptance.map((s) => [s.epoch, s.modality, s.checks, s.acceptedShare]),
    [
      [2, 'image', 8, 0.875],
      [2, 'text', 8, 0.625],
      [3, 'image', 8, 0.75],
      [3, 'text', 8, 0.25],
    ],
  );
  assert.equal(r.arms[0].filterRuns, 2);
  assert.deepEqual(r.arms[1].acceptance, [], 'the baseline copies carry no filter record');
  assert.deepEqual(r.paperAcceptance, { text: { first: 0.87, last: 0.62 }, image: { first: 0.96, last: 0.77 } });
  assert.deepEqual(
    r.leftOut.map((l) => [l.run, l.modes.join(',')]),
    [
      ['aimkp-e4-s4', 'multimodal,text,image'],
      ['baseline-e6-s3', 'image'],
    ],
  );
});

test('study.get by ids and by glob: unknown and unreadable runs are left out with why', async () => {
  const byIds = await api.call('study.get', {
    select: { kind: 'runs', ids: ['solo', 'baseline-e6-s1', 'baseline-e6-s2', 'gone-s1'] },
  });
  assert.deepEqual(
    byIds.arms.map((a) => a.arm),
    ['baseline-e6', 'solo'],
  );
  close(
    byIds.deltas.find((x) => x.arm === 'solo' && x.mode === 'multimodal' && x.metric === 'f1@1')?.delta,
    0,
    'solo Δ',
  );
  assert.equal(byIds.deltas[0].welch, null, 'one seed: no test');
  assert.deepEqual(
    byIds.leftOut.map((l) => [l.run, l.reason]),
    [['gone-s1', 'no such run in this workspace (deleted?)']],
  );

  const glob = await api.call('study.get', { select: { kind: 'pattern', glob: 'aimkp-e4-s*' }, baseline: null });
  assert.deepEqual(
    glob.arms.map((a) => a.arm),
    ['aimkp-e4'],
  );
  assert.deepEqual(glob.deltas, []);
  const broken = glob.leftOut.find((l) => l.run === 'aimkp-e4-s9');
  assert.match(broken?.reason ?? '', /^unreadable run folder: .*format/);
  assert.deepEqual((await api.call('study.get', { select: { kind: 'pattern', glob: 'zzz*' } })).arms, []);
  assert.ok(globToRegExp('a.b-?').test('a.b-1') && !globToRegExp('a.b-?').test('axb-1'));
});

test('study.get refuses what it cannot answer, naming the field', async () => {
  const refused = (req: unknown, code: string, message: RegExp) =>
    assert.rejects(
      api.call('study.get', req as Parameters<typeof api.call<'study.get'>>[1]),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, code, e.message);
        assert.match(e.message, message);
        return true;
      },
    );
  await refused({ select: { kind: 'study', name: 'nope' } }, 'NOT_FOUND', /no run is tagged study:nope/);
  await refused(
    { select: { kind: 'study', name: 'premise' }, baseline: 'solo' },
    'BAD_INPUT',
    /"solo" is not an arm of this study \(arms: aimkp-e4, baseline-e6\)/,
  );
  await refused({ select: { kind: 'pattern', glob: '../*' } }, 'BAD_REQUEST', /select\.glob/);
  await refused({ select: { kind: 'tag', name: 'x' } }, 'BAD_REQUEST', /select/);
  await refused({ select: { kind: 'runs', ids: [] } }, 'BAD_REQUEST', /select\.ids/);
});
