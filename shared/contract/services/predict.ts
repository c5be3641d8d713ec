// The predict domain ("Try it"): each chosen run's keyphrases for one image + text, an upload or a data-set item.
import { z } from 'zod';
import { ApiErrorShape, DatasetId, DecodeRequest, EvalMode, ItemId, LIMITS, RunId } from '../common';
import { command } from './define';

const ImageDataUrl = z
  .string()
  .max(LIMITS.maxImageDataUrlChars)
  .regex(
    /^data:image\/(png|jpeg|webp|gif|bmp);base64,[A-Za-z0-9+/]+=*$/,
    'an image as a base64 data: URL (png, jpeg, webp, gif or bmp)',
  );

export const PredictInput = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('item'), dataset: DatasetId, itemId: ItemId }),
  z.strictObject({
    kind: z.literal('upload'),
    image: ImageDataUrl.nullable(),
    text: z.string().max(LIMITS.maxTextChars).nullable(),
  }),
]);

export const PREDICT_COMMANDS = {
  'predict.case': command(
    z.strictObject({
      runIds: z.array(RunId).min(1).max(LIMITS.maxPredictRuns),
      input: PredictInput,
      mode: EvalMode.optional(),
      decode: DecodeRequest.default({ strategy: 'greedy' }),
      /** Also each robustness condition of the suite applied to this case (greedy). */
      conditions: z.boolean().default(false),
    }),
    z.object({
      /** Gold keyphrases when the input is a data-set item. */
      gold: z.array(z.string()).nullable(),
      /** The item whose image / text the swap conditions used (the next item of the split with an image). */
      donor: z.object({ itemId: ItemId }).nullable().optional(),
      results: z.array(
        z.object({
          runId: RunId,
          mode: EvalMode,
          keyphrases: z.array(z.string()),
          ms: z.number(),
          error: ApiErrorShape.nullable(),
          /** With `conditions`: per condition the keyphrases, and with gold their hits and F1@3 (AimKP convention). */
          conditions: z
            .array(
              z.object({
                name: z.string(),
                family: z.string(),
                mode: EvalMode,
                keyphrases: z.array(z.string()),
                hits: z.array(z.boolean()).nullable(),
                f1at3: z.number().nullable(),
              }),
            )
            .optional(),
        }),
      ),
    }),
    "Each chosen run's keyphrases for one image + text (uploaded, or a data-set item), with the time each took; with `conditions`, also under each robustness condition.",
  ),
};
