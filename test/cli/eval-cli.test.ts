import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { scoreRepeats } from '../../models/evaluate/score-predictions';
import { tempDir } from '../fixtures/temp-dirs';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

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

const dir = tempDir('aimkp-eval-');
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
// Two samples; gold keyphrases: {run shoe, summer} and {winter}.
const cmkpGold = write(
  'test_src.txt',
  'i love running shoes<sep>run shoe;summer<sep>http://x/1.jpg\nsnow day<sep>winter<sep>http://x/2.jpg\n',
);
const dataset = join(dir, 'set');
mkdirSync(dataset);
writeFileSync(
  join(dataset, 'manifest.jsonl'),
  [
    { id: 'train-1', split: 'train', text: 'nothing', image: null, keyphrases: ['x'] },
    { id: 't1', split: 'test', text: 'i love running shoes', image: 't1.jpg', keyphrases: ['run shoe', 'summer'] },
    { id: 't2', split: 'test', text: 'snow day', image: 't2.jpg', keyphrases: ['winter'] },
  ]
    .map((o) => JSON.stringify(o))
    .join('\n') + '\n',
);

test("the CMKP acceptance command reproduces the authors' published scores", async () => {
  const r = await aimkp(
    'eval',
    '--gold',
    'data/cmkp/test_src.txt',
    '--pred',
    'data/cmkp/best_pred.txt',
    '--convention',
    'cmkp',
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as Record<string, number> & {
    present: Record<string, number>;
    absent: Record<string, number>;
  };
  assert.equal(j.convention, 'cmkp');
  assert.equal(j.n, 5372);
  assert.deepEqual(
    [j['f1@1'], j['f1@3'], j['map@5'], j['ndcg@5']].map((x) => x.toFixed(5)),
    ['0.47130', '0.33224', '0.52261', '0.58257'],
  );
  assert.deepEqual(
    [j.present['f1@1'], j.present['f1@3'], j.absent['f1@1'], j.absent['f1@3']].map((x) => x.toFixed(5)),
    ['0.83297', '0.80530', '0.28220', '0.22604'],
  );
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
  const pred = write(
    'pred.jsonl',
    '{"id":"t2","predictions":["winter"]}\n{"id":"t1","predictions":["summer","run shoe"]}\n',
  );
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

// Run-style predictions files (RUN/predictions/*.jsonl): one ranked list per decoding repeat.
// One keyphrase per sample, so F1@1 is 1 for a right first phrase and 0 otherwise (CMKP gold: ids "1", "2").
const singleGold = write('single_src.txt', 'a cat<sep>cat<sep>http://x/1.jpg\na dog<sep>dog<sep>http://x/2.jpg\n');
// Repeat 1 is all right, repeat 2 all wrong.
const twoRepeats = write(
  'run-2.jsonl',
  '{"id":"1","gold":["cat"],"predictions":[["cat"],["bird"]]}\n{"id":"2","gold":["dog"],"predictions":[["dog"],["fish"]]}\n',
);
type Json = Record<string, unknown>;
const num = (j: Json, key: string) => j[key] as number;
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} != ${b}`);

test('run-style JSONL with 2 repeats: every repeat scored, mean over repeats (JSON and table)', async () => {
  const [a, c, table] = await Promise.all([
    aimkp('eval', '--gold', singleGold, '--pred', twoRepeats, '--json'),
    aimkp('eval', '--gold', singleGold, '--pred', twoRepeats, '--convention', 'cmkp', '--json'),
    aimkp('eval', '--gold', singleGold, '--pred', twoRepeats),
  ]);
  assert.equal(a.code, 0, a.stderr);
  const j = JSON.parse(a.stdout) as Json & { perRepeat: Json[]; mean: Json };
  assert.deepEqual([j.convention, j.n, j.repeats, j.perRepeat.length], ['aimkp', 2, 2, 2]);
  assert.deepEqual(
    j.perRepeat.map((r) => [r.convention, r.n, r['f1@1']]),
    [
      ['aimkp', 2, 1],
      ['aimkp', 2, 0],
    ],
  );
  // F1@1: (1 + 0) / 2.  F1@3: repeat 1 has P = 1/3, R = 1 → 0.5 per sample; repeat 2 → 0.  MAP@5: (1 + 0) / 2.
  assert.equal(num(j.mean, 'f1@1'), 0.5);
  close(num(j.mean, 'f1@3'), 0.25, 'mean F1@3');
  assert.equal(num(j.mean, 'map@5'), 0.5);
  assert.equal(num(j.mean, 'n'), 2);
  assert.equal(j.mean.convention, undefined);
  // cmkp: de-duplicated, P@1 = R@1 = 1 in repeat 1, 0 in repeat 2; present/absent are not averaged.
  assert.equal(c.code, 0, c.stderr);
  const jc = JSON.parse(c.stdout) as Json & { perRepeat: Json[]; mean: Json };
  assert.equal(jc.convention, 'cmkp');
  assert.deepEqual(
    jc.perRepeat.map((r) => r['f1@1']),
    [1, 0],
  );
  assert.equal(num(jc.mean, 'f1@1'), 0.5);
  assert.equal(jc.mean.present, undefined);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /2 samples, convention aimkp, 2 repeats, mean over repeats/);
  assert.match(table.stdout, /Metric\s+repeat 1\s+repeat 2\s+mean\n/);
  assert.match(table.stdout, /F1@1 \(aimkp\)\s+1\.00000\s+0\.00000\s+0\.50000\n/);
  assert.match(table.stdout, /MAP@5 \(aimkp\)\s+1\.00000\s+0\.00000\s+0\.50000\n/);
});

test("mean over repeats equals `eval --run`'s scoreRepeats on a mixed 3-repeat file", async () => {
  const records = [
    {
      id: 't1',
      gold: ['run shoe', 'summer'],
      predictions: [['summer', 'running shoes'], ['snow', 'summer', 'x'], ['running shoe']],
    },
    { id: 't2', gold: ['winter'], predictions: [['snow', 'winter'], ['winter'], []] },
  ];
  const file = write('run-3.jsonl', records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const [a, c] = await Promise.all([
    aimkp('eval', '--gold', dataset, '--pred', file, '--json'),
    aimkp('eval', '--gold', dataset, '--pred', file, '--convention', 'cmkp', '--json'),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(c.code, 0, c.stderr);
  const ref = scoreRepeats(records);
  const ja = JSON.parse(a.stdout) as { repeats: number; mean: Json };
  const jc = JSON.parse(c.stdout) as { mean: Json };
  assert.equal(ja.repeats, 3);
  for (const key of ['f1@1', 'f1@3', 'f1@5', 'map@5'] as const) {
    close(num(ja.mean, key), ref.aimkp[key], `aimkp ${key}`);
    close(num(jc.mean, key), ref.cmkp[key], `cmkp ${key}`);
  }
});

test('--repeat K scores only repeat K; out of range, non-integer and --cmkp-result without --repeat are errors', async () => {
  const [r2, r1, table, out, zero, res] = await Promise.all([
    aimkp('eval', '--gold', singleGold, '--pred', twoRepeats, '--repeat', '2', '--json'),
    aimkp('eval', '--gold', singleGold, '--pred', twoRepeats, '--repeat', '1', '--json'),
    aimkp('eval', '--gold', singleGold, '--pred', twoRepeats, '--repeat', '2'),
    aimkp('eval', '--gold', singleGold, '--pred', twoRepeats, '--repeat', '3'),
    aimkp('eval', '--gold', singleGold, '--pred', twoRepeats, '--repeat', '0'),
    aimkp(
      'eval',
      '--gold',
      singleGold,
      '--pred',
      twoRepeats,
      '--convention',
      'cmkp',
      '--cmkp-result',
      join(dir, 'multi'),
    ),
  ]);
  assert.equal(r2.code, 0, r2.stderr);
  const j2 = JSON.parse(r2.stdout) as Json;
  assert.deepEqual(
    [j2.convention, j2.n, j2['f1@1'], j2['f1@5'], j2['map@5'], j2.repeat, j2.repeats],
    ['aimkp', 2, 0, 0, 0, 2, 2],
  );
  const j1 = JSON.parse(r1.stdout) as Json;
  assert.deepEqual([j1['f1@1'], j1['map@5']], [1, 1]);
  close(num(j1, 'f1@3'), 0.5, 'repeat 1 F1@3');
  assert.match(table.stdout, /convention aimkp, repeat 2 of 2\n/);
  assert.match(table.stdout, /F1@1 \(aimkp\)\s+0\.00000\n/);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /--repeat 3 is out of range: .*run-2\.jsonl has 2 repeats/);
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /--repeat must be a positive integer/);
  assert.equal(res.code, 2);
  assert.match(res.stderr, /--cmkp-result .*2 repeats; pick one with --repeat/);
  // With --repeat, --cmkp-result writes that repeat's result files.
  const ok = await aimkp(
    'eval',
    '--gold',
    singleGold,
    '--pred',
    twoRepeats,
    '--convention',
    'cmkp',
    '--repeat',
    '1',
    '--cmkp-result',
    join(dir, 'r1'),
  );
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(readFileSync(join(dir, 'r1.result.csv'), 'utf8'), /^macro_avg_p@1_all,/);
});

test('repeat-count mismatch, a flat/nested mix and a bad nested list are errors naming file:line', async () => {
  const mismatch = write(
    'mismatch.jsonl',
    '{"id":"1","predictions":[["cat"],["bird"]]}\n{"id":"2","predictions":[["dog"],["a"],["b"]]}\n',
  );
  const mixed = write('mixed.jsonl', '{"id":"1","predictions":[["cat"],["bird"]]}\n{"id":"2","predictions":["dog"]}\n');
  const bad = write(
    'bad-nested.jsonl',
    '{"id":"1","predictions":[["cat"],"bird"]}\n{"id":"2","predictions":[["dog"]]}\n',
  );
  const [m, x, b] = await Promise.all([
    aimkp('eval', '--gold', singleGold, '--pred', mismatch),
    aimkp('eval', '--gold', singleGold, '--pred', mixed),
    aimkp('eval', '--gold', singleGold, '--pred', bad),
  ]);
  assert.equal(m.code, 2);
  assert.ok(m.stderr.includes(`${mismatch}:2: field "predictions" has 3 repeat(s) but ${mismatch}:1 has 2`), m.stderr);
  assert.equal(x.code, 2);
  assert.ok(
    x.stderr.includes(
      `${mixed}:2: field "predictions" is a flat list of phrases but ${mixed}:1 has one list per decoding repeat`,
    ),
    x.stderr,
  );
  assert.equal(b.code, 2);
  assert.ok(
    b.stderr.includes(`${bad}:1: field "predictions" must be an array of strings or an array of string arrays`),
    b.stderr,
  );
});

test('a run file with 1 repeat scores exactly like the flat-list file (JSON and table)', async () => {
  const flat = write(
    'flat.jsonl',
    '{"id":"t2","predictions":["winter","snow"]}\n{"id":"t1","predictions":["summer","running shoes","x"]}\n',
  );
  const run = write(
    'run-1.jsonl',
    '{"id":"t2","gold":["winter"],"predictions":[["winter","snow"]]}\n{"id":"t1","gold":["run shoe","summer"],"predictions":[["summer","running shoes","x"]]}\n',
  );
  const runs = await Promise.all(
    [flat, run].flatMap((f) => [
      aimkp('eval', '--gold', dataset, '--pred', f, '--json'),
      aimkp('eval', '--gold', dataset, '--pred', f, '--convention', 'cmkp', '--json'),
      aimkp('eval', '--gold', dataset, '--pred', f, '--convention', 'cmkp'),
    ]),
  );
  for (const r of runs) assert.equal(r.code, 0, r.stderr);
  const [fa, fc, ft, ra, rc, rt] = runs.map((r) => r.stdout);
  assert.equal(ra, fa);
  assert.equal(rc, fc);
  assert.equal(rt.replace(run, 'FILE'), ft.replace(flat, 'FILE'));
  assert.doesNotMatch(rt, /repeat/);
  assert.equal((JSON.parse(ra) as Json).repeats, undefined);
});
