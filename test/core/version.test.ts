// models/version.ts is a constant so that bundles need no package.json; it must follow package.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { VERSION } from '../../models/version';

test('models/version.ts equals package.json "version"', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(VERSION, pkg.version, 'bump models/version.ts together with package.json');
});
