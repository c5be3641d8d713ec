// Job states on the wire are the supervisor's own (shared/vocabulary.ts JOB_STATES): a job stopped while it ran
// is 'stopped' in jobs.list and in its stream's job events (it used to be shown as 'cancelled'); a job cancelled
// while queued is 'cancelled'. Through the typed client, the local transport and response validation, with a job
// kind from outside the app's table (test/fixtures/wait-job.ts) that runs until it is stopped.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { ApiClient } from '../../shared/contract/client';
import { SERVICE, type ServiceEvent } from '../../shared/contract/service';
import type { Service } from '../../electron/service/create-service';
import { tempDir } from '../fixtures/temp-dirs';
import { WAIT_FOR_STOP_JOB, WAIT_WORKER_ENTRY } from '../fixtures/wait-job';
import { openService } from './fixtures';

let service: Service;
let api: ApiClient;
before(() => {
  ({ service, api } = openService(join(tempDir('aimkp-job-states-'), 'ws'), {
    concurrency: 1,
    workerEntry: WAIT_WORKER_ENTRY,
  }));
});
after(() => service?.close());

test("a job stopped while it runs is 'stopped' on the wire; one cancelled while queued is 'cancelled'", async () => {
  const sup = service.supervisor();
  const running = sup.enqueue(WAIT_FOR_STOP_JOB, { note: 'running' });
  const queued = sup.enqueue(WAIT_FOR_STOP_JOB, { note: 'queued' });
  const events: ServiceEvent[] = [];
  const sub = api.subscribe(`job:${running.id}`, 0, (batch) => events.push(...batch.events));
  try {
    for (let i = 0; i < 6000 && sup.queue.get(running.id)?.state !== 'running'; i++)
      await new Promise((r) => setTimeout(r, 10));
    const listed = (await api.call('jobs.list', {})).jobs;
    assert.deepEqual(
      listed.map((j) => [j.label, j.state, j.kind, j.queuePosition]),
      [
        ['wait for a stop (queued)', 'queued', 'evaluate', 0],
        ['wait for a stop (running)', 'running', 'evaluate', null],
      ],
    );

    assert.equal((await api.call('jobs.cancel', { id: queued.id })).job.state, 'cancelled');
    await api.call('jobs.cancel', { id: running.id });
    assert.equal((await sup.waitForJob(running.id)).state, 'stopped');

    const stopped = await api.call('jobs.list', { state: 'stopped' });
    assert.deepEqual(
      stopped.jobs.map((j) => j.id),
      [running.id],
    );
    assert.deepEqual(
      (await api.call('jobs.list', { state: 'cancelled' })).jobs.map((j) => j.id),
      [queued.id],
    );

    for (let i = 0; i < 6000 && !events.some((e) => e.kind === 'job' && e.data.state === 'stopped'); i++)
      await new Promise((r) => setTimeout(r, 10));
    const states = events.flatMap((e) => (e.kind === 'job' ? [e.data.state] : []));
    assert.deepEqual(states, ['queued', 'running', 'stopped']);
    const end = events.find((e) => e.kind === 'job' && e.data.state === 'stopped')!;
    assert.ok(SERVICE.event.safeParse(end).success, 'the stopped job event matches the contract');
  } finally {
    sub.close();
  }
});
