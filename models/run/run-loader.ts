// Loads a trained run for inference (predict, eval, robustness, bench): the model with the weights of
// best/ or checkpoints/last, the tokenizer, the saved config and the encoder spec.
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import type { KeyphraseLM, PromptTemplate } from '../lm/contract';
import { createKeyphraseLM } from '../lm/keyphrase-lm';
import type { Tokenizer } from '../text/tokenizer-types';
import { tokenizerFromJson } from '../text/tokenizer';
import { initBackend, type BackendRequest } from '../tf/backend';
import { assignWeights, readCheckpoint } from './checkpoint-io';
import { readJson, readRunConfig, RUN_FILES, type RunConfig } from './run-files';

export interface LoadedRun {
  model: KeyphraseLM;
  tokenizer: Tokenizer;
  config: RunConfig;
  /** The --encoder spec the run was trained with (features must come from the same encoder). */
  encoderSpec: string;
  /** Which checkpoint folder was read, and where training stood when it was written. */
  checkpoint: { dir: string; epoch: number; globalStep: number; bestEpoch: number | null; bestScore: number | null };
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
  options: { backend?: BackendRequest } = {},
): Promise<LoadedRun> {
  await initBackend(options.backend);
  const config = readRunConfig(runDir);
  const tokenizer = tokenizerFromJson(readJson(join(runDir, RUN_FILES.tokenizer)), join(runDir, RUN_FILES.tokenizer));
  const ck = await readCheckpoint(join(runDir, which === 'best' ? RUN_FILES.best : RUN_FILES.last), false);
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
  return {
    model,
    tokenizer,
    config,
    encoderSpec: config.encoder,
    checkpoint: {
      dir: ck.dir,
      epoch: s.epoch,
      globalStep: s.globalStep,
      bestEpoch: s.bestEpoch,
      bestScore: s.bestScore,
    },
  };
}
