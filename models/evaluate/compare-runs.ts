// Comparing two runs case by case: finds (or, given a data set, produces) each run's predictions file for
// the split, mode and decoding, then compareRecords joins and scores them. The CLI `aimkp compare` and the
// workbench's Compare view call this.
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Split } from '../data/manifest-types';
import type { EvalMode } from '../lm/contract';
import { CoreError } from '../core-error';
import { absolutePath, optionalAbsolutePath } from '../paths';
import {
  compareRecords,
  COMPARE_FILTERS,
  COMPARE_SORTS,
  type CompareFilter,
  type CompareSort,
  type Comparison,
} from './compare';
import { predictSplit } from './evaluate-run';
import { JobProgress, withJobProgress, type JobOptions } from '../job-progress';
import type { Which } from './open-run';
import { readPredictionFile, type PredictionIssue } from './prediction-file';
import { DECODE_STRATEGIES, EVAL_MODES, predictionsPath, splitOption, type DecodeStrategy } from './run-paths';
import { readRunInfo } from './run-info';
import { loadTexts } from './texts';

export interface CompareRunsOptions extends JobOptions {
  /** Run folders (their RUN/predictions/<split>.<mode>.<decode>.jsonl) or predictions .jsonl files; absolute. */
  a: string;
  b: string;
  /**
   * The data set: post texts for the rows (default: the one run A was trained on, if it still exists), and the
   * items to predict when a run has no predictions file yet.
   */
  dataDir?: string;
  /** Default 'test'. */
  split?: Split;
  /** Default 'multimodal'. */
  mode?: EvalMode;
  /** Default: the first of beam-sample, beam, greedy that both runs have a predictions file for. */
  decode?: DecodeStrategy;
  /** Decode a missing predictions file (needs dataDir); otherwise a missing file is NOT_FOUND. Default false. */
  predictMissing?: boolean;
  which?: Which;
  cacheDir?: string;
  filter?: CompareFilter;
  search?: string;
  sort?: CompareSort;
  offset?: number;
  limit?: number;
}

export interface CompareRunsResult extends Comparison {
  split: Split;
  mode: EvalMode;
  decode: DecodeStrategy;
  /** The predictions files compared. */
  fileA: string;
  fileB: string;
  /** Bad lines of the files (skipped). */
  issues: PredictionIssue[];
}

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/** Decodings by preference: the paper's test setting first, then the deterministic ones, plainest last. */
const DECODE_PREFERENCE: readonly DecodeStrategy[] = ['beam-sample', 'beam', 'greedy'];

/** The first decoding that every run folder has a predictions file for (beam-sample preferred). */
export function pickDecode(runs: readonly string[], split: string, mode: EvalMode): DecodeStrategy {
  for (const d of DECODE_PREFERENCE) {
    if (runs.every((r) => isFile(r) || existsSync(predictionsPath(r, split, mode, d)))) return d;
  }
  return 'beam-sample';
}

function recordedDataDir(run: string): string | null {
  if (isFile(run) || !existsSync(join(run, 'config.json'))) return null;
  try {
    const dir = readRunInfo(run).dataDir;
    return dir !== null && existsSync(join(dir, 'manifest.jsonl')) ? dir : null;
  } catch {
    return null; // a malformed config.json only costs the texts here
  }
}

export async function compareRuns(options: CompareRunsOptions): Promise<CompareRunsResult> {
  const progress = new JobProgress(options.a, options.onProgress);
  return withJobProgress(progress, async () => {
    const a = absolutePath(options.a, 'a');
    const b = absolutePath(options.b, 'b');
    const dataDir = optionalAbsolutePath(options.dataDir, 'dataDir');
    const split = splitOption(options.split);
    const mode = options.mode ?? 'multimodal';
    if (!EVAL_MODES.includes(mode))
      throw new CoreError('BAD_INPUT', `mode must be one of ${EVAL_MODES.join(', ')}, got "${String(mode)}"`, {
        field: 'mode',
      });
    if (options.decode !== undefined && !DECODE_STRATEGIES.includes(options.decode))
      throw new CoreError('BAD_INPUT', `decode must be one of ${DECODE_STRATEGIES.join(', ')}`, { field: 'decode' });
    if (options.filter !== undefined && !COMPARE_FILTERS.includes(options.filter))
      throw new CoreError('BAD_INPUT', `filter must be one of ${COMPARE_FILTERS.join(', ')}`, { field: 'filter' });
    if (options.sort !== undefined && !COMPARE_SORTS.includes(options.sort))
      throw new CoreError('BAD_INPUT', `sort must be one of ${COMPARE_SORTS.join(', ')}`, { field: 'sort' });
    const decode = options.decode ?? pickDecode([a, b], split, mode);
    progress.phase('preparing', `comparing ${basename(a)} with ${basename(b)} (${split}, ${mode}, ${decode})`);
    const files: string[] = [];
    for (const run of [a, b]) {
      const file = isFile(run) ? run : predictionsPath(run, split, mode, decode);
      if (!existsSync(file)) {
        if (options.predictMissing !== true || dataDir === undefined) {
          throw new CoreError(
            'NOT_FOUND',
            `no predictions file ${file}; predict it first (or give a data set to predict it)`,
            { path: file, hint: 'aimkp predict --run RUN, or compare with --data DIR' },
          );
        }
        await predictSplit({
          runDir: run,
          dataDir,
          split,
          mode,
          decode: { strategy: decode },
          which: options.which,
          cacheDir: options.cacheDir,
          signal: options.signal,
          log: options.log,
          onProgress: (e) => e.phase !== 'done' && options.onProgress?.(e),
        });
      }
      files.push(file);
    }
    const [fa, fb] = files.map((f) => readPredictionFile(f));
    // Post texts from the data set given, else from the one run A trained on (when it is still there).
    const textsDir = dataDir ?? recordedDataDir(a);
    const texts = textsDir !== null ? await loadTexts(textsDir, split) : undefined;
    const label = (path: string) => basename(path.replace(/\/+$/, ''));
    const comparison = compareRecords(fa.records, fb.records, {
      labelA: `${label(a)} (${fa.file})`,
      labelB: `${label(b)} (${fb.file})`,
      texts,
      filter: options.filter,
      search: options.search,
      sort: options.sort,
      offset: options.offset,
      limit: options.limit,
    });
    progress.done(`${comparison.summary.common} common cases`);
    return { ...comparison, split, mode, decode, fileA: fa.file, fileB: fb.file, issues: [...fa.issues, ...fb.issues] };
  });
}
