// Loads a trained run for inference (predict, eval, robustness, bench): the model with the weights of
// best/ or checkpoints/last, the tokenizer, the saved config and the encoder spec.
import * as tf from '@tensorflow/tfjs';
import { join, relative } from 'node:path';
import type { KeyphraseLM, PromptTemplate } from '../lm/contract';
import { createKeyphraseLM } from '../lm/keyphrase-lm';
import type { Tokenizer } from '../text/tokenizer-types';
import { tokenizerFromJson } from '../text/tokenizer';
import { initBackend, type BackendRequest } from '../tf/backend';
import { assignWeights, describeProblems, readCheckpoint } from './checkpoint-io';
import type { StateValidator } from './checkpoint-content';
import { readJson, readRunConfig, RUN_FILES, type RunConfig } from './run-files';

export interface LoadedRun {
  model: KeyphraseLM;
  tokenizer: Tokenizer;
  config: RunConfig;
  /** The --encoder spec the run was trained with (features must come from the same encoder). */
  encoderSpec: string;
  /** Which checkpoint folder was read, and where training stood when it was written. */
  checkpoint: {
    dir: string;
    /** The folder read, relative to the run ("best", "checkpoints/last", "checkpoints/previous", …). */
    name: string;
    epoch: number;
    globalStep: number;
    bestEpoch: number | null;
    bestScore: number | null;
    /** Set when the folder asked for was not usable: which one was read instead, and why (one line). */
    fallback: string | null;
  };
}

export function runTemplate(config: RunConfig): PromptTemplate {
  const t = config.template;
  return { prefix: Int32Array.from(t.prefix), instruction: Int32Array.from(t.instruction), eos: t.eos, pad: t.pad };
}

/**
 * Rebuilds the run's model and loads `which` ('best': the best validation epoch, 'last': the latest
 * checkpoint). Initialises the TF.js backend (idempotent) unless one is already chosen.
 */
export async function loadRunForInference(
  runDir: string,
  which: 'best' | 'last' = 'best',
  options: {
    backend?: BackendRequest;
    /** The writer's check of state.json's meaning (models/train validateTrainState); a failing checkpoint is corrupt. */
    validateState?: StateValidator;
  } = {},
): Promise<LoadedRun> {
  await initBackend(options.backend);
  const config = readRunConfig(runDir);
  const tokenizer = tokenizerFromJson(readJson(join(runDir, RUN_FILES.tokenizer)), join(runDir, RUN_FILES.tokenizer));
  const asked = which === 'best' ? RUN_FILES.best : RUN_FILES.last;
  const validate = options.validateState;
  const ck = await readCheckpoint(
    join(runDir, asked),
    false,
    validate ? (state, file) => validate(state, file, config) : undefined,
  );
  const model = createKeyphraseLM(config.lm, runTemplate(config), config.seed);
  try {
    assignWeights(model.namedVariables(), ck.weights, ck.dir);
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    tf.dispose(ck.weights);
  }
  const s = ck.state;
  const name = relative(runDir, ck.dir);
  return {
    model,
    tokenizer,
    config,
    encoderSpec: config.encoder,
    checkpoint: {
      dir: ck.dir,
      name,
      // Only when another folder than the one asked for was read (a corrupt `previous` beside a good `last` is
      // doctor's business, not this evaluation's).
      fallback:
        name === asked
          ? null
          : `${ck.skipped.length > 0 ? describeProblems(ck.skipped) : `${asked} is not the newest good checkpoint`}; read ${name} (epoch ${s.epoch}, step ${s.globalStep}) instead of ${asked}`,
      epoch: s.epoch,
      globalStep: s.globalStep,
      bestEpoch: s.bestEpoch,
      bestScore: s.bestScore,
    },
  };
}
