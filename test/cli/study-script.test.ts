// scripts/study.sh's plan (DRY_RUN: nothing trains): both protocols, the tau_t × tau_v grid, one job per run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

function plan(env: Record<string, string>): { code: number | null; jobs: string[]; stderr: string } {
  const r = spawnSync('bash', ['scripts/study.sh'], {
    env: { ...process.env, DRY_RUN: '1', ...env },
    encoding: 'utf8',
  });
  return { code: r.status, jobs: r.stdout.trim().split('\n').filter(Boolean), stderr: r.stderr };
}

test('study plan: a 3 × 3 tau grid under the paper protocol is 9 AimKP runs (4 epochs) + the baseline (6)', () => {
  const p = plan({ SEEDS: '1', PROTOCOL: 'paper', TAU_T: '0.05 0.1 0.2', TAU_V: '0.2 0.4 0.6', OUT: 'runs/x' });
  assert.equal(p.code, 0, p.stderr);
  assert.equal(p.jobs.length, 10);
  assert.equal(p.jobs[0], 'job runs/x/baseline-e6-s1 preset=baseline epochs=6 tau_t=- tau_v=- seed=1');
  assert.ok(p.jobs.includes('job runs/x/aimkp-e4-tt0.2-tv0.6-s1 preset=aimkp epochs=4 tau_t=0.2 tau_v=0.6 seed=1'));
});

test('study plan: both protocols × 5 seeds; a run both protocols share is listed once; bad settings refused', () => {
  const both = plan({ SEEDS: '1 2 3 4 5' });
  assert.equal(both.code, 0, both.stderr);
  // paper: baseline-e6 + aimkp-e4; equal (4): baseline-e4 + aimkp-e4 (the same run as the paper's AimKP arm).
  assert.equal(both.jobs.length, 5 * 3);
  assert.equal(both.jobs.filter((j) => j.includes('/aimkp-e4-s3 ')).length, 1);
  const equal6 = plan({ SEEDS: '1', EPOCHS_EQUAL: '6' });
  assert.deepEqual(
    equal6.jobs.map((j) => j.split(' ')[1]),
    ['runs/study/baseline-e6-s1', 'runs/study/aimkp-e4-s1', 'runs/study/aimkp-e6-s1'],
  );
  assert.equal(plan({ TAU_T: '0.1' }).code, 2);
  assert.equal(plan({ PROTOCOL: 'mine' }).code, 2);
});
