// aimkp doctor never advises a command that is then refused (issue 16, item 15): the advised command is run as
// printed, through a shell, and must be accepted. A run folder whose path holds a space is quoted; a run whose
// data set moved is told to pass --data (the placeholder said); a run whose config.json is unreadable is not
// told to resume (resume would refuse it).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { diagnoseRun } from '../../models/run/run-doctor';
import { train } from '../../models/train/trainer';
import { tempDir } from '../fixtures/temp-dirs';
import { tinyTrainConfig } from './fixtures';

const root = tempDir('aimkp-rel-advice-');
const data = join(root, 'data');
const stopped = join(root, 'stopped');

before(async () => {
  await buildSynthDataset({ n: 40, seed: 5, out: data });
  const r = await train({ runDir: stopped, dataDir: data, config: tinyTrainConfig(), maxSteps: 2 });
  assert.equal(r.globalStep, 2);
});

/** The command after "continue with: ", as printed, run by bash with the repository's CLI for `aimkp`. */
function runAdvised(advice: string, extra: string): { status: number | null; stderr: string } {
  const m = /continue with: (aimkp .*?) \((?:from|DIR)/.exec(advice);
  assert.ok(m, `advice names a command: ${advice}`);
  const cli = `${process.execPath} ${resolve('bin/aimkp.mjs')}`;
  const r = spawnSync('bash', ['-c', `${m[1].replace(/^aimkp /, `${cli} `)} ${extra}`], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

test('a run folder with a space in its path: the advised resume is quoted and accepted as printed', async () => {
  const run = join(root, 'my run');
  cpSync(stopped, run, { recursive: true });
  const d = await diagnoseRun(run);
  assert.equal(d.condition, 'stopped');
  assert.match(d.advice, /continue with: aimkp train --out '[^']*my run' --resume \(from checkpoints\/last, step 2\)$/);
  const r = runAdvised(d.advice, '--max-steps 3 --quiet');
  assert.equal(r.status, 0, r.stderr);
});

test('a run whose data set moved: the advice passes --data and says what DIR is; as told, it is accepted', async () => {
  const run = join(root, 'moved-data');
  cpSync(stopped, run, { recursive: true });
  const config = JSON.parse(readFileSync(join(run, 'config.json'), 'utf8')) as { dataDir: string };
  const moved = join(root, 'data-moved');
  cpSync(data, moved, { recursive: true });
  config.dataDir = join(root, 'gone');
  writeFileSync(join(run, 'config.json'), JSON.stringify(config));
  const d = await diagnoseRun(run);
  assert.match(
    d.advice,
    /--resume --data DIR \(from checkpoints\/last, step 2\) \(DIR: where the data set of config\.json, \S+gone, is now\)$/,
  );
  const r = runAdvised(d.advice.replace('--data DIR', `--data ${moved}`), '--max-steps 3 --quiet');
  assert.equal(r.status, 0, r.stderr);
});

test('an unreadable config.json: no resume advised (it would be refused), restore it instead', async () => {
  const run = join(root, 'broken-config');
  cpSync(stopped, run, { recursive: true });
  renameSync(join(run, 'config.json'), join(run, 'config.old'));
  writeFileSync(join(run, 'config.json'), '{"preset": ');
  const d = await diagnoseRun(run);
  assert.doesNotMatch(d.advice, /--resume/);
  assert.match(d.advice, /^config\.json cannot be read: restore it from a backup/);
  const refused = spawnSync(process.execPath, ['bin/aimkp.mjs', 'train', '--out', run, '--resume'], {
    encoding: 'utf8',
  });
  assert.notEqual(refused.status, 0, 'resume is refused on it, as the advice implies');
});
