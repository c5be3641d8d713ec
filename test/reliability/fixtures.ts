// Shared pieces of the reliability tests: a tiny AimKP config on the synthetic data set (16 steps, a
// checkpoint every 2), reading a run's final checkpoint bytes, and in-process CLI calls.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../models/cli/main';
import { resolveConfig } from '../../models/train/config-resolve';
import type { TrainConfig } from '../../models/run/train-config';

/** 2 epochs × 8 steps on 32 train items (synth n=40); AimKP masks from epoch 2. */
export function tinyTrainConfig(checkpointEvery = 2): TrainConfig {
  const c = resolveConfig({ preset: 'aimkp', flags: { epochs: 2, encoder: 'patch:3:4', seed: 3 } });
  c.model = { ...c.model, dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16, dropout: 0, lora: null };
  c.batchSize = 4;
  c.samplesPerCall = 4;
  c.maxValid = 4;
  c.checkpointEvery = checkpointEvery;
  c.aimkp!.tauText = 0.5;
  c.aimkp!.tauImage = 1;
  return c;
}

/** The bytes that must match an uninterrupted run: weights, AdamW moments, and state.json minus wall-clock time. */
export function finalCheckpoint(
  runDir: string,
  which = join('checkpoints', 'last'),
): { weights: Buffer; optimizer: Buffer; state: unknown } {
  const dir = join(runDir, which);
  const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as { epochStats: { trainMs?: number } };
  delete state.epochStats.trainMs;
  return {
    weights: readFileSync(join(dir, 'weights.bin')),
    optimizer: readFileSync(join(dir, 'optimizer.bin')),
    state,
  };
}

export function assertSameFinal(runDir: string, referenceDir: string, what: string): void {
  const a = finalCheckpoint(runDir);
  const b = finalCheckpoint(referenceDir);
  assert.ok(a.weights.equals(b.weights), `${what}: weights.bin differs from the uninterrupted run`);
  assert.ok(a.optimizer.equals(b.optimizer), `${what}: optimizer.bin differs from the uninterrupted run`);
  assert.deepEqual(a.state, b.state, `${what}: state.json differs from the uninterrupted run`);
  assert.ok(
    readFileSync(join(runDir, 'best', 'weights.bin')).equals(readFileSync(join(referenceDir, 'best', 'weights.bin'))),
    `${what}: best/weights.bin differs`,
  );
}

/** Runs the CLI's main() in this process, capturing console output. */
export async function cliInProcess(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(' '));
  console.error = (...a: unknown[]) => void err.push(a.join(' '));
  try {
    const code = await main(args);
    return { code, stdout: out.join('\n'), stderr: err.join('\n') };
  } finally {
    console.log = log;
    console.error = error;
  }
}
