// Runs one real tiny training per method (synthetic data set, the aimkp CLI) once for all UI tests, so the stores
// and charts are tested on the events a real run writes (no hand-made event fixtures).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

const root = fileURLToPath(new URL('../..', import.meta.url));

declare module 'vitest' {
  export interface ProvidedContext {
    fixtureRuns: { aimkp: string; baseline: string; data: string };
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'aimkp-ui-'));
  const cli = (args: string[]) =>
    execFileSync(process.execPath, [join(root, 'bin/aimkp.mjs'), ...args], {
      cwd: root,
      stdio: 'pipe',
      env: { ...process.env, AIMKP_BACKEND: 'wasm' },
    });
  const data = join(dir, 'synth');
  cli(['data', 'synth', '--n', '60', '--seed', '1', '--out', data]);
  const tiny = join(dir, 'tiny.json');
  writeFileSync(
    tiny,
    JSON.stringify({
      model: { dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16 },
      batchSize: 8,
      samplesPerCall: 8,
      maxValid: 6,
    }),
  );
  const runs = { aimkp: join(dir, 'run-aimkp'), baseline: join(dir, 'run-baseline'), data };
  for (const [preset, out] of [
    ['aimkp', runs.aimkp],
    ['baseline', runs.baseline],
  ] as const) {
    cli([
      'train',
      '--data',
      data,
      '--preset',
      preset,
      '--out',
      out,
      '--epochs',
      '3',
      '--encoder',
      'patch:7:4',
      '--config',
      tiny,
      '--quiet',
      '--cache',
      join(dir, 'cache'),
    ]);
    if (!existsSync(join(out, 'events.jsonl'))) throw new Error(`fixture training ${preset} wrote no events.jsonl`);
  }
  project.provide('fixtureRuns', runs);
  return () => rmSync(dir, { recursive: true, force: true });
}
