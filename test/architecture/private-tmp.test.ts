// The guard of test hygiene (issue 16, item 17): `npm run test:unit`, `test:ui` and `test:e2e` run under
// scripts/private-tmp.mjs, which gives the suite a fresh TMPDIR and fails when anything is left in it. Here the
// guard itself: a command that leaves a folder fails (naming it), a clean one passes, the private folder is gone
// either way, and the tool caches it links in are not counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../fixtures/temp-dirs';

function guarded(code: string) {
  // The guard's own temp folder goes into a folder of this test (removed with it), so its removal can be checked.
  const outer = tempDir('aimkp-guard-');
  const r = spawnSync(process.execPath, ['scripts/private-tmp.mjs', process.execPath, '-e', code], {
    encoding: 'utf8',
    env: { ...process.env, TMPDIR: outer },
  });
  return { ...r, outer };
}

test('private-tmp: a suite that leaves a folder in its TMPDIR fails and names it; the private folder is removed', () => {
  const r = guarded(
    "const fs = require('node:fs'), os = require('node:os'), p = require('node:path'); fs.mkdirSync(p.join(os.tmpdir(), 'aimkp-leak-1')); fs.writeFileSync(p.join(os.tmpdir(), 'stray.txt'), 'x')",
  );
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /private-tmp: the suite left 2 entries in its temp folder .*: aimkp-leak-1, stray\.txt$/m);
  assert.deepEqual(
    readdirSync(r.outer).filter((n) => n.startsWith('aimkp-test-tmp-')),
    [],
    'the private folder is removed',
  );
});

test('private-tmp: a clean suite passes with its own exit code; tool caches (tsx, jiti) are not leftovers', () => {
  const ok = guarded(
    "const os = require('node:os'), fs = require('node:fs'); if (!os.tmpdir().includes('aimkp-test-tmp-')) process.exit(9); fs.writeFileSync(require('node:path').join(os.tmpdir(), 'jiti', 'cache-entry'), 'x')",
  );
  assert.equal(ok.status, 0, ok.stderr);
  // The jiti link pointed at the shared cache in the real temp folder: what the tool cached stays there.
  assert.ok(existsSync(join(ok.outer, 'jiti', 'cache-entry')));
  assert.equal(readFileSync(join(ok.outer, 'jiti', 'cache-entry'), 'utf8'), 'x');
  const failing = guarded('process.exit(3)');
  assert.equal(failing.status, 3, 'the suite’s own failure code is kept');
});
