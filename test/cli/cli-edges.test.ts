// The CLI's edges (issue 16, item 15): doctor on a folder that is not a run exits non-zero in one line,
// `--max-steps 0` is refused naming the flag, and `--data FILE` says it is a file (and which folder to give).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../fixtures/temp-dirs';
import { cliInProcess } from '../reliability/fixtures';

const root = tempDir('aimkp-cli-edges-');

test('aimkp doctor on a folder that is not a run (empty, or missing): one line, exit 2', async () => {
  const empty = join(root, 'empty');
  mkdirSync(empty);
  for (const [dir, said] of [
    [empty, /^aimkp doctor: \/\S+: not a run folder \(no config\.json, events\.jsonl or checkpoint\)$/],
    [join(root, 'missing'), /^aimkp: \/\S+\/missing: no such run folder$/],
  ] as const) {
    const r = await cliInProcess('doctor', dir);
    assert.equal(r.code, 2, `${dir}: ${r.stdout}${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr.split('\n').length, 1, r.stderr);
    assert.match(r.stderr, said);
  }
});

test('--max-steps 0 (or below) is refused naming the flag, by train, pretrain and align', async () => {
  const out = join(root, 'never');
  for (const [command, value] of [
    ['train', '0'],
    ['pretrain', '0'],
    ['align', '0'],
    ['train', '-3'],
  ]) {
    const base = command === 'align' ? ['--base', root] : [];
    const r = await cliInProcess(command, '--data', root, '--out', out, ...base, '--max-steps', value);
    assert.equal(r.code, 2, `${command} --max-steps ${value}: ${r.stderr}`);
    assert.equal(r.stderr.split('\n').length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`aimkp ${command}: --max-steps must be ≥ 1`), r.stderr);
  }
});

test('--data FILE: says it is a file, not a data set folder; a manifest.jsonl names its folder', async () => {
  const ds = join(root, 'ds');
  mkdirSync(ds);
  const manifest = join(ds, 'manifest.jsonl');
  writeFileSync(manifest, '');
  const r = await cliInProcess('train', '--data', manifest, '--preset', 'baseline', '--out', join(root, 'run-a'));
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.split('\n').length, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`"${manifest}" is a file, not a data set folder .*: give "${ds}"\\)$`));
  const other = join(root, 'notes.txt');
  writeFileSync(other, 'x');
  const s = await cliInProcess('train', '--data', other, '--preset', 'baseline', '--out', join(root, 'run-b'));
  assert.equal(s.code, 2, s.stderr);
  assert.match(
    s.stderr,
    /"\S+notes\.txt" is a file, not a data set folder \(a data set is a folder holding manifest\.jsonl\)$/,
  );
});
