// Predicting one case (an image file or image bytes, plus a post text) with a loaded run: the workbench's
// "try it" view. A Predictor keeps the model and the image encoder loaded between cases; predictCase
// opens, predicts and disposes in one call.
import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { EncodedExample, EvalMode } from '../lm/contract';
import type { BackendRequest } from '../tf/backend';
import type { ImageEncoder } from '../vision/image-encoder';
import { loadImageEncoder } from '../vision/load-image-encoder';
import { CoreError } from '../core-error';
import { absolutePath } from '../paths';
import { throwIfAborted, yieldToEventLoop } from '../abort';
import { resolveDecode, type DecodeRequest } from './decode-request';
import { decodeOptionsFor, type DecodeSettings } from './decode-settings';
import { clampMaxNew, openRun, type OpenedRun, type Which } from './open-run';
import { EVAL_MODES, whichOption } from './run-paths';
import { buildConditions, DEFAULT_SUITE, type ConditionFamily } from './robustness';

/** One case: an image (a file path, absolute, or the file's bytes; null = none) and the post text. */
export interface CaseInput {
  image: { path: string } | { bytes: Uint8Array } | null;
  text: string;
  /** Default 'multimodal' (with no image the prompt carries the text only, as for items without one). */
  mode?: EvalMode;
  /** Default greedy (deterministic, the quickest). */
  decode?: DecodeRequest;
}

export interface CasePrediction {
  run: string;
  /** One ranked keyphrase list per decoding repeat (one for greedy and beam). */
  keyphrases: string[][];
  mode: EvalMode;
  decoding: DecodeSettings;
  /** Wall time of the prediction: image encoding + decoding. */
  ms: number;
  /** Of which image encoding. */
  imageMs: number;
  /** Post-text tokens given to the model (after the run's maxTextTokens cut) and whether it was cut. */
  textTokens: number;
  textCut: boolean;
}

/** One robustness condition applied to one case: what the model predicts under it. */
export interface ConditionPrediction {
  name: string;
  family: ConditionFamily;
  level: number | null;
  mode: EvalMode;
  keyphrases: string[];
}

export class Predictor {
  private encoder: ImageEncoder | null = null;
  private disposed = false;

  private constructor(
    readonly runDir: string,
    private readonly run: OpenedRun,
  ) {}

  /** Loads a run's model (best or last checkpoint). Call dispose() when done. */
  static async open(
    runDir: string,
    options: { which?: Which; backend?: BackendRequest; log?: (line: string) => void } = {},
  ): Promise<Predictor> {
    const dir = absolutePath(runDir, 'runDir');
    return new Predictor(
      dir,
      await openRun(dir, whichOption(options.which), options.log ?? (() => undefined), options.backend),
    );
  }

  get checkpoint(): string {
    return this.run.checkpoint;
  }

  async predict(input: CaseInput, signal?: AbortSignal): Promise<CasePrediction> {
    if (this.disposed) throw new CoreError('INTERNAL', `${this.runDir}: predictor used after dispose()`);
    const mode = input.mode ?? 'multimodal';
    if (!EVAL_MODES.includes(mode))
      throw new CoreError('BAD_INPUT', `mode must be one of ${EVAL_MODES.join(', ')}, got "${String(mode)}"`, {
        field: 'mode',
      });
    if (typeof input.text !== 'string') throw new CoreError('BAD_INPUT', 'text must be a string', { field: 'text' });
    const decoding = resolveDecode(input.decode, 'greedy');
    decoding.maxNewTokens = clampMaxNew(decoding.maxNewTokens, this.run, () => undefined);
    const t0 = performance.now();
    throwIfAborted(signal, 'prediction');
    const image = input.image === null || mode === 'text' ? null : await this.encodeImage(input.image);
    const imageMs = performance.now() - t0;
    await yieldToEventLoop();
    throwIfAborted(signal, 'prediction');
    const ids = this.run.tokenizer.encode(input.text);
    const text = ids.slice(0, this.run.maxTextTokens);
    const example: EncodedExample = { index: 0, id: 'case', image, text, answer: new Int32Array(0) };
    const keyphrases: string[][] = [];
    for (let r = 0; r < decoding.repeats; r++) {
      if (r > 0) {
        await yieldToEventLoop();
        throwIfAborted(signal, 'prediction');
      }
      const [seq] = this.run.model.generate([example], mode, decodeOptionsFor(decoding, r));
      keyphrases.push(this.run.tokenizer.decodeKeyphrases(seq));
    }
    return {
      run: basename(this.runDir),
      keyphrases,
      mode,
      decoding,
      ms: performance.now() - t0,
      imageMs,
      textTokens: text.length,
      textCut: ids.length > text.length,
    };
  }

