// Stage 1 of the paper's setting (docs/training.md "Paper setting"): next-token pretraining of the LM on text only.
// The corpus (pretrain-corpus.ts) is packed into fixed-length chunks that span every position the fine-tuning
// prompt uses (the position table is frozen later), each chunk is one row `<bos> t1 … tL` with the loss on every
// token. The run folder has the fine-tuning format (config.json as a RunConfig, tokenizer.json, best/, resumable
// checkpoints/last, events.jsonl) plus corpus.jsonl, so `aimkp align --base RUN` / `--init-from RUN` start from it.
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CoreError } from '../core-error';
import { loadDataset } from '../data/load-dataset';
import type { EncodedExample, LmConfig, PromptTemplate, RowVariant } from '../lm/contract';
import { createKeyphraseLM } from '../lm/keyphrase-lm';
import { accumulateGrads } from '../lm/ops';
import { describeBackend, initBackend } from '../tf/backend';
import { buildTokenizer, tokenizerFromJson } from '../text/tokenizer';
import type { Tokenizer } from '../text/tokenizer-types';
import { loadImageEncoder } from '../vision/load-image-encoder';
import type { StepEvent, TrainingEvent } from '../../shared/training-events';
import { assignWeights, cleanTempFolders, loadResumeCheckpoint } from '../run/checkpoint-io';
import { AdamW, ADAMW_DEFAULTS, paramSlots, type StepInfo } from './adamw';
import { adamwStateOf, freshTrainState, trainStateOf, validateTrainState, type TrainState } from './checkpoint-parts';
import { checkpointSaver, runEpochs } from './epoch-loop';
import { runThenDispose } from './training-state';
import { maxPositionsFor, promptTemplate, PROMPT_INSTRUCTION, PROMPT_PREFIX } from './data-prep';
import {
  buildCorpus,
  corpusTexts,
  parseCorpus,
  readWordnet,
  WORDNET_DEFAULT_DIR,
  type CorpusDoc,
} from './pretrain-corpus';
import { readDictd } from './dictd-corpus';
import { Rng, hashSeed } from './rng';
import {
  ensureRunDir,
  EventLog,
  packageVersion,
  readJson,
  readRunConfig,
  RUN_FILES,
  writeJsonAtomic,
  type RunConfig,
} from '../run/run-files';
import { lrFactor } from './schedule';
import { parallelStep } from './parallel-step';
import { Replicas } from '../parallel/replicas';
import { resolveWorkers, workersChange } from '../parallel/worker-count';
import type { TrainOptions } from './train-options';
import type { TrainConfig } from '../run/train-config';
import { writeFileAtomic } from '../fs/atomic-write';

export const CORPUS_FILE = 'corpus.jsonl';

