// Issue 16, item 8, through the contract on the real service: a data set with a missing and a corrupt image lists
// the same items and the same issues (file, line, field) as the CLI's loader (`aimkp data stats`); the name given
// on import is the name listed, with its creation time; importing a name that exists is refused so the client can
// ask, and imports as "<name> (2)" only when told to.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, unlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { loadDataset } from '../../models/data/load-dataset';
import type { ApiClient } from '../../shared/contract/client';
import type { Service } from '../../electron/service/create-service';
import { tempDir } from '../fixtures/temp-dirs';
import { openService } from './fixtures';

let src = '';
let service: Service;
let api: ApiClient;
const broken: { missing: number; corrupt: number; json: number } = { missing: 0, corrupt: 0, json: 0 };

before(async () => {
  const root = tempDir('aimkp-ds-import-');
  src = join(root, 'broken-src');
  await buildSynthDataset({ n: 30, seed: 3, out: src });
  // One image deleted, one overwritten with bytes that are no image, one line that is not JSON: what the probe did.
  const lines = readFileSync(join(src, 'manifest.jsonl'), 'utf8').trimEnd().split('\n');
  const withImage = lines
    .map((l, i) => ({ line: i + 1, item: JSON.parse(l) as { image: string | null } }))
    .filter((x) => x.item.image !== null);
  unlinkSync(join(src, withImage[0].item.image!));
  writeFileSync(join(src, withImage[1].item.image!), 'not a png at all');
  broken.missing = withImage[0].line;
  broken.corrupt = withImage[1].line;
  appendFileSync(join(src, 'manifest.jsonl'), '{"id": oops\n');
  broken.json = lines.length + 1;
  ({ service, api } = openService(join(root, 'ws')));
});
after(() => service?.close());

async function imported(r: { jobId: string }): Promise<void> {
  const job = await service.supervisor().waitForJob(r.jobId);
  assert.equal(job.state, 'completed', JSON.stringify(job.error));
}

test('import of a set with a missing and a corrupt image: the API lists what the CLI lists, file and line', async () => {
  const cli = await loadDataset(src); // what `aimkp data stats` loads and prints
  assert.equal(cli.items.length, 28);
  assert.equal(cli.issues.length, 3);

  for (const copy of [false, true]) {
    const name = copy ? 'Broken copy' : 'Broken linked';
    const r = await api.call('datasets.import', { name, source: { kind: 'manifest', dir: src, copy } });
    await imported(r);
    const listed = (await api.call('datasets.list', {})).datasets.find((d) => d.id === r.datasetId)!;
    assert.equal(listed.items.train + listed.items.valid + listed.items.test, cli.items.length, name);
    assert.equal(listed.issueCount, cli.issues.length, name);
    const { total, issues } = await api.call('datasets.issues', { id: r.datasetId });
    assert.equal(total, 3);
    const dir = copy ? listed.dir : src;
    const manifest = join(dir, 'manifest.jsonl');
    assert.deepEqual(
      issues.map((i) => [i.file, i.line, i.field ?? null, i.reason, i.action]),
      [
        [manifest, broken.missing, 'image', 'image-missing', 'skipped'],
        [manifest, broken.corrupt, 'image', 'image-corrupt', 'skipped'],
        [manifest, broken.json, null, 'invalid-json', 'skipped'],
      ],
      name,
    );
    if (!copy)
      assert.deepEqual(
        issues.map((i) => i.message),
        cli.issues.map((i) => i.message),
        'the same words as the CLI',
      );
    // No item with a broken image is offered (it would show as a broken-image icon).
    const page = await api.call('datasets.items', { id: r.datasetId, limit: 200 });
    assert.equal(page.total, cli.items.length);
    assert.ok(page.items.every((it) => cli.items.some((c) => c.id === it.id)));
  }
});

test('the name given is the name listed, "Created" is filled; an existing name is refused until told to rename', async () => {
  const r = await api.call('datasets.import', { name: 'My Synth', source: { kind: 'synthetic', items: 20, seed: 2 } });
  await imported(r);
  assert.equal(r.datasetId, 'my-synth');
  let list = (await api.call('datasets.list', {})).datasets;
  const mine = list.find((d) => d.id === 'my-synth')!;
  assert.equal(mine.name, 'My Synth');
  assert.ok(mine.createdAt && Date.now() - Date.parse(mine.createdAt) < 10 * 60_000, String(mine.createdAt));
  const linked = list.find((d) => d.name === 'Broken linked')!;
  assert.ok(linked.createdAt, 'a registered folder has its import time');

  await assert.rejects(
    api.call('datasets.import', { name: 'My Synth', source: { kind: 'synthetic', items: 20, seed: 9 } }),
    (e: Error & { code?: string; details?: Record<string, unknown> }) => {
      assert.equal(e.code, 'ALREADY_EXISTS');
      assert.match(
        e.message,
        /already has a data set with id my-synth; import it as "My Synth \(2\)" \(id my-synth-2\)/,
      );
      assert.deepEqual(e.details, { field: 'name', existing: 'my-synth', suggestion: 'my-synth-2' });
      return true;
    },
  );
  assert.equal((await api.call('jobs.list', {})).jobs.filter((j) => j.state === 'queued').length, 0);
  const again = await api.call('datasets.import', {
    name: 'My Synth',
    source: { kind: 'synthetic', items: 20, seed: 9 },
    ifExists: 'rename',
  });
  assert.deepEqual([again.datasetId, again.name], ['my-synth-2', 'My Synth (2)']);
  await imported(again);
  list = (await api.call('datasets.list', {})).datasets;
  assert.equal(list.find((d) => d.id === 'my-synth-2')?.name, 'My Synth (2)');
  assert.equal(list.find((d) => d.id === 'my-synth')?.name, 'My Synth', 'the first set is untouched');
});
