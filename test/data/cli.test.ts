import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../models/cli/main';

function aimkp(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/aimkp.mjs', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('aimkp data synth then aimkp data stats --json, end to end', async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'aimkp-cli-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  const out = join(tmp, 'synth');
  const built = aimkp('data', 'synth', '--n', '50', '--seed', '4', '--out', out, '--missing-image', '0.2');
  assert.equal(built.code, 0, built.stderr);
  assert.match(built.stdout, /synth: 50 items \(train 40, valid 5, test 5\)/);
  const manifest = (await readFile(join(out, 'manifest.jsonl'), 'utf8')).trim().split('\n');
  assert.equal(manifest.length, 50);

  const st = aimkp('data', 'stats', out, '--json');
  assert.equal(st.code, 0, st.stderr);
  const json = JSON.parse(st.stdout);
  assert.equal(json.name, 'synth');
  assert.equal(json.stats.all.size, 50);
  assert.equal(json.stats.train.size, 40);
  assert.equal(json.stats.all.meanKeyphrases, 3);
  assert.equal(json.stats.all.meanKeyphraseWords, 4 / 3, 'topic (1) + shape (1) + colour place (2) words');
  // Exactly the topic and the place half are textual; the place alone is not a keyphrase, so 1 of 3 is present.
  assert.equal(json.stats.all.presentShare, 1 / 3);
  const withImage = manifest.filter((l) => JSON.parse(l).image !== null).length;
  assert.equal(json.stats.all.withImage, withImage);
  assert.ok(withImage < 50);

  const table = aimkp('data', 'stats', out);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /^synth: 50 items loaded, 0 skipped/);
  assert.match(table.stdout, /\nall\s+50\s/);
});

/** Runs the CLI's main() in this process (no start-up cost), capturing stdout and stderr. */
async function inProcess(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    const code = await main(args);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}

test('aimkp data usage, unknown subcommand, --help and bad flags', async () => {
  const none = await inProcess('data');
  assert.equal(none.code, 2);
  for (const sub of ['cmkp', 'clipart', 'synth', 'stats']) assert.match(none.stdout, new RegExp(`\\n  ${sub} `));
  const unknown = await inProcess('data', 'frobnicate');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown subcommand "frobnicate"[\s\S]*synth/);
  const help = await inProcess('data', 'synth', '--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--missing-text P/);
  const bad = await inProcess('data', 'synth', '--n', '5', '--out', join(tmpdir(), 'x'), '--noise', '2');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--noise must be between 0 and 1/);
  const badFlag = await inProcess('data', 'stats', '--bogus');
  assert.equal(badFlag.code, 2);
  assert.match(badFlag.stderr, /aimkp data stats: .*bogus/);
  const missing = await inProcess('data', 'stats', join(tmpdir(), 'definitely-not-here-aimkp'));
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /does not exist/);
});

test('a command that writes a data set never overwrites one silently (synth, clipart, cmkp)', async (t) => {
  const tmp = await mkdtemp(join(tmpdir(), 'aimkp-cli-'));
  t.after(() => rm(tmp, { recursive: true, force: true }));
  const out = join(tmp, 'set');
  assert.equal(aimkp('data', 'synth', '--n', '80', '--seed', '1', '--out', out).code, 0);
  const before = await readFile(join(out, 'manifest.jsonl'), 'utf8');
  const images = (await readdir(join(out, 'images'))).length;
  assert.ok(images > 60);

  // Over an existing data set: refused in one line, exit 2, nothing changed.
  const again = aimkp('data', 'synth', '--n', '10', '--seed', '1', '--out', out);
  assert.equal(again.code, 2, again.stderr);
  assert.equal(again.stderr.trim().split('\n').length, 1, again.stderr);
  assert.match(again.stderr, /already holds a data set \(80 items\).*--force/);
  assert.equal(await readFile(join(out, 'manifest.jsonl'), 'utf8'), before);
  assert.equal((await readdir(join(out, 'images'))).length, images);
  const clip = aimkp('data', 'clipart', '--source', join(tmp, 'none'), '--out', out);
  assert.equal(clip.code, 2, clip.stderr);
  assert.match(clip.stderr, /already holds a data set/);

  // --force replaces it: the old images go with it (no orphans), a file of the user's stays.
  await writeFile(join(out, 'notes.txt'), 'mine');
  const forced = aimkp('data', 'synth', '--n', '10', '--seed', '1', '--out', out, '--force');
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /replacing the data set .* \(80 items, \d+ files removed\)/);
  const manifest = (await readFile(join(out, 'manifest.jsonl'), 'utf8')).trim().split('\n');
  assert.equal(manifest.length, 10);
  const named = new Set(manifest.map((l) => JSON.parse(l).image).filter((i) => i !== null));
  const onDisk = (await readdir(join(out, 'images'))).map((f) => `images/${f}`);
  assert.deepEqual(onDisk.sort(), [...named].sort());
  assert.equal(await readFile(join(out, 'notes.txt'), 'utf8'), 'mine');

  // A non-empty folder that is not a data set is never written into, --force or not.
  const other = join(tmp, 'docs');
  await mkdir(other);
  await writeFile(join(other, 'thesis.tex'), 'x');
  for (const extra of [[], ['--force']]) {
    const r = aimkp('data', 'synth', '--n', '10', '--out', other, ...extra);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /not empty and holds no data set \(thesis\.tex\)/);
  }
  assert.deepEqual(await readdir(other), ['thesis.tex']);

  // A CMKP import merges into an existing CMKP data set (one split at a time), and says so.
  const cmkp = join(tmp, 'cmkp');
  assert.equal(aimkp('data', 'cmkp', '--src', 'data/cmkp/tiny_train_src.txt', '--split', 'train', '--out', cmkp).code, 0);
  const merged = aimkp('data', 'cmkp', '--src', 'data/cmkp/valid_src.txt', '--out', cmkp);
  assert.equal(merged.code, 0, merged.stderr);
  assert.match(merged.stderr, /merging into the data set .* \(200 items/);
  const refused = aimkp('data', 'cmkp', '--src', 'data/cmkp/valid_src.txt', '--out', other);
  assert.equal(refused.code, 2);
});
