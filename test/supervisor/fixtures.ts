// Shared set-up of the supervisor tests: a workspace in a temp folder, the synthetic data set, a tiny AimKP
// config (real training, a few ms per step), and helpers that read a run's files.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSynthDataset } from '../../models/data/synth-dataset';
import { resolveConfig } from '../../models/train/config-resolve';
import type { TrainConfig } from '../../models/run/train-config';
import { parseTrainingEvent, type TrainingEvent } from '../../shared/training-events';
import { Supervisor, type SupervisorOptions } from '../../electron/supervisor/supervisor';
import { parseStreamLine, type StreamRecord } from '../../electron/supervisor/run-event-log';

export interface TestWorkspace {
  root: string;
  workspace: string;
  data: string;
  cleanup(): void;
}

/** A temp workspace and a synthetic data set of `items` items (80% train). */
export async function makeWorkspace(prefix: string, items = 40): Promise<TestWorkspace> {
  const root = mkdtempSync(join(tmpdir(), `aimkp-${prefix}-`));
  const data = join(root, 'data');
  await buildSynthDataset({ n: items, seed: 5, out: data });
  return { root, workspace: join(root, 'ws'), data, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * Tiny AimKP: 32 train items / batch 4 = 8 steps per epoch; epoch 1 is the warm-up, later epochs mask with
 * the stride maps (so an exact resume has to restore them). tau_v = 1 rejects image rows (halving + freezing).
 */
export function tinyAimkp(epochs = 3, partial: Partial<TrainConfig> = {}): TrainConfig {
  const c = resolveConfig({ preset: 'aimkp', flags: { epochs, encoder: 'patch:3:4', seed: 3 } });
  c.model = { dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16, dropout: 0.1, lora: null };
  c.batchSize = 4;
  c.samplesPerCall = 4;
  c.maxValid = 4;
  c.checkpointEvery = 3;
  c.aimkp!.tauText = 0.5;
  c.aimkp!.tauImage = 1;
  return { ...c, ...partial };
}

/** A supervisor on `workspace` with the TypeScript worker entry (tsx) and the backend of the other tests. */
export function newSupervisor(workspace: string, options: Partial<SupervisorOptions> = {}): Supervisor {
  return new Supervisor({ workspace, shutdownTimeoutMs: 60_000, ...options });
}

export function runEvents(workspace: string, runId: string): TrainingEvent[] {
  return readFileSync(join(workspace, 'runs', runId, 'events.jsonl'), 'utf8')
    .split('\n')
    .map(parseTrainingEvent)
    .filter((e): e is TrainingEvent => e !== null);
}

/** Every record of a run's stream, in order: its training events and the supervisor's job lines (seq = index + 1). */
export function streamRecords(workspace: string, runId: string): StreamRecord[] {
  return readFileSync(join(workspace, 'runs', runId, 'events.jsonl'), 'utf8')
    .split('\n')
    .map(parseStreamLine)
    .filter((e): e is StreamRecord => e !== null);
}

/** An event's data as a subscriber gets it: a job line's data, or the training event itself. */
export const streamData = (r: StreamRecord): unknown => (r.type === 'job' ? r.data : r);

/** true once the run's stream ends with its job's end (written as the job ends, perhaps after waitForJob resolves). */
export function streamEnded(workspace: string, runId: string): boolean {
  const last = streamRecords(workspace, runId).at(-1);
  return last?.type === 'job' && last.data.state !== 'queued' && last.data.state !== 'running';
}

/** Resolves when `predicate` holds, checking every `everyMs` (rejects after `timeoutMs`). */
export async function waitFor(predicate: () => boolean, timeoutMs = 120_000, everyMs = 10): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
