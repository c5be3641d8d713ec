// The CLI's line (and the workbench's job error) for a wasm trap: a full wasm heap (a real out-of-bounds trap, emscripten's abort) gets a hint
// on what to lower; other traps do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exitCodeFor, formatCliError, asCoreError } from '../../models/cli/cli-error';
import { errorOf } from '../../electron/supervisor/run-job';

/** (module (memory 1) (func (export "f") (result i32) (i32.load (i32.const 70000)))): reads past its 64 KiB. */
const OUT_OF_BOUNDS = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00,
  0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x05, 0x01, 0x01, 0x66, 0x00, 0x00, 0x0a, 0x0b, 0x01, 0x09, 0x00, 0x41, 0xf0,
  0xa2, 0x04, 0x28, 0x02, 0x00, 0x0b,
]);

function realTrap(): unknown {
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(OUT_OF_BOUNDS));
  try {
    (exports.f as () => number)();
  } catch (err) {
    return err;
  }
  assert.fail('the module should trap');
}

test('a real out-of-bounds wasm trap: one line with what to lower, internal error, exit 1', () => {
  const err = realTrap();
  assert.ok(err instanceof WebAssembly.RuntimeError);
  const line = formatCliError(err, false);
  assert.match(line, /^aimkp: memory access out of bounds: the wasm backend's heap \(4 GB at most\) ran out/);
  assert.match(line, /--config '\{"samplesPerCall": 2, "validBatch": 2\}'/);
  assert.equal(line.split('\n').length, 1);
  assert.equal(exitCodeFor(asCoreError(err)), 1);
  // --debug keeps the trap's own stack
  assert.match(formatCliError(err, true), /RuntimeError: memory access out of bounds/);
});

test("emscripten's abort (malloc failing) gets the hint; other traps do not", () => {
  const abort = new WebAssembly.RuntimeError('Aborted(). Build with -sASSERTIONS for more info.');
  assert.match(formatCliError(abort, false), /ran out: a model or batch this large/);
  const other = new WebAssembly.RuntimeError('unreachable');
  assert.equal(
    formatCliError(other, false),
    'aimkp: unreachable (internal error; run again with --debug for the stack)',
  );
});

test("the workbench's failed job says the same, with the trap's stack below", () => {
  const { code, message } = errorOf(realTrap());
  assert.equal(code, 'INTERNAL');
  assert.match(message, /^memory access out of bounds: the wasm backend's heap \(4 GB at most\) ran out/);
  assert.match(message.split('\n')[1], /RuntimeError: memory access out of bounds/);
  assert.equal(errorOf(new Error('plain')).message.split('\n')[0], 'Error: plain');
});
