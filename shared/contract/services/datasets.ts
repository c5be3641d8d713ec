// The data-sets domain: the bundled and imported sets, their Table-3 statistics, items and loading problems, and
// importing a new set as a job.
import { z } from 'zod';
import { DatasetId, IsoTime, ItemId, Seed, Split, UserPath } from '../common';
import { command, Empty, Offset, pageLimit } from './define';
import { JobStarted } from './jobs';

export const SplitCounts = z.object({ train: z.int(), valid: z.int(), test: z.int() });
export const DatasetKind = z.enum(['bundled', 'cmkp', 'clipart', 'manifest', 'synthetic']);
export const DatasetSummary = z.object({
  id: DatasetId,
  name: z.string(),
  kind: DatasetKind,
  /** Absolute folder (holds manifest.jsonl). */
  dir: z.string(),
  /** Bundled sets are read-only; their feature cache lives in the workspace. */
  readOnly: z.boolean(),
  items: SplitCounts,
  withImage: z.int(),
  issueCount: z.int(),
  createdAt: IsoTime.nullable(),
  /** How it was made (the command line or import options), when recorded in dataset.json. */
  builtWith: z.string().nullable(),
});
export type DatasetSummary = z.infer<typeof DatasetSummary>;

/** The paper's Table 3 row for one split (or all): sizes, lengths, keyphrase counts, vocabulary. */
export const SplitStats = z.object({
  size: z.int(),
  meanTextTokens: z.number(),
  meanKeyphrases: z.number(),
  meanKeyphraseWords: z.number(),
  vocabulary: z.int(),
  /** Share of keyphrases present in their item's text (stemmed contiguous match), fraction. */
  presentShare: z.number(),
  withImage: z.int(),
  skipped: z.int(),
});

export const DataIssue = z.object({
  file: z.string(),
  line: z.int(),
  field: z.string().optional(),
  message: z.string(),
  action: z.enum(['skipped', 'kept']),
  reason: z.string(),
});

/** A keyphrase with whether it occurs in the item's text (present) or not (absent). */
export const MarkedKeyphrase = z.object({ phrase: z.string(), present: z.boolean() });

export const DatasetItem = z.object({
  id: ItemId,
  split: Split,
  text: z.string().nullable(),
  /** A URL the renderer can put in <img src>: a data: URL or a URL of the app / server's media route. null = no image. */
  image: z.string().nullable(),
  keyphrases: z.array(MarkedKeyphrase),
});
export type DatasetItem = z.infer<typeof DatasetItem>;

// ---- data-set import sources -------------------------------------------------------------------------------

export const ImportSource = z.discriminatedUnion('kind', [
  /** CMKP release files: one *_src.txt per split, with optional OCR / attribute files and an image folder. */
  z.strictObject({
    kind: z.literal('cmkp'),
    files: z
      .array(
        z.strictObject({
          src: UserPath,
          split: Split.optional(),
          ocr: UserPath.optional(),
          attributes: UserPath.optional(),
        }),
      )
      .min(1)
      .max(3),
    images: UserPath.optional(),
  }),
  /** Build ClipArt-KP from a folder of Openclipart SVGs. */
  z.strictObject({
    kind: z.literal('clipart'),
    source: UserPath.optional(),
    size: z.int().min(32).max(1024).optional(),
  }),
  /** A folder that already holds manifest.jsonl (+ images/): registered and checked, copied when `copy`. */
  z.strictObject({ kind: z.literal('manifest'), dir: UserPath, copy: z.boolean().default(false) }),
  /** The synthetic set (known signal; used by the tests). */
  z.strictObject({
    kind: z.literal('synthetic'),
    items: z.int().min(3).max(100_000),
    seed: Seed.default(1),
    noise: z.number().min(0).max(1).optional(),
    misaligned: z.number().min(0).max(1).optional(),
    missingImage: z.number().min(0).max(1).optional(),
    missingText: z.number().min(0).max(1).optional(),
  }),
]);
/** What a client sends as an import source (defaults may be omitted). */
export type ImportSource = z.input<typeof ImportSource>;

export const DATASETS_COMMANDS = {
  'datasets.list': command(
    Empty,
    z.object({ datasets: z.array(DatasetSummary) }),
    'The bundled and imported data sets.',
  ),
  'datasets.import': command(
    z.strictObject({
      name: z.string().min(1).max(100),
      source: ImportSource,
      /**
       * When a set of this name exists: 'ask' (default) refuses with ALREADY_EXISTS (details.existing, details.suggestion)
       * so the client can ask; 'rename' imports under the next free id, named "<name> (k)".
       */
      ifExists: z.enum(['ask', 'rename']).default('ask'),
    }),
    JobStarted.extend({ datasetId: DatasetId, name: z.string() }),
    'Imports or builds a data set as a job; progress on the returned stream, the set appears in datasets.list when done. An existing name is refused unless ifExists is rename.',
  ),
  'datasets.stats': command(
    z.strictObject({ id: DatasetId }),
    z.object({
      id: DatasetId,
      stats: z.object({ train: SplitStats, valid: SplitStats, test: SplitStats, all: SplitStats }),
    }),
    "The paper's Table 3 numbers per split.",
  ),
  'datasets.items': command(
    z.strictObject({
      id: DatasetId,
      split: Split.optional(),
      search: z.string().max(200).optional(),
      offset: Offset,
      limit: pageLimit(50, 200),
    }),
    z.object({ total: z.int(), offset: z.int(), items: z.array(DatasetItem) }),
    'A page of items (image URL, text, keyphrases marked present / absent); search matches text and keyphrases.',
  ),
  'datasets.issues': command(
    z.strictObject({ id: DatasetId, offset: Offset, limit: pageLimit(100) }),
    z.object({ total: z.int(), offset: z.int(), issues: z.array(DataIssue) }),
    'Problems found loading the set: file, line, field, reason, skipped or kept.',
  ),
};
