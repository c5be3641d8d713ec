import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Run { code: number | null; stdout: string; stderr: string }

function aimkp(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/aimkp.mjs', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'aimkp-eval-'));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
// Two samples; gold keyphrases: {run shoe, summer} and {winter}.
const cmkpGold = write('test_src.txt', 'i love running shoes<sep>run shoe;summer<sep>http://x/1.jpg\nsnow day<sep>winter<sep>http://x/2.jpg\n');
const dataset = join(dir, 'set');
mkdirSync(dataset);
writeFileSync(
  join(dataset, 'manifest.jsonl'),
  [
    { id: 'train-1', split: 'train', text: 'nothing', image: null, keyphrases: ['x'] },
    { id: 't1', split: 'test', text: 'i love running shoes', image: 't1.jpg', keyphrases: ['run shoe', 'summer'] },
    { id: 't2', split: 'test', text: 'snow day', image: 't2.jpg', keyphrases: ['winter'] },
  ].map((o) => JSON.stringify(o)).join('\n') + '\n',
);

test('the CMKP acceptance command reproduces the authors\' published scores', async () => {
  const r = await aimkp('eval', '--gold', 'data/cmkp/test_src.txt', '--pred', 'data/cmkp/best_pred.txt', '--convention', 'cmkp', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, number> & { present: Record<string, number>; absent: Record<string, number> };
  assert.equal(j.convention, 'cmkp');
  assert.equal(j.n, 5372);
  assert.deepEqual([j['f1@1'], j['f1@3'], j['map@5'], j['ndcg@5']].map((x) => x.toFixed(5)), ['0.47130', '0.33224', '0.52261', '0.58257']);
  assert.deepEqual([j.present['f1@1'], j.present['f1@3'], j.absent['f1@1'], j.absent['f1@3']].map((x) => x.toFixed(5)), ['0.83297', '0.80530', '0.28220', '0.22604']);
});

test('CMKP gold + ";"-separated .txt predictions, both conventions, table names the convention', async () => {
  const pred = write('pred.txt', 'running shoes;summer;running shoes\nsnow\n');
  const [a, c, table] = await Promise.all([
    aimkp('eval', '--gold', cmkpGold, '--pred', pred, '--convention', 'aimkp', '--json'),
    aimkp('eval', '--gold', cmkpGold, '--pred', pred, '--convention', 'cmkp', '--json'),
    aimkp('eval', '--gold', cmkpGold, '--pred', pred, '--convention', 'cmkp'),
  ]);
  assert.equal(a.code, 0, a.stderr);
  const ja = JSON.parse(a.stdout) as Record<string, number>;
  // aimkp F1@3: s1 P = 2/3, R = 1 → 0.8; s2 → 0.  MAP@3 s1: (1 + 2/2 + 2/3) / 3.
  assert.equal(ja.convention, 'aimkp');
  assert.ok(Math.abs(ja['f1@3'] - 0.4) < 1e-12);
  assert.ok(Math.abs(ja['map@3'] - (1 + 1 + 2 / 3) / 3 / 2) < 1e-12);
  // cmkp de-duplicates: s1 has 2 predictions, P@3 = 2/2.
  const jc = JSON.parse(c.stdout) as Record<string, number>;
  assert.ok(Math.abs(jc['p@3'] - 0.5) < 1e-12);
  assert.match(table.stdout, /F1@1 \(cmkp\)\s+0\.\d{5}/);
});

test('manifest folder gold with --split, JSONL predictions matched by id in any order', async () => {
  const pred = write('pred.jsonl', '{"id":"t2","predictions":["winter"]}\n{"id":"t1","predictions":["summer","run shoe"]}\n');
  const r = await aimkp('eval', '--gold', dataset, '--pred', pred, '--convention', 'aimkp', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, number>;
  assert.equal(j.n, 2);
  assert.equal(j['f1@3'], (0.8 + 0.5) / 2); // s1: P = 2/3, R = 1; s2: P = 1/3, R = 1
});

test('--sep: "," is the default without ";" in a .txt file, and --sep overrides it', async () => {
  const commas = write('commas.txt', 'running shoes, summer\nwinter, snow\n');
  const [d, o] = await Promise.all([
    aimkp('eval', '--gold', join(dataset, 'manifest.jsonl'), '--pred', commas, '--json'),
    aimkp('eval', '--gold', cmkpGold, '--pred', commas, '--sep', ';', '--json'),
  ]);
  assert.equal(d.code, 0, d.stderr);
  // s1: [running shoes, summer] → P@1 = 1, R@1 = 1/2; s2: [winter, snow] → F1@1 = 1.
  assert.ok(Math.abs((JSON.parse(d.stdout) as Record<string, number>)['f1@1'] - (2 / 3 + 1) / 2) < 1e-12);
  // With ';' each line is one phrase "running shoes, summer": no match.
  assert.equal((JSON.parse(o.stdout) as Record<string, number>)['f1@5'], 0);
});

test('errors: mismatched line count and unknown id exit 2 and name the file; --help exits 0', async () => {
  const short = write('short.txt', 'running shoes;summer\n');
  const unknown = write('unknown.jsonl', '{"id":"t1","predictions":["a"]}\n{"id":"zz","predictions":["b"]}\n');
  const [m, u, h] = await Promise.all([
    aimkp('eval', '--gold', cmkpGold, '--pred', short, '--convention', 'cmkp'),
    aimkp('eval', '--gold', dataset, '--pred', unknown),
    aimkp('eval', '--help'),
  ]);
  assert.equal(m.code, 2);
  assert.ok(m.stderr.includes(short), m.stderr);
  assert.match(m.stderr, /1 prediction lines but the gold has 2 samples/);
  assert.equal(u.code, 2);
  assert.ok(u.stderr.includes(`${unknown}:2`), u.stderr);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /--convention/);
});
