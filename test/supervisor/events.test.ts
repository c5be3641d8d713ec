// The supervisor runs a real tiny training in a worker thread; its events reach subscribers in batches
// (≤ 20 per second), numbered 1, 2, 3, … exactly as the lines of the run's events.jsonl, nothing lost or
// repeated; a late subscriber and eventsSince(seq) replay exactly what was missed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceEvent } from '../../shared/contract/events';
import type { Supervisor } from '../../electron/supervisor/supervisor';
import { BATCH_INTERVAL_MS } from '../../electron/supervisor/event-hub';
import {
  makeWorkspace,
  newSupervisor,
  streamData,
  streamEnded,
  streamRecords,
  tinyAimkp,
  waitFor,
  type TestWorkspace,
} from './fixtures';

let ws: TestWorkspace;
let sup: Supervisor;
before(async () => {
  ws = await makeWorkspace('sup-events');
  sup = newSupervisor(ws.workspace);
});
after(async () => {
  await sup.shutdown();
  ws.cleanup();
});

test('start: events flow in batches with gap-free seq equal to events.jsonl; late subscribers and eventsSince replay exactly', async () => {
  const early: ServiceEvent[] = [];
  const batchTimes: number[] = [];
  let replayBatches = 0;
  const offEarly = sup.subscribe(
    'ev-run',
    (b) => {
      if (b.replay) replayBatches += 1;
      else batchTimes.push(performance.now());
      early.push(...b.events);
    },
    0,
  );
  // "Came first" for real: its catch-up read of the (still empty) stream is over before the job writes its first
  // line. Without this wait the two raced, and a queued line written before that read came back as a replay batch.
  assert.equal(await sup.lastSeq('ev-run'), 0);

  const job = sup.startTraining({
    runId: 'ev-run',
    dataDir: ws.data,
    config: tinyAimkp(2),
    name: 'events test',
    tags: ['t1'],
  });
  assert.ok(job.state === 'queued' || job.state === 'running', job.state);

  // A second subscriber joins mid-run from seq 3: it must get 4, 5, … (replayed, then live) and nothing twice.
  let late: ServiceEvent[] | null = null;
  let offLate: (() => void) | null = null;
  const offWatch = sup.subscribe(
    'ev-run',
    (b) => {
      if (late === null && b.events.some((e) => e.kind === 'step' && e.data.step >= 4)) {
        late = [];
        offLate = sup.subscribe('ev-run', (lb) => late!.push(...lb.events), 3);
      }
    },
    0,
  );

  const done = await sup.waitForJob(job.id);
  assert.equal(done.state, 'completed', JSON.stringify(done.error));
  // The job's last poke is delivered within a batch interval or so (later on a loaded machine).
  // The run's stream: the trainer's events and the supervisor's job lines (queued, running, completed).
  await waitFor(() => streamEnded(ws.workspace, 'ev-run'), 30_000);
  const file = streamRecords(ws.workspace, 'ev-run');
  await waitFor(
    () => early.length >= file.length && (late === null || (late as ServiceEvent[]).length >= file.length - 3),
    30_000,
  );
  offEarly();
  offWatch();
  (offLate as (() => void) | null)?.();

  assert.ok(file.length >= 2 + 16 + 2, `events in the file: ${file.length}`);
  const training = file.filter((e) => e.type !== 'job' && e.type !== 'progress');
  assert.equal(training[0].type, 'run-start');
  assert.equal(training[training.length - 1].type, 'run-end');
  assert.deepEqual(
    file.flatMap((e) => (e.type === 'job' ? [e.data.state] : [])),
    ['queued', 'running', 'completed'],
  );

  // Everything the early subscriber got: seq 1..N, in order, each equal to the file's line.
  assert.deepEqual(
    early.map((e) => e.seq),
    file.map((_, i) => i + 1),
  );
  for (let i = 0; i < file.length; i++) {
    assert.equal(early[i].kind, file[i].type);
    assert.deepEqual(early[i].data, streamData(file[i]));
    assert.equal(early[i].v, 1);
    assert.equal(early[i].runId, 'ev-run');
  }
  assert.equal(replayBatches, 0, 'nothing to replay for a subscriber that came first');
  // Batching: at most one live batch per interval (the step events of a tiny model come every few ms).
  for (let i = 1; i < batchTimes.length; i++)
    assert.ok(
      batchTimes[i] - batchTimes[i - 1] >= BATCH_INTERVAL_MS - 5,
      `batches ${i - 1}→${i} only ${(batchTimes[i] - batchTimes[i - 1]).toFixed(1)} ms apart`,
    );
  assert.ok(batchTimes.length < file.length, `${batchTimes.length} batches for ${file.length} events`);

  // The late subscriber: exactly seq 4..N.
  assert.ok(late !== null);
  assert.deepEqual(
    (late as ServiceEvent[]).map((e) => e.seq),
    file.slice(3).map((_, i) => i + 4),
  );

  // Replay from disk since seq N.
  for (const n of [0, 1, 7, file.length - 1, file.length]) {
    const since = await sup.eventsSince('ev-run', n);
    assert.deepEqual(
      since.map((e) => e.seq),
      file.slice(n).map((_, i) => n + i + 1),
      `since ${n}`,
    );
    assert.deepEqual(
      since.map((e) => e.data),
      file.slice(n).map(streamData),
    );
  }
  const page = await sup.eventsSince('ev-run', 2, 5);
  assert.deepEqual(
    page.map((e) => e.seq),
    [3, 4, 5, 6, 7],
  );

  // The registry: status, steps, name and tags from run-meta.json, origin app.
  const run = sup.getRun('ev-run');
  assert.equal(run.status, 'completed');
  assert.equal(run.step, 16);
  assert.equal(run.totalSteps, 16);
  assert.equal(run.meta.name, 'events test');
  assert.deepEqual(run.meta.tags, ['t1']);
  assert.equal(run.lastSeq, file.length);
  assert.ok(sup.listRuns().some((r) => r.id === 'ev-run'));
});