/** A --config JSON file of field overrides; unreadable or invalid JSON → one error naming the file. */
export function readConfigOverride(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CoreError('BAD_INPUT', `${file}: cannot read (${(err as Error).message})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CoreError('BAD_INPUT', `${file}: invalid JSON (${(err as Error).message})`);
  }
}

/** What only the pretraining stage needs; stored as config.json's `pretrain` field. */
export interface PretrainSettings {
  wordnetDir: string;
  /** WordNet documents kept (most train-vocabulary lemmas first); null = every matching synset. */
  maxWordnetDocs: number | null;
  /** Also the synsets with no train-vocabulary lemma (all 117,659 glosses, 1.45 M words). Absent in older runs. */
  wordnetAll?: boolean;
  /** dictd folder holding GCIDE (gcide.index + gcide.dict.dz); null or absent = no GCIDE. */
  gcideDir?: string | null;
  /** GCIDE entries kept (train-vocabulary headwords first); null = all. */
  maxGcideDocs?: number | null;
  /** Chunks held out of training for the held-out loss (the last ones of the packed stream). */
  heldOutChunks: number;
}

export interface PretrainRunConfig extends RunConfig {
  pretrain: PretrainSettings & { docs: number; tokens: number; chunkTokens: number; corpusSha1: string };
}

/**
 * Defaults: the from-scratch presets' LM shape and vocabulary cap; 3 epochs at 1e-3 (the corpus is ~20× the
 * train split's text). Fields that only matter for keyphrase fine-tuning are kept so config.json is a RunConfig.
 */
/**
 * Base LM sizes for `aimkp pretrain --size`: small (the defaults below, 1.8 M parameters with an 8k vocabulary) and
 * large (issue 19: a base that knows language): d 256, 4 layers, 8 heads, dFF 1024, a 16k vocabulary for the larger
 * corpus, and the 16×16 grid encoder so the frozen position table covers 256 image tokens — ≈ 11.5 M parameters
 * (the small one: 2.8 M with its Conv_1 adapter).
 */
export const PRETRAIN_SIZES = {
  small: {},
  large: {
    model: { dModel: 256, nLayers: 4, nHeads: 8, dFF: 1024, adapterHidden: 256, dropout: 0, lora: null },
    // 341-token chunks × 16k logits per row: 8 rows per call exhaust the wasm heap (4 GB), 4 rows take 3.1 GB of
    // memory, 2 rows 2.1 GB at the same step time (measured), so 2 — the batch stays 16 chunks.
    samplesPerCall: 2,
    validBatch: 2,
    maxVocab: 16000,
    encoder: 'mobilenet-v2-s16@256',
  },
} as const satisfies Record<string, Partial<TrainConfig>>;
export type PretrainSize = keyof typeof PRETRAIN_SIZES;

export function pretrainDefaults(): TrainConfig {
  return {
    preset: 'lm-pretrain',
    description:
      'stage 1 of the paper setting: next-token LM pretraining on text only (WordNet glosses + train-split texts and tag lists)',
    paper: 'the base LM (Vicuna) of LLaVA-1.5',
    method: 'standard',
    mode: 'text',
    epochs: 3,
    batchSize: 16,
    samplesPerCall: 16,
    lr: 1e-3,
    adapterLr: 1e-3,
    weightDecay: 0,
    warmupRatio: 0.03,
    clipNorm: 1,
    adapterPattern: '^adapter',
    seed: 1,
    aimkp: null,
    model: { dModel: 128, nLayers: 2, nHeads: 4, dFF: 256, adapterHidden: 256, dropout: 0, lora: null },
    initFrom: null,
    encoder: 'mobilenet-v2',
    maxTextTokens: 48,
    maxAnswerTokens: 24,
    minWordCount: 1,
    maxVocab: 8000,
    maxTrain: null,
    maxValid: null,
    checkpointEvery: 50,
    validBatch: 32,
  };
}

/**
 * train()'s options that pretraining shares (dataDir: the fine-tuning data set, whose TRAIN split enters the corpus
 * and the tokenizer; required for a new run), plus its own.
 */
export interface PretrainOptions extends Pick<
  TrainOptions,
  'runDir' | 'dataDir' | 'config' | 'resume' | 'backend' | 'onEvent' | 'log' | 'maxSteps' | 'signal' | 'workers'
> {
  settings?: Partial<PretrainSettings>;
  /** Tests: a corpus instead of WordNet + the data set (the data set still gives the tokenizer's coverage). */
  corpusOverride?: CorpusDoc[];
}

export interface PretrainResult {
  status: 'completed' | 'stopped';
  runDir: string;
  globalStep: number;
  epoch: number;
  /** Held-out mean next-token loss after each finished epoch. */
  heldOutLoss: number[];
  losses: Map<number, number>;
}

/** The pretraining rows' template: one <bos> slot, no instruction; the whole chunk is the "answer". */
export function pretrainTemplate(tokenizer: Tokenizer): PromptTemplate {
  return {
    prefix: Int32Array.of(tokenizer.specials.bos),
    instruction: new Int32Array(0),
    eos: tokenizer.specials.eos,
    pad: tokenizer.specials.pad,
  };
}

/**
 * Token ids of one document: text + <eos>, or tags joined by <sep> + <eos>. Words outside the vocabulary are
 * dropped, not kept as <unk>: WordNet glosses are ~9–12 % out-of-vocabulary words, and a model pretrained on
 * them learns <unk> as one of its most likely tokens — with a frozen output layer it then answers "<unk>"
 * (measured: docs/results.md section 6).
 */
export function docIds(tokenizer: Tokenizer, doc: CorpusDoc): Int32Array {
  const unk = tokenizer.specials.unk;
  if ('tags' in doc) return tokenizer.encodeKeyphrases(doc.tags).filter((id) => id !== unk);
  const ids = tokenizer.encode(doc.text).filter((id) => id !== unk);
  const out = new Int32Array(ids.length + 1);
  out.set(ids);
  out[ids.length] = tokenizer.specials.eos;
  return out;
}

/** Shuffles the documents (seeded), concatenates them and cuts chunks of `len` tokens (the last partial one dropped). */
export function packChunks(tokenizer: Tokenizer, docs: readonly CorpusDoc[], len: number, seed: number): Int32Array[] {
  const order = Rng.fromSeed(hashSeed(seed, 0xc0de)).permutation(docs.length);
  const stream: number[] = [];
  for (const i of order) stream.push(...docIds(tokenizer, docs[i]));
  const chunks: Int32Array[] = [];
  for (let s = 0; s + len <= stream.length; s += len) chunks.push(Int32Array.from(stream.slice(s, s + len)));
  return chunks;
}

/** Tokenizer: every word of the train split (texts, keyphrases) and the prompt, then corpus words by count up to maxVocab. */
function buildPretrainTokenizer(
  trainTexts: string[],
  corpus: string[],
  maxVocab: number | null,
  minCount: number,
): Tokenizer {
  const extra = [PROMPT_PREFIX, PROMPT_INSTRUCTION, ...trainTexts];
  return buildTokenizer([...corpus, ...trainTexts], { minCount, maxVocab: maxVocab ?? undefined, extra });
}

function rowsOf(chunks: Int32Array[], start: number): { examples: EncodedExample[]; variants: RowVariant[] } {
  return {
    examples: chunks.map((answer, i) => ({
      index: start + i,
      id: `chunk-${start + i}`,
      image: null,
      text: new Int32Array(0),
      answer,
    })),
    variants: chunks.map(() => ({ mode: 'text', textStride: 1, imageStride: 1, kind: 'structured', seed: 0 })),
  };
}

export async function pretrain(options: PretrainOptions): Promise<PretrainResult> {
  const runDir = resolve(options.runDir);
  const log = options.log ?? (() => undefined);
  const started = performance.now();
  const now = () => new Date().toISOString();
  const hasRun = existsSync(join(runDir, RUN_FILES.config));
  if (hasRun && !options.resume)
    throw new CoreError(
      'ALREADY_EXISTS',
      `${runDir}: a run already exists there; pass --resume to continue it, or choose another --out`,
    );
  const resuming = hasRun && options.resume === true;
  const workers = resolveWorkers(options.workers);
  const backend = await initBackend(options.backend);

  let saved: PretrainRunConfig;
  let tokenizer: Tokenizer;
  let docs: CorpusDoc[];
  if (resuming) {
    saved = readRunConfig(runDir) as PretrainRunConfig;
    if (saved.pretrain === undefined)
      throw new CoreError(
        'BAD_INPUT',
        `${join(runDir, RUN_FILES.config)}: field "pretrain" missing: not a pretraining run (resume it with aimkp train)`,
      );
    tokenizer = tokenizerFromJson(readJson(join(runDir, RUN_FILES.tokenizer)), join(runDir, RUN_FILES.tokenizer));
    const file = join(runDir, CORPUS_FILE);
    const text = readFileSync(file, 'utf8');
    if (sha1(text) !== saved.pretrain.corpusSha1)
      throw new CoreError(
        'MISMATCH',
        `${file}: content differs from the corpus the run started with (sha1 ${saved.pretrain.corpusSha1})`,
      );
    docs = parseCorpus(text, file);
  } else {
    if (!options.dataDir)
      throw new CoreError(
        'BAD_INPUT',
        'pretrain: --data is required (its train split enters the corpus and the tokenizer)',
      );
    const config = options.config ?? pretrainDefaults();
    const settings: PretrainSettings = {
      wordnetDir: WORDNET_DEFAULT_DIR,
      maxWordnetDocs: null,
      heldOutChunks: 64,
      ...options.settings,
    };
    const dataDir = resolve(options.dataDir);
    const data = await loadDataset(dataDir, { splits: ['train'], checkImages: false });
    let trainItems = data.items.filter((i) => i.split === 'train');
    if (config.maxTrain !== null) trainItems = trainItems.slice(0, config.maxTrain);
    if (trainItems.length === 0) throw new CoreError('BAD_INPUT', `${dataDir}: no train items`);
    docs =
      options.corpusOverride ??
      buildCorpus(trainItems, readWordnet(settings.wordnetDir), {
        maxWordnetDocs: settings.maxWordnetDocs,
        wordnetAll: settings.wordnetAll ?? false,
        dictEntries: settings.gcideDir ? readDictd(settings.gcideDir, 'gcide') : [],
        maxDictDocs: settings.maxGcideDocs ?? null,
      });
    const trainTexts = trainItems.flatMap((i) => [i.text, ...i.keyphrases]);
    tokenizer = buildPretrainTokenizer(trainTexts, corpusTexts(docs), config.maxVocab, config.minWordCount);
    const encoder = await loadImageEncoder(config.encoder);
    const { id: encoderId, grid, channels } = encoder;
    encoder.dispose();
    const template = promptTemplate(tokenizer);
    const lm: LmConfig = {
      vocabSize: tokenizer.vocabSize,
      ...config.model,
      maxPositions: maxPositionsFor(template, grid, config),
      imageFeatureDim: channels,
      imageGrid: grid,
    };
    const corpusText = docs.map((d) => JSON.stringify(d)).join('\n') + '\n';
    const chunkTokens = lm.maxPositions - 1;
    const tokens = docs.reduce((n, d) => n + docIds(tokenizer, d).length, 0);
    saved = {
      ...config,
      format: 'aimkp-run-v1',
      dataDir,
      lm,
      template: {
        prefix: Array.from(template.prefix),
        instruction: Array.from(template.instruction),
        eos: template.eos,
        pad: template.pad,
      },
      encoderId,
      trainItems: Math.floor(tokens / chunkTokens),
      trainFingerprint: sha1(corpusText).slice(0, 16),
      backend: backend.picked,
      createdAt: now(),
      version: packageVersion(),
      pretrain: { ...settings, docs: docs.length, tokens, chunkTokens, corpusSha1: sha1(corpusText) },
    };
    await ensureRunDir(runDir);
    await writeFileAtomic(join(runDir, CORPUS_FILE), corpusText, { fsync: true });
    await writeJsonAtomic(join(runDir, RUN_FILES.tokenizer), tokenizer.toJSON());
    await writeJsonAtomic(join(runDir, RUN_FILES.config), saved);
  }
  const config = saved;
  const p = saved.pretrain;
  const events = new EventLog(join(runDir, RUN_FILES.events));
  const emit = (e: TrainingEvent) => {
    events.append(e);
    options.onEvent?.(e);
  };
  const all = packChunks(tokenizer, docs, p.chunkTokens, config.seed);
  const heldOutCount = Math.min(p.heldOutChunks, Math.floor(all.length / 10));
  const train = all.slice(0, all.length - heldOutCount);
  const heldOut = all.slice(all.length - heldOutCount);
  log(
    `corpus: ${p.docs} documents, ${p.tokens} tokens → ${train.length} training chunks of ${p.chunkTokens} tokens, ${heldOut.length} held out; vocabulary ${tokenizer.vocabSize}`,
  );

  const removed = await cleanTempFolders(join(runDir, RUN_FILES.checkpoints));
  if (removed.length > 0) log(`removed ${removed.length} unfinished checkpoint folder(s)`);
  const model = createKeyphraseLM(config.lm, pretrainTemplate(tokenizer), config.seed);
  // The adapter sees no input here: only the LM's variables are optimised.
  const adapter = new RegExp(config.adapterPattern);
  const named = model.namedVariables();
  const nameOf = new Map([...named].map(([n, v]) => [v, n] as const));
  const lmVars = model.trainableVariables().filter((v) => !adapter.test(nameOf.get(v) ?? v.name));
  const allVars = model.trainableVariables();
  const slots = paramSlots(lmVars, named, adapter);
  const optimizer = new AdamW(slots, {
    ...ADAMW_DEFAULTS,
    lr: config.lr,
    adapterLr: config.adapterLr,
    weightDecay: config.weightDecay,
    clipNorm: config.clipNorm,
  });
  // The data-parallel workers (K > 1): started here, ended on every exit path below.
  const replicas = workers > 1 ? Replicas.start(workers, backend.picked) : null;
  const disposeAll = () => {
    optimizer.dispose();
    model.dispose();
  };
  try {
    return await runThenDispose(async () => {
      let rng = Rng.fromSeed(hashSeed(config.seed, 0x9e7a));
      // No masking in pretraining: empty stride maps.
      let state = freshTrainState(rng.state(), { strideText: [], strideImage: [], frozenText: [], frozenImage: [] });
      if (resuming) {
        // The newest checkpoint that verifies (last, else previous); none yet: start at step 0.
        const ck = await loadResumeCheckpoint(join(runDir, RUN_FILES.last), log, (s, file) =>
          validateTrainState(s, file, {
            strideSamples: 0,
            orderSize: train.length,
            epochs: config.epochs,
            batchSize: config.batchSize,
          }),
        );
        if (ck !== null) {
          try {
            assignWeights(named, ck.weights, ck.dir);
          } finally {
            tf.dispose(ck.weights);
          }
          if (ck.optimizer) optimizer.importState(adamwStateOf(ck.optimizer, ck.dir), join(ck.dir, 'optimizer.json'));
          state = trainStateOf(ck);
          rng = Rng.fromState(state.rngState);
          log(`resuming at epoch ${state.epoch + 1}, step ${state.globalStep}`);
          const change = state.globalStep > 0 ? workersChange(state.workers ?? 1, workers) : null;
          if (change) log(`warning: ${change.message}`);
        }
      }
      state.workers = workers;
      // Rows of every training chunk, as the workers hold them (standard-step rows: the chunk is the answer).
      const chunkRows = rowsOf(train, 0).examples;
      if (replicas) {
        await replicas.setModel(model, config.seed, optimizer.setup());
        await replicas.shareExamples('chunks', chunkRows, false);
        log(`data-parallel: ${workers} workers (this thread + ${workers - 1}), batch split by chunk`);
      }
      const stepsPerEpoch = Math.ceil(train.length / config.batchSize);
      const schedule = { totalSteps: stepsPerEpoch * config.epochs, warmupRatio: config.warmupRatio };
      const losses = new Map<number, number>();

      /** One optimizer step on the next chunks of the epoch's order: next-token loss on every token, LM only. */
      const lmOnly = (all: tf.Tensor[]): tf.Tensor[] => {
        // One gradient per trainable variable; keep the LM's (the adapter's are zero).
        const keep = new Set(lmVars);
        tf.dispose(all.filter((_, i) => !keep.has(allVars[i])));
        return all.filter((_, i) => keep.has(allVars[i]));
      };
      const step = async (): Promise<StepEvent> => {
        const t0 = performance.now();
        const k = state.stepInEpoch;
        const idx = state.dataOrder.slice(k * config.batchSize, (k + 1) * config.batchSize);
        const chunks = idx.map((i) => train[i]);
        const total = chunks.reduce((n, c) => n + c.length, 0);
        model.reseedDropout(hashSeed(config.seed, state.globalStep, 0xd5));
        const factor = lrFactor(state.globalStep, schedule);
        let loss = 0;
        let info: StepInfo;
        if (replicas) {
          // Over the data-parallel ranks: the standard step's token weighting is this loop's (weights n_i / N); every
          // rank applies the update (to the LM's variables: the optimizer's) on its own replica.
          const g = await parallelStep(replicas, {
            model,
            optimizer,
            lrFactor: factor,
            set: 'chunks',
            positions: idx,
            batch: idx.map((i) => chunkRows[i]),
            samplesPerCall: config.samplesPerCall,
            seed: config.seed,
            step: state.globalStep,
            method: { kind: 'standard', mode: 'text' },
          });
          loss = g.loss;
          info = g.info;
        } else {
          let grads: tf.Tensor[] | null = null;
          for (let s = 0; s < chunks.length; s += config.samplesPerCall) {
            const part = chunks.slice(s, s + config.samplesPerCall);
            const { examples, variants } = rowsOf(part, s);
            const weights = part.map((c) => c.length / total);
            const out = model.weightedGradients(examples, variants, weights, true);
            part.forEach((_, i) => (loss += weights[i] * out.result.losses[i]));
            grads = accumulateGrads(grads, lmOnly(out.grads));
          }
          try {
            info = optimizer.apply(grads ?? [], factor);
          } finally {
            tf.dispose(grads ?? []);
          }
        }
        state.globalStep += 1;
        state.stepInEpoch += 1;
        const ms = performance.now() - t0;
        state.epochStats.steps += 1;
        state.epochStats.lossSum += loss;
        state.epochStats.trainMs += ms;
        losses.set(state.globalStep, loss);
        return {
          type: 'step',
          time: now(),
          run: runDir,
          epoch: state.epoch,
          step: state.globalStep,
          stepInEpoch: state.stepInEpoch,
          stepsPerEpoch,
          loss,
          variantLoss: { original: loss, text: null, image: null },
          samples: [],
          accepted: { text: 0, image: 0 },
          checked: { text: 0, image: 0 },
          rows: chunks.length,
          lr: info.lr,
          adapterLr: info.adapterLr,
          gradNorm: info.gradNorm,
          ms,
        };
      };
      const heldOutLoss = (): number => {
        let sum = 0;
        let n = 0;
        for (let i = 0; i < heldOut.length; i += config.validBatch) {
          const part = heldOut.slice(i, i + config.validBatch);
          const { examples, variants } = rowsOf(part, i);
          const r = model.losses(examples, variants);
          part.forEach((c, k) => {
            sum += r.losses[k] * r.answerTokens[k];
            n += r.answerTokens[k];
          });
        }
        return n === 0 ? NaN : sum / n;
      };

      const status = await runEpochs({
        runDir,
        epochs: config.epochs,
        stepsPerEpoch,
        state,
        drawOrder: () => rng.permutation(train.length),
        checkpointEvery: config.checkpointEvery,
        signal: options.signal,
        maxSteps: options.maxSteps,
        started,
        emit,
        save: checkpointSaver({
          runDir,
          weights: named,
          optimizer,
          snapshot: (): TrainState => ({ ...state, rngState: rng.state() }),
          modelInfo: { lm: config.lm, preset: config.preset },
          emit,
          log,
        }),
        step,
        // score = −held-out loss, so "higher is better" as in fine-tuning runs.
        validate: async () => ({ score: -heldOutLoss(), validation: null }),
        epochEnd: ({ epoch, meanLoss, scored, improved, best, timings }) => {
          const held = -(scored.score ?? NaN);
          log(
            `epoch ${epoch + 1}/${config.epochs}: train loss ${meanLoss.toFixed(4)}, held-out loss ${held.toFixed(4)} (perplexity ${Math.exp(held).toFixed(1)})`,
          );
          return {
            type: 'epoch-end',
            time: now(),
            run: runDir,
            epoch,
            epochs: config.epochs,
            step: state.globalStep,
            meanLoss,
            meanVariantLoss: { original: meanLoss, text: null, image: null },
            strides: null,
            acceptance: {
              text: { accepted: 0, checked: 0, share: null },
              image: { accepted: 0, checked: 0, share: null },
            },
            validation: null,
            best,
            improved,
            timings,
          };
        },
      });
      if (status === 'completed')
        log(`backend ${describeBackend(backend)}; ${((performance.now() - started) / 1000).toFixed(0)} s`);
      return {
        status,
        runDir,
        globalStep: state.globalStep,
        epoch: state.epoch,
        heldOutLoss: state.history.map((h) => -(h.score ?? NaN)),
        losses,
      };
    }, disposeAll);
  } finally {
    await replicas?.close();
  }
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}
