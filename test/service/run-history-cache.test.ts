// runs.history's server cache on a real AimKP training's events.jsonl: the fold it serves equals the renderer's
// fold of every event, it advances by what is appended (a line being written is left for later), a restarted
// server picks up the saved fold and reads only the rest, and a saved fold of other bytes is ignored.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunHistoryCache } from '../../electron/service/run-history';
import { RunSeries, type RunHistory } from '../../shared/run-series';
import { parseTrainingEvent, type TrainingEvent } from '../../shared/training-events';
import { train } from '../../models/train/trainer';
import { makeWorkspace, tinyAimkp, type TestWorkspace } from '../supervisor/fixtures';

let ws: TestWorkspace;
let lines: string[] = [];
let events: TrainingEvent[] = [];
before(async () => {
  ws = await makeWorkspace('history-cache');
  const runDir = join(ws.root, 'run');
  await train({ runDir, dataDir: ws.data, config: tinyAimkp(3) });
  lines = readFileSync(join(runDir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean);
  events = lines.map((l) => parseTrainingEvent(l)).filter((e): e is TrainingEvent => e !== null);
  assert.equal(events.length, lines.length);
});
after(() => ws?.cleanup());

/** The renderer's fold of the first k events, with the server's 7-digit rounding applied to the step columns. */
function expected(k: number): RunHistory {
  const s = new RunSeries();
  s.ingestBatch(events.slice(0, k));
  const h = s.snapshot(k);
  for (const [name, col] of Object.entries(h.steps) as [string, (number | null)[]][]) {
    if (name !== 'step')
      (h.steps as unknown as Record<string, (number | null)[]>)[name] = col.map((v) =>
        v === null ? null : Number(v.toPrecision(7)),
      );
  }
  return h;
}

test('serves the fold of every complete line, advancing as lines are appended', async () => {
  const file = join(ws.root, 'grow.jsonl');
  const cache = new RunHistoryCache(() => file);
  const third = Math.floor(lines.length / 3);
  writeFileSync(file, lines.slice(0, third).join('\n') + '\n');
  assert.deepEqual(await cache.history('r'), expected(third));
  // Half of the next line written: not read yet.
  const next = lines[third];
  appendFileSync(file, next.slice(0, 40));
  assert.equal((await cache.history('r')).lastSeq, third);
  appendFileSync(file, next.slice(40) + '\n' + lines.slice(third + 1).join('\n') + '\n');
  const all = await cache.history('r');
  assert.deepEqual(all, expected(lines.length));
  assert.ok(all.cosine.length >= 1, 'AimKP epochs after the warm-up have cosine bands');
  assert.equal((all.end as { status?: string } | null)?.status, 'completed');
  // Concurrent requests share one fold.
  const [a, b] = await Promise.all([cache.history('r'), cache.history('r')]);
  assert.deepEqual(a, b);
});

test('a restarted server loads the saved fold and reads only what came after; other bytes are not trusted', async () => {
  const file = join(ws.root, 'saved.jsonl');
  const dir = join(ws.root, 'cache-history');
  const half = Math.floor(lines.length / 2);
  writeFileSync(file, lines.slice(0, half).join('\n') + '\n');
  const first = new RunHistoryCache(() => file, { persistDir: () => dir, persistEvery: 5 });
  assert.deepEqual(await first.history('r'), expected(half));
  for (let i = 0; i < 100 && !(existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.json'))); i++)
    await new Promise((r) => setTimeout(r, 20));
  const saved = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.equal(saved.length, 1, 'one saved fold');

  // New lines, then a new server: the saved fold plus the new lines = the fold of everything.
  appendFileSync(file, lines.slice(half).join('\n') + '\n');
  const second = new RunHistoryCache(() => file, { persistDir: () => dir });
  assert.deepEqual(await second.history('r'), expected(lines.length));

  // Proof that the saved fold was used: doctor it (one loss changed); a new server serves the doctored value.
  const path = join(dir, saved[0]);
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { history: RunHistory };
  doc.history.steps.loss[0] = 123.5;
  writeFileSync(path, JSON.stringify(doc));
  assert.equal((await new RunHistoryCache(() => file, { persistDir: () => dir }).history('r')).steps.loss[0], 123.5);

  // Other bytes before the saved offset (the run made again under its id): the saved fold is ignored.
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.replace('"loss":', '"loss" :'));
  const fresh = await new RunHistoryCache(() => file, { persistDir: () => dir }).history('r');
  assert.notEqual(fresh.steps.loss[0], 123.5);
  assert.deepEqual(fresh, expected(lines.length));

  // A saved fold that is not JSON: ignored too.
  writeFileSync(path, '{ not json');
  assert.deepEqual(
    await new RunHistoryCache(() => file, { persistDir: () => dir }).history('r'),
    expected(lines.length),
  );
});

test('a run folder replaced by a shorter stream is folded again from its start', async () => {
  const file = join(ws.root, 'replaced.jsonl');
  const cache = new RunHistoryCache(() => file);
  writeFileSync(file, lines.join('\n') + '\n');
  assert.equal((await cache.history('r')).lastSeq, lines.length);
  const k = Math.floor(lines.length / 4);
  writeFileSync(file, lines.slice(0, k).join('\n') + '\n');
  assert.deepEqual(await cache.history('r'), expected(k));
});

test('warm folds runs in the background, so a first open finds the fold in memory', async () => {
  const file = join(ws.root, 'warm.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  const cache = new RunHistoryCache(() => file);
  cache.warm(['r']);
  await cache.close(); // waits for the fold in progress
  rmSync(file);
  // The file is gone: what comes back was folded by warm().
  assert.deepEqual(await cache.history('r'), expected(lines.length));
  cache.warm(['other']); // closed: nothing starts
});
