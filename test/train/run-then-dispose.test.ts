// runThenDispose (models/train/training-state.ts): the tensors are released on every path, and when the run
// failed (a wasm trap, after which disposing traps too) the run's own error is the one reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runThenDispose } from '../../models/train/training-state';

test('success: the result, disposed once; a failing dispose after a good run is reported', async () => {
  let disposed = 0;
  assert.equal(
    await runThenDispose(
      async () => 42,
      () => void (disposed += 1),
    ),
    42,
  );
  assert.equal(disposed, 1);
  await assert.rejects(
    runThenDispose(
      async () => 1,
      () => {
        throw new Error('dispose failed');
      },
    ),
    /dispose failed/,
  );
});

test("failure: disposed once, and the run's error wins over the dispose's", async () => {
  let disposed = 0;
  await assert.rejects(
    runThenDispose(
      async () => {
        throw new WebAssembly.RuntimeError('memory access out of bounds');
      },
      () => {
        disposed += 1;
        throw new WebAssembly.RuntimeError('memory access out of bounds (in dispose)');
      },
    ),
    (err: Error) => err.message === 'memory access out of bounds',
  );
  assert.equal(disposed, 1);
});
