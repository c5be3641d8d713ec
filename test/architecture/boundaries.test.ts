// The house rules are enforced, not just written down: `npm test` runs prettier --check and dependency-cruiser
// (.dependency-cruiser.cjs) over the tree. Here each boundary is broken on purpose in a scratch tree laid out like
// the project, and the same checks must fail and name the rule; the real tree must pass.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = (name: string) => join(ROOT, 'node_modules', '.bin', name);

interface Outcome {
  code: number;
  output: string;
}

async function exec(cmd: string, args: string[], cwd: string): Promise<Outcome> {
  try {
    const r = await run(cmd, args, { cwd, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

let scratch = '';

/** A scratch tree with the project's lint configs, and files given as path → text. */
async function tree(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(scratch, 'tree-'));
  for (const f of ['.dependency-cruiser.cjs', 'tsconfig.json', 'tsconfig.depcruise.json', '.prettierrc.json']) {
    await copyFile(join(ROOT, f), join(dir, f));
  }
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

const cruise = (dir: string) =>
  exec(BIN('depcruise'), ['--config', '.dependency-cruiser.cjs', 'models', 'electron', 'shared', 'renderer'], dir);

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'aimkp-boundaries-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

// One clean module per room, imported the allowed way.
const CLEAN: Record<string, string> = {
  'shared/vocab.ts': "export const MODES = ['a', 'b'] as const;\n",
  'shared/contract/service.ts': "import { MODES } from '../vocab';\nexport const N = MODES.length;\n",
  'models/core.ts': "import { MODES } from '../shared/vocab';\nexport const core = () => MODES[0];\n",
  'models/run/files.ts': "export const FILES = { config: 'config.json' };\n",
  'models/train/core.ts': "import { FILES } from '../run/files';\nexport const core = () => FILES.config;\n",
  'models/index.ts': "export { core } from './core';\n",
  'electron/service/handlers.ts':
    "import { core } from '../../models/index';\nimport { N } from '../../shared/contract/service';\nexport const h = () => core() + N;\n",
  'renderer/src/view.ts': "import { N } from '../../shared/contract/service';\nexport const v = N;\n",
};

test('the scratch tree with only allowed imports passes', async () => {
  const r = await cruise(await tree(CLEAN));
  assert.equal(r.code, 0, r.output);
});

const VIOLATIONS: { rule: string; path: string; text: string }[] = [
  {
    rule: 'renderer-only-shared',
    path: 'renderer/src/bad.ts',
    text: "import { core } from '../../models/core';\nexport const x = core;\n",
  },
  {
    rule: 'renderer-only-shared',
    path: 'renderer/src/Bad.vue',
    text: '<script setup lang="ts">\nimport { h } from \'../../electron/service/handlers\';\nh();\n</script>\n<template><p /></template>\n',
  },
  {
    rule: 'shared-standalone',
    path: 'shared/bad.ts',
    text: "import { core } from '../models/core';\nexport const x = core;\n",
  },
  {
    rule: 'shared-no-node',
    path: 'shared/bad-node.ts',
    text: "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n",
  },
  {
    rule: 'models-below-the-app',
    path: 'models/bad.ts',
    text: "import { h } from '../electron/service/handlers';\nexport const x = h;\n",
  },
  {
    rule: 'models-below-the-app',
    path: 'models/bad-contract.ts',
    text: "import { N } from '../shared/contract/service';\nexport const x = N;\n",
  },
  {
    rule: 'run-below-the-stages',
    path: 'models/run/bad.ts',
    text: "import { core } from '../train/core';\nexport const x = core;\n",
  },
  {
    rule: 'electron-through-the-core-face',
    path: 'electron/service/deep.ts',
    text: "import { core } from '../../models/core';\nexport const x = core;\n",
  },
  {
    rule: 'no-circular',
    path: 'models/circle-a.ts',
    text: "import { b } from './circle-b';\nexport const a = () => b;\n",
  },
];

for (const v of VIOLATIONS) {
  test(`a deliberate violation fails: ${v.rule} (${v.path})`, async () => {
    const files = { ...CLEAN, [v.path]: v.text };
    if (v.rule === 'no-circular')
      files['models/circle-b.ts'] = "import { a } from './circle-a';\nexport const b = () => a;\n";
    const r = await cruise(await tree(files));
    assert.notEqual(r.code, 0, `expected ${v.rule} to fail:\n${r.output}`);
    assert.match(r.output, new RegExp(`error ${v.rule}`));
  });
}

test('only electron/main.ts and electron/preload.ts may import electron', async () => {
  const fake = {
    'node_modules/electron/package.json': '{"name":"electron","main":"index.js"}',
    'node_modules/electron/index.js': 'module.exports = {};\n',
  };
  const ok = await cruise(
    await tree({ ...CLEAN, ...fake, 'electron/main.ts': "import { app } from 'electron';\nexport const a = app;\n" }),
  );
  assert.equal(ok.code, 0, ok.output);
  const bad = await cruise(
    await tree({
      ...CLEAN,
      ...fake,
      'electron/service/window.ts': "import { app } from 'electron';\nexport const a = app;\n",
    }),
  );
  assert.notEqual(bad.code, 0, bad.output);
  assert.match(bad.output, /error electron-module-in-two-files/);
});

test('unformatted code fails the format check; the formatted text passes', async () => {
  const dir = await tree({ 'models/ugly.ts': 'export const  x = { a:1,b :2 }\n' });
  const bad = await exec(BIN('prettier'), ['--check', 'models/ugly.ts'], dir);
  assert.notEqual(bad.code, 0, bad.output);
  await writeFile(join(dir, 'models/ugly.ts'), 'export const x = { a: 1, b: 2 };\n');
  const good = await exec(BIN('prettier'), ['--check', 'models/ugly.ts'], dir);
  assert.equal(good.code, 0, good.output);
});

test('npm test runs the format check and the boundary check over the real tree, and the tree passes', async () => {
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.match(pkg.scripts.test, /npm run lint/);
  assert.match(pkg.scripts.lint, /prettier --check \./);
  assert.match(pkg.scripts.lint, /npm run boundaries/);
  assert.match(pkg.scripts.boundaries, /depcruise --config \.dependency-cruiser\.cjs/);
  const r = await exec('npm', ['run', '--silent', 'boundaries'], ROOT);
  assert.equal(r.code, 0, r.output);
});
