// What a training run holds while it steps: the model, AdamW with its slots, the stride maps, the data-order
// RNG and the resumable TrainState; built fresh, from a warm-start source (best/ of another run), or from the
// run's newest checkpoint that verifies (resume).
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import type { KeyphraseLM } from '../lm/contract';
import { createKeyphraseLM } from '../lm/keyphrase-lm';
import { assignMatchingWeights, assignWeights, loadResumeCheckpoint, readCheckpoint } from '../run/checkpoint-io';
import { RUN_FILES } from '../run/run-files';
import { AdamW, ADAMW_DEFAULTS, paramSlots, type ParamSlot } from './adamw';
import { adamwStateOf, freshTrainState, trainStateOf, validateTrainState, type TrainState } from './checkpoint-parts';
import { Rng, hashSeed } from './rng';
import type { RunSetup } from './run-setup';
import { StrideState } from './stride-state';

export interface TrainingState {
  model: KeyphraseLM;
  slots: ParamSlot[];
  optimizer: AdamW;
  strides: StrideState;
  rng: Rng;
  state: TrainState;
  /** Frees the model's and the optimizer's tensors. */
  dispose(): void;
}

export async function createTrainingState(setup: RunSetup, log: (line: string) => void): Promise<TrainingState> {
  const { config } = setup;
  const model = createKeyphraseLM(setup.lm, setup.template, config.seed);
  const slots = paramSlots(model.trainableVariables(), model.namedVariables(), new RegExp(config.adapterPattern));
  const optimizer = new AdamW(slots, {
    ...ADAMW_DEFAULTS,
    lr: config.lr,
    adapterLr: config.adapterLr,
    weightDecay: config.weightDecay,
    clipNorm: config.clipNorm,
  });
  const dispose = () => {
    optimizer.dispose();
    model.dispose();
  };
  try {
    const strideOptions = config.aimkp?.stride ?? { rule: 'progressive' as const, fixedStride: 2, warmup: true };
    let strides = new StrideState(setup.data.train.length, strideOptions);
    let rng = Rng.fromSeed(hashSeed(config.seed, 0x0da7a));
    let state = freshTrainState(rng.state(), strides.toJSON());
    if (setup.initRun) {
      const ck = await readCheckpoint(join(config.initFrom!, RUN_FILES.best), false);
      try {
        const report = assignMatchingWeights(model.namedVariables(), ck.weights, ck.dir);
        log(
          `initialised ${report.assigned} variables from ${ck.dir}; ${report.fresh.length} kept fresh${report.fresh.length > 0 ? ` (${report.fresh.slice(0, 3).join(', ')}${report.fresh.length > 3 ? ', …' : ''})` : ''}`,
        );
      } finally {
        tf.dispose(ck.weights);
      }
    }
    if (setup.resuming) {
      // The newest checkpoint that verifies (last, else previous); corrupt ones are named, never loaded.
      // A checkpoint whose state.json makes no sense for this run is corrupt too: resume falls back past it.
      const ck = await loadResumeCheckpoint(join(setup.runDir, RUN_FILES.last), log, (s, file) =>
        validateTrainState(s, file, {
          strideSamples: setup.data.train.length,
          orderSize: setup.data.train.length,
          epochs: config.epochs,
          batchSize: config.batchSize,
        }),
      );
      if (ck === null) {
        log('no checkpoint yet: starting from step 0 with the saved config');
      } else {
        try {
          assignWeights(model.namedVariables(), ck.weights, ck.dir);
        } finally {
          tf.dispose(ck.weights);
        }
        if (ck.optimizer) optimizer.importState(adamwStateOf(ck.optimizer, ck.dir), join(ck.dir, 'optimizer.json'));
        state = trainStateOf(ck);
        strides = StrideState.fromJSON(state, strideOptions, join(ck.dir, 'state.json'));
        rng = Rng.fromState(state.rngState);
        log(`resuming at epoch ${state.epoch + 1}, step ${state.globalStep} (${ck.dir})`);
      }
    }
    return { model, slots, optimizer, strides, rng, state, dispose };
  } catch (err) {
    dispose();
    throw err;
  }
}

/**
 * Runs `run`, then `dispose` (a model's and optimizer's tensors). When `run` failed, an error from `dispose` is
 * dropped: after a wasm trap the heap is unusable and disposing traps too, and the first error is the one to report.
 */
export async function runThenDispose<T>(run: () => Promise<T>, dispose: () => void): Promise<T> {
  let result: T;
  try {
    result = await run();
  } catch (err) {
    try {
      dispose();
    } catch {
      // the run's own error (thrown below) says what went wrong
    }
    throw err;
  }
  dispose();
  return result;
}
