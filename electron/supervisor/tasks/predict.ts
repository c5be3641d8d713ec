// The prediction kind's work: each chosen run's keyphrases for one case (an image + a text). It runs in the
// prediction worker (predict-server.ts: models kept loaded between requests) or, queued, in a worker of its own.
import { z } from 'zod';
import { Predictor, type ConditionPrediction } from '../../../models/index';
import { DecodeRequest, EvalMode } from '../../../shared/contract/common';
import type { EvalMode as EvalModeName } from '../../../shared/vocabulary';
import { ended, type PredictorSource, type TaskContext, type TaskEnd } from '../task-context';
import { PathParam, RunIdParam } from './params';

const ImageAndText = { imagePath: PathParam.nullable(), text: z.string() };

export const PredictJobParams = z.strictObject({
  runs: z.array(z.strictObject({ runId: RunIdParam, runDir: PathParam })).min(1),
  /** An item of a data set (image path absolute), or uploaded bytes as base64. */
  input: z.strictObject({ ...ImageAndText, imageBase64: z.string().nullable() }),
  mode: EvalMode.optional(),
  decode: DecodeRequest,
  /** Also the robustness conditions applied to this case (greedy); `donor` is the case whose image / text the swaps use. */
  conditions: z.boolean().optional(),
  donor: z.strictObject(ImageAndText).nullable().optional(),
});
export type PredictJobParams = z.output<typeof PredictJobParams>;

export interface PredictJobResult {
  results: {
    runId: string;
    mode: EvalModeName;
    keyphrases: string[];
    ms: number;
    error: { code: string; message: string } | null;
    conditions?: ConditionPrediction[];
  }[];
}

/** Each run's model opened for one job and freed after it. */
export function oneShotPredictors(ctx: {
  backend: TaskContext['backend'];
  log: (line: string) => void;
}): PredictorSource {
  return {
    get: (runDir) => Predictor.open(runDir, { backend: ctx.backend, log: ctx.log }),
    release: (p) => p.dispose(),
  };
}

export async function predictTask(p: PredictJobParams, ctx: TaskContext): Promise<TaskEnd<PredictJobResult>> {
  return ended(ctx, await predictRuns(p, ctx.signal, ctx.predictors));
}

/** Each run's keyphrases for one case; a run that fails gets its error, the others still answer. */
async function predictRuns(
  p: PredictJobParams,
  signal: AbortSignal | undefined,
  source: PredictorSource,
): Promise<PredictJobResult> {
  const image =
    p.input.imagePath !== null
      ? { path: p.input.imagePath }
      : p.input.imageBase64 !== null
        ? { bytes: new Uint8Array(Buffer.from(p.input.imageBase64, 'base64')) }
        : null;
  const out: PredictJobResult = { results: [] };
  for (const run of p.runs) {
    const t0 = performance.now();
    let predictor: Predictor | null = null;
    try {
      predictor = await source.get(run.runDir);
      const r = await predictor.predict({ image, text: p.input.text, mode: p.mode, decode: p.decode }, signal);
      const conditions = p.conditions
        ? await predictor.predictConditions(
            { image, text: p.input.text },
            p.donor
              ? { image: p.donor.imagePath === null ? null : { path: p.donor.imagePath }, text: p.donor.text }
              : null,
            signal,
          )
        : undefined;
      out.results.push({
        runId: run.runId,
        mode: r.mode,
        keyphrases: r.keyphrases[0] ?? [],
        ms: r.ms,
        error: null,
        ...(conditions ? { conditions } : {}),
      });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      out.results.push({
        runId: run.runId,
        mode: p.mode ?? 'multimodal',
        keyphrases: [],
        ms: performance.now() - t0,
        error: { code: typeof e.code === 'string' ? e.code : 'INTERNAL', message: e.message ?? String(err) },
      });
    } finally {
      if (predictor) source.release(predictor);
    }
  }
  return out;
}
