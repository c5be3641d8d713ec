// The repository scripts' command lines (scripts/lib/script-args.ts): `--help` prints the script's own header and
// its options, a bad option or argument is one line naming it plus the usage (exit 2), never a stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = (script: string, ...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', `scripts/${script}`, ...args], { encoding: 'utf8' });

test('--help prints the header comment and the options, and exits 0', () => {
  const r = run('filter-stats.ts', '--help');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^What AimKP's gradient filter did in one or more runs/);
  assert.match(r.stdout, /\nOptions:\n {2}--help$/m);
  const bench = run('bench-supervisor.ts', '--help');
  assert.equal(bench.status, 0, bench.stderr);
  assert.match(bench.stdout, /the supervisor's event throughput/);
  assert.match(bench.stdout, /^ {2}--quick$/m);
  assert.match(bench.stdout, /^ {2}--out OUT$/m);
});

test('an unknown option is one line naming it, then the usage, exit 2 (no stack trace)', () => {
  for (const script of ['bench-paper-step.ts', 'cosine-groups.ts', 'gpu-check.ts']) {
    const r = run(script, '--bogus');
    assert.equal(r.status, 2, `${script}: ${r.stderr}`);
    assert.equal(r.stderr.split('\n')[0], `${script}: Unknown option '--bogus'`);
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${script}: a stack trace`);
  }
});

test('filter-stats names a folder that is not a run, and asks for one when none is given', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aimkp-fs-'));
  try {
    const r = run('filter-stats.ts', dir);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.split('\n')[0], `filter-stats: ${dir}: not a run folder (no events.jsonl)`);
    const none = run('filter-stats.ts');
    assert.equal(none.status, 2);
    assert.match(none.stderr, /^filter-stats: no run given/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
