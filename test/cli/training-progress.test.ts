// The CLI's step lines: a total and an ETA from run-start, or from the epoch count for pretraining (whose events
// have no run-start); without either, no made-up total.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProgressPrinter } from '../../models/cli/training-progress';
import { stepEvent } from '../fixtures/step-event';

/** A stand-in for stderr that is not a terminal (lines every 10th step), collecting what is written. */
function sink(): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const stream = {
    isTTY: false,
    write: (s: string) => {
      out += s;
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, text: () => out };
}

const step = (n: number) => stepEvent({ step: n });

test('pretraining: the epoch count gives the total and the ETA (10 of 300 steps at 2 s)', () => {
  const s = sink();
  const p = new ProgressPrinter(s.stream, false);
  p.expectEpochs(3);
  for (let n = 1; n <= 10; n++) p.onEvent(step(n));
  assert.equal(s.text(), 'epoch 1 step 10/100 (10/300) loss 5.0000 lr 1.00e-3 2.00 s/step ETA 9m40s\n');
});

test('no run-start and no epoch count: the step line has no total and no ETA', () => {
  const s = sink();
  const p = new ProgressPrinter(s.stream, false);
  for (let n = 1; n <= 10; n++) p.onEvent(step(n));
  assert.equal(s.text(), 'epoch 1 step 10/100 (step 10) loss 5.0000 lr 1.00e-3 2.00 s/step\n');
});