  /**
   * The robustness suite's conditions (models/evaluate/robustness.ts, default settings) applied to one case,
   * greedy. The suite's code builds them over [case, donor]: the swap conditions give the case the donor's
   * image / text (without a donor they are left out), the noise scale is the std of both cases' features, and
   * a random mask is the first draw of its condition's generator (the split-level suite draws per item in
   * order, so only the split's first item gets the very same mask).
   */
  async predictConditions(
    input: { image: CaseInput['image']; text: string },
    donor: { image: CaseInput['image']; text: string } | null,
    signal?: AbortSignal,
  ): Promise<ConditionPrediction[]> {
    if (this.disposed) throw new CoreError('INTERNAL', `${this.runDir}: predictor used after dispose()`);
    const encode = async (c: { image: CaseInput['image']; text: string }, index: number): Promise<EncodedExample> => ({
      index,
      id: index === 0 ? 'case' : 'donor',
      image: c.image === null ? null : await this.encodeImage(c.image),
      text: this.run.tokenizer.encode(c.text).slice(0, this.run.maxTextTokens),
      answer: new Int32Array(0),
    });
    const examples = [await encode(input, 0)];
    if (donor) examples.push(await encode(donor, 1));
    const conditions = buildConditions(examples, { ...DEFAULT_SUITE, grid: this.run.model.config.imageGrid }).filter(
      (c) => donor !== null || (c.family !== 'image-swap' && c.family !== 'text-swap'),
    );
    const decoding = resolveDecode({ strategy: 'greedy' }, 'greedy');
    decoding.maxNewTokens = clampMaxNew(decoding.maxNewTokens, this.run, () => undefined);
    const out: ConditionPrediction[] = [];
    for (const c of conditions) {
      await yieldToEventLoop();
      throwIfAborted(signal, 'prediction');
      const [seq] = this.run.model.generate([c.build()[0]], c.mode, decodeOptionsFor(decoding, 0));
      out.push({
        name: c.name,
        family: c.family,
        level: c.level,
        mode: c.mode,
        keyphrases: this.run.tokenizer.decodeKeyphrases(seq),
      });
    }
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.run.model.dispose();
    this.encoder?.dispose();
  }

  private async encodeImage(image: { path: string } | { bytes: Uint8Array }): Promise<Float32Array> {
    this.encoder ??= await loadImageEncoder(this.run.encoderSpec);
    if ('path' in image) return this.encodeFile(absolutePath(image.path, 'image.path'));
    if (!(image.bytes instanceof Uint8Array) || image.bytes.byteLength === 0)
      throw new CoreError('BAD_INPUT', 'image.bytes must be a non-empty byte array', { field: 'image.bytes' });
    // The encoders read files (sharp sniffs the format from the content, so no extension is needed).
    const file = join(tmpdir(), `aimkp-case-${randomUUID()}`);
    await writeFile(file, image.bytes);
    try {
      return await this.encodeFile(file, 'the image bytes');
    } finally {
      await rm(file, { force: true });
    }
  }

  private async encodeFile(path: string, label = path): Promise<Float32Array> {
    try {
      return await this.encoder!.encodeFile(path);
    } catch (err) {
      throw new CoreError(
        'BAD_INPUT',
        `${label}: the image could not be read (${(err as Error).message.split('\n')[0]})`,
        { field: 'image', path },
      );
    }
  }
}

/** Opens the run, predicts the case, disposes. */
export async function predictCase(
  options: { runDir: string; which?: Which; backend?: BackendRequest; signal?: AbortSignal } & CaseInput,
): Promise<CasePrediction> {
  const predictor = await Predictor.open(options.runDir, { which: options.which, backend: options.backend });
  try {
    return await predictor.predict(options, options.signal);
  } finally {
    predictor.dispose();
  }
}
