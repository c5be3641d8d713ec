// The native dropout mask (native/native_gemm.cc dropoutKeep, models/lm/ops.ts dropoutKeep): the same Alea stream
// as tf.randomUniform, so the same masks bit for bit (a run's dropout does not depend on whether the addon is built),
// and the training forward uses it. Skipped, with the reason, where the addon is not built.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../models/tf/backend';
import { DROPOUT_KEEP_KERNEL, nativeDropoutReady } from '../../models/tf/native-matmul';
import { aleaNext, aleaState } from '../../models/random/alea';
import { dropoutKeep } from '../../models/lm/ops';
import { profileKernels } from '../../models/bench/kernel-profile';
import { createKeyphraseLM } from '../../models/lm/keyphrase-lm';
import { makeExample, randomizeVariables, TEMPLATE, tinyConfig, variant } from '../lm/fixtures';

let skip: string | null = null;

before(async () => {
  const info = await initBackend('wasm');
  if (!info.nativeMatmul?.enabled) skip = `native matmul off: ${info.nativeMatmul?.reason ?? 'unknown'}`;
  else if (!nativeDropoutReady()) skip = 'the addon has no dropoutKeep kernel (rebuild it: npm run build:native)';
});

// Seeds as the forward pass makes them (a per-call seed + k·7717), 0, and beyond 32 bits.
const SEEDS = [0, 1, 7717, 123456789, 2 ** 31 + 12345, 4294967295 + 3 * 7717, 9007199254740991];

test("alea: the written-out seeding and generator give tf.randomUniform's values", () => {
  for (const seed of SEEDS) {
    const st = aleaState(seed);
    const ours = Float32Array.from({ length: 2000 }, () => aleaNext(st));
    const tfs = tf.tidy(() => tf.randomUniform([2000], 0, 1, 'float32', seed).dataSync());
    assert.deepEqual(Array.from(ours), Array.from(tfs), `seed ${seed}`);
  }
});

test('dropout: the native mask equals tf.randomUniform(...) ≥ rate bit for bit', (t) => {
  if (skip) return t.skip(skip);
  for (const seed of SEEDS)
    for (const rate of [0.05, 0.1, 0.5, 0.9])
      for (const shape of [[3, 77, 5], [1001], [2, 0, 4]]) {
        const { result: native, profile } = profileKernels(() =>
          tf.tidy(() => Array.from(dropoutKeep(shape, seed, rate).dataSync())),
        );
        const expected = tf.tidy(() =>
          Array.from(tf.randomUniform(shape, 0, 1, 'float32', seed).greaterEqual(rate).cast('float32').dataSync()),
        );
        assert.deepEqual(native, expected, `seed ${seed}, rate ${rate}, shape ${shape.join('×')}`);
        assert.equal(profile.byKernel.get(DROPOUT_KEEP_KERNEL)?.count, 1);
        assert.equal(profile.byKernel.has('GreaterEqual'), false);
      }
  // A check that can fail: the kept share is about 1 − rate.
  const kept = tf.tidy(() => dropoutKeep([100000], 42, 0.05).mean().dataSync()[0]);
  assert.ok(Math.abs(kept - 0.95) < 0.005, `kept ${kept}`);
});

test("dropout: a LoRA model's training forward draws its masks with the native kernel", (t) => {
  if (skip) return t.skip(skip);
  const config = tinyConfig({ vocabSize: 64, lora: { rank: 2, alpha: 4, dropout: 0.1 } });
  const model = createKeyphraseLM(config, TEMPLATE, 3);
  randomizeVariables(model.namedVariables().values(), 5, 0.3);
  const examples = [makeExample(0, config, 4, [11, 40]), makeExample(1, config, 2, [12])];
  const { profile } = profileKernels(() => {
    const out = model.weightedGradients(
      examples,
      examples.map(() => variant()),
      [0.5, 0.5],
      true,
    );
    tf.dispose(out.grads);
  });
  assert.ok((profile.byKernel.get(DROPOUT_KEEP_KERNEL)?.count ?? 0) > 0, 'no native dropout mask drawn');
  assert.equal(profile.byKernel.has('GreaterEqual'), false);
});

test("dropout: the scalar loop (no AVX2) gives tf's masks too", (t) => {
  if (skip) return t.skip(skip);
  const script = `
    import * as tf from '@tensorflow/tfjs';
    import { initBackend } from './models/tf/backend';
    import { dropoutKeep } from './models/lm/ops';
    import { nativeDropoutReady } from './models/tf/native-matmul';
    const info = await initBackend('wasm');
    let same = true;
    for (const seed of [0, 7717, 2 ** 31 + 12345])
      for (const rate of [0.05, 0.5]) {
        const a = dropoutKeep([5, 333], seed, rate).dataSync();
        const b = tf.randomUniform([5, 333], 0, 1, 'float32', seed).greaterEqual(rate).cast('float32').dataSync();
        same = same && a.every((v, i) => v === b[i]);
      }
    console.log(JSON.stringify({ kernel: info.nativeMatmul?.kernel, native: nativeDropoutReady(), same }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, AIMKP_GEMM_KERNEL: 'generic' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
  assert.deepEqual(out, { kernel: 'generic-6x16', native: true, same: true });
});
