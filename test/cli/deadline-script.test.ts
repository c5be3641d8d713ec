// scripts/lib/deadline.sh, which lets the long study scripts run in sittings (STOP_AT): one SIGINT at the deadline
// (what `aimkp train` turns into a checkpointed, resumable stop), nothing started after it, and what counts as done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function bash(script: string, env: Record<string, string> = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync('bash', ['-c', `set -euo pipefail; . scripts/lib/deadline.sh; ${script}`], {
    env: { ...process.env, STOP_AT: '', ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// A job that, like `aimkp train`, treats SIGINT as "finish and exit 0", and counts the signals it got.
const JOB = `node -e "let n = 0; process.on('SIGINT', () => { n++; setTimeout(() => { console.log('sigint ' + n); process.exit(0); }, 200); }); setTimeout(() => { console.log('finished'); }, 20000)"`;

test('deadline: the job gets one SIGINT at STOP_AT, may finish cleanly, and the caller sees 124', () => {
  const r = bash(`rc=0; until_deadline ${JOB} || rc=$?; echo "rc=$rc"`, { STOP_AT: 'now + 2 seconds' });
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /sigint 1\n/);
  assert.doesNotMatch(r.out, /finished/);
  assert.match(r.out, /rc=124/);
});

test('deadline: without STOP_AT the command runs plainly and its status is kept', () => {
  const r = bash(
    `rc=0; until_deadline node -e "process.exit(7)" || rc=$?; echo "rc=$rc"; past_deadline || echo "not past"`,
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /rc=7/);
  assert.match(r.out, /not past/);
});

test('deadline: once past it, nothing starts', () => {
  const r = bash(
    `sleep 2; past_deadline && echo past; rc=0; until_deadline node -e "console.log('ran')" || rc=$?; echo "rc=$rc"`,
    {
      STOP_AT: 'now + 1 second',
    },
  );
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /past\n/);
  assert.doesNotMatch(r.out, /ran/);
  assert.match(r.out, /rc=124/);
});

test('deadline: a STOP_AT that is unreadable or already past is refused before anything runs', () => {
  const bad = bash('echo started', { STOP_AT: 'half past never' });
  assert.equal(bad.code, 2);
  assert.match(bad.err, /cannot read 'half past never'/);
  const past = bash('echo started', { STOP_AT: '1 hour ago' });
  assert.equal(past.code, 2);
  assert.match(past.err, /already past/);
  assert.doesNotMatch(past.out + bad.out, /started/);
});

test('deadline: a run counts as done only with a completed run-end; scored only with all three modes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aimkp-deadline-'));
  try {
    const run = join(dir, 'r');
    mkdirSync(join(run, 'metrics'), { recursive: true });
    const ev = (status: string) =>
      `{"type":"step","step":1}\n{"type":"run-end","time":"t","run":"r","status":"${status}","step":1}\n`;
    const check = () =>
      bash(`run_completed '${run}' && echo completed; has_metrics '${run}' greedy && echo scored`).out;
    writeFileSync(join(run, 'events.jsonl'), ev('stopped'));
    assert.equal(check(), '');
    writeFileSync(join(run, 'events.jsonl'), ev('stopped') + ev('completed'));
    for (const m of ['multimodal', 'text']) writeFileSync(join(run, 'metrics', `test.${m}.greedy.json`), '{}');
    assert.equal(check(), 'completed\n');
    writeFileSync(join(run, 'metrics', 'test.image.greedy.json'), '{}');
    assert.equal(check(), 'completed\nscored\n');
    assert.equal(bash(`has_metrics '${run}' beam-sample && echo scored`).out, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
