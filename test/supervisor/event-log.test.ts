// events.jsonl as a numbered stream, without a training: seq = ordinal of the valid event lines (a torn line
// left by a crash and continued by the next writer is skipped by tail and replay alike); a line being written
// is not read until its newline arrives; replay from any seq equals the tail; long histories go out in batches
// of at most MAX_BATCH_EVENTS, in order, once each.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunEventLog, type SeqEvent } from '../../electron/supervisor/run-event-log';
import { EventHub, MAX_BATCH_EVENTS, type EventBatch } from '../../electron/supervisor/event-hub';
import { waitFor } from './fixtures';
import { stepEvent } from '../fixtures/step-event';

const root = mkdtempSync(join(tmpdir(), 'aimkp-evlog-'));
after(() => rmSync(root, { recursive: true, force: true }));

const step = (i: number) =>
  JSON.stringify(
    stepEvent({
      time: new Date(1_700_000_000_000 + i).toISOString(),
      step: i,
      stepsPerEpoch: 1,
      loss: 1 / i,
      variantLoss: { original: 1, text: null, image: null },
      rows: 1,
      lr: 1,
      adapterLr: 1,
      ms: 0,
    }),
  );
const steps = (events: SeqEvent[]) => events.map((e) => (e.event.type === 'step' ? e.event.step : -1));

test('seq counts valid lines; torn and foreign lines are skipped; a partial last line waits for its newline', async () => {
  const file = join(root, 'a.jsonl');
  writeFileSync(file, `${step(1)}\n${step(2)}\nnot json\n${step(3).slice(0, 20)}`); // the crash tore line 4
  const log = new RunEventLog(file);
  assert.deepEqual(
    (await log.readNew()).map((e) => [e.seq, steps([e])[0]]),
    [
      [1, 1],
      [2, 2],
    ],
  );
  appendFileSync(file, `${step(4)}\n{"type":"unknown","time":"x"}\n${step(5).slice(0, 30)}`); // a resume continues the torn line
  assert.deepEqual(
    (await log.readNew()).map((e) => e.seq),
    [],
  );
  appendFileSync(file, `${step(5).slice(30)}\n`);
  const more = await log.readNew();
  assert.deepEqual(
    more.map((e) => [e.seq, steps([e])[0]]),
    [[3, 5]],
  );
  // A fresh reader (replay from disk) numbers the same way.
  const replay = await new RunEventLog(file).since(0);
  assert.deepEqual(
    replay.map((e) => [e.seq, steps([e])[0]]),
    [
      [1, 1],
      [2, 2],
      [3, 5],
    ],
  );
});

test('replay since any seq over a long log equals the tail from there (index every 256 events)', async () => {
  const file = join(root, 'b.jsonl');
  writeFileSync(file, Array.from({ length: 3000 }, (_, i) => step(i + 1)).join('\n') + '\n');
  const log = new RunEventLog(file);
  const all = await log.readNew();
  assert.deepEqual(
    steps(all),
    Array.from({ length: 3000 }, (_, i) => i + 1),
  );
  for (const n of [0, 1, 255, 256, 257, 511, 512, 1999, 2999, 3000]) {
    const got = await log.since(n, 700);
    assert.deepEqual(
      got.map((e) => e.seq),
      all.slice(n, n + 700).map((e) => e.seq),
      `since ${n}`,
    );
  }
});

test('hub: a subscriber from seq N gets N+1.. as replay in batches ≤ MAX_BATCH_EVENTS, then live; a live-only one gets only new events', async () => {
  const runs = join(root, 'runs');
  mkdirSync(join(runs, 'r1'), { recursive: true });
  const file = join(runs, 'r1', 'events.jsonl');
  writeFileSync(file, Array.from({ length: 2500 }, (_, i) => step(i + 1)).join('\n') + '\n');
  const hub = new EventHub({ fileOf: (id) => join(runs, id, 'events.jsonl'), batchIntervalMs: 20 });
  try {
    const fromSeq: EventBatch[] = [];
    const liveOnly: EventBatch[] = [];
    hub.subscribe('r1', (b) => fromSeq.push(b), 100);
    hub.subscribe('r1', (b) => liveOnly.push(b));
    const delivered = (bs: EventBatch[]) => bs.reduce((n, b) => n + b.events.length, 0);
    await waitFor(() => delivered(fromSeq) === 2400);
    // Waits for the live-only subscriber's first read too (it shares the stream's flush).
    await hub.flushNow('r1');
    appendFileSync(file, `${step(2501)}\n${step(2502)}\n`);
    hub.poke('r1');
    await waitFor(() => delivered(fromSeq) === 2402 && delivered(liveOnly) === 2);
    const seqs = fromSeq.flatMap((b) => b.events.map((e) => e.seq));
    assert.deepEqual(
      seqs,
      Array.from({ length: 2402 }, (_, i) => 101 + i),
    );
    assert.ok(fromSeq.every((b) => b.events.length <= MAX_BATCH_EVENTS));
    assert.ok(fromSeq.filter((b) => b.replay).length >= 3, 'history in several batches');
    assert.equal(fromSeq.at(-1)!.replay, false);
    assert.deepEqual(
      liveOnly.flatMap((b) => b.events.map((e) => e.seq)),
      [2501, 2502],
    );
  } finally {
    hub.close();
  }
});
