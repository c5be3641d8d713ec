// Reads a fixture run's events.jsonl (written by a real training in global-setup.ts).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseTrainingEvent, type TrainingEvent } from '@shared/training-events';

export function readEvents(runDir: string): TrainingEvent[] {
  return readFileSync(join(runDir, 'events.jsonl'), 'utf8')
    .split('\n')
    .map(parseTrainingEvent)
    .filter((e): e is TrainingEvent => e !== null);
}
