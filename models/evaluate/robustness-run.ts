// Running the test-time robustness suite on a run (the CLI `aimkp robustness --run` and the workbench call
// this): opens the run, encodes the split, decodes every condition greedily and scores it; writes
// RUN/robustness/<split>.json and .md unless told not to.
import { basename } from 'node:path';
import type { Split } from '../data/manifest-types';
import type { BackendRequest } from '../tf/backend';
import { writeFileAtomicSync } from '../fs/atomic-write';
import { CoreError } from '../core-error';
import { absolutePath, optionalAbsolutePath } from '../paths';
import { throwIfAborted } from '../abort';
import { GREEDY_DECODE } from './decode-settings';
import { JobProgress, withJobProgress, type JobOptions } from '../job-progress';
import { clampMaxNew, encodeRunSplit, openRun, shareRunSplit, startEvalWorkers, type Which } from './open-run';
import type { Replicas } from '../parallel/replicas';
import { featureStd } from './perturb';
import { decodeKeyphraseLists } from './predict-run';
import {
  buildConditions,
  robustnessMarkdown,
  runSuite,
  suiteWithDefaults,
  type RobustnessReport,
  type SuiteOptions,
} from './robustness';
import { robustnessPath, splitOption, whichOption } from './run-paths';
import { acquireRunLock } from '../run/run-lock';

export interface RobustnessRunOptions extends JobOptions {
  runDir: string;
  dataDir?: string;
  /** Default 'test'. */
  split?: Split;
  which?: Which;
  limit?: number;
  /** Items per generate() call (default 16). */
  batchSize?: number;
  /** Default: the run's maxAnswerTokens. */
  maxNewTokens?: number;
  /** Suite settings on top of DEFAULT_SUITE (ratios, strides, sigmas, pattern, seed); an undefined field keeps its default. */
  suite?: Partial<Omit<SuiteOptions, 'grid'>>;
  cacheDir?: string;
  backend?: BackendRequest;
  /** Data-parallel ranks (this thread + K-1 workers) for encoding and decoding; default AIMKP_WORKERS, else the cores. */
  workers?: number;
  /** The report file (absolute; .md beside it); default RUN/robustness/<split>.json; null = write nothing. */
  out?: string | null;
  /** The caller already holds the run's writer lock (models/run/run-lock.ts). */
  lockHeldByCaller?: boolean;
  /** Who the run lock names as its holder (default "aimkp robustness"). */
  lockCommand?: string;
}

export interface RobustnessRunResult {
  report: RobustnessReport;
  /** The JSON file written (null when out was null). */
  file: string | null;
  markdown: string;
}

function checkSuite(s: Omit<SuiteOptions, 'grid'>): void {
  const bad = (field: string, rule: string) =>
    new CoreError('BAD_INPUT', `suite.${field} ${rule}`, { field: `suite.${field}` });
  if (!s.ratios.every((x) => Number.isFinite(x) && x >= 0 && x <= 1)) throw bad('ratios', 'must be numbers in [0, 1]');
  if (!s.strides.every((x) => Number.isInteger(x) && x >= 2)) throw bad('strides', 'must be integers >= 2');
  if (!s.sigmas.every((x) => Number.isFinite(x) && x >= 0)) throw bad('sigmas', 'must be non-negative numbers');
  if (s.pattern !== 'random' && s.pattern !== 'spread') throw bad('pattern', 'must be random or spread');
  if (!Number.isInteger(s.seed)) throw bad('seed', 'must be an integer');
}

export async function runRobustness(options: RobustnessRunOptions): Promise<RobustnessRunResult> {
  // The default report goes to RUN/robustness/: one writer per run (refused while a training writes it).
  const lock =
    options.out === undefined && options.lockHeldByCaller !== true
      ? acquireRunLock(absolutePath(options.runDir, 'runDir'), { command: options.lockCommand ?? 'aimkp robustness' })
      : null;
  if (lock?.tookOver) options.log?.(`warning: ${lock.tookOver}`);
  try {
    return await robustnessJob(options);
  } finally {
    lock?.release();
  }
}

async function robustnessJob(options: RobustnessRunOptions): Promise<RobustnessRunResult> {
  const progress = new JobProgress(options.runDir, options.onProgress);
  return withJobProgress(progress, async () => {
    const runDir = absolutePath(options.runDir, 'runDir');
    const dataDirOption = optionalAbsolutePath(options.dataDir, 'dataDir');
    const cacheDir = optionalAbsolutePath(options.cacheDir, 'cacheDir');
    const split = splitOption(options.split);
    const suite = suiteWithDefaults(options.suite);
    checkSuite(suite);
    const batch = options.batchSize ?? 16;
    if (!Number.isInteger(batch) || batch < 1)
      throw new CoreError('BAD_INPUT', `batchSize must be an integer >= 1, got ${batch}`, { field: 'batchSize' });
    const log = options.log ?? (() => undefined);
    progress.phase('preparing', `opening ${basename(runDir)}`);
    const run = await openRun(runDir, whichOption(options.which), log, options.backend);
    let report: RobustnessReport;
    let replicas: Replicas | null = null;
    try {
      replicas = await startEvalWorkers(options.workers, options.backend);
      const settings = {
        ...GREEDY_DECODE,
        maxNewTokens: clampMaxNew(options.maxNewTokens ?? run.maxAnswerTokens, run, log),
      };
      if (!Number.isInteger(settings.maxNewTokens) || settings.maxNewTokens < 1)
        throw new CoreError('BAD_INPUT', 'maxNewTokens must be an integer >= 1', { field: 'maxNewTokens' });
      const dataDir = dataDirOption ?? run.dataDir;
      if (dataDir === null)
        throw new CoreError('BAD_INPUT', `${runDir}: its config.json does not name its data set; give dataDir`, {
          field: 'dataDir',
        });
      const data = await encodeRunSplit(run, dataDir, split, {
        limit: options.limit,
        cacheDir,
        log,
        signal: options.signal,
        progress,
        replicas,
      });
      if (replicas) await shareRunSplit(replicas, run, data);
      const conditions = buildConditions(data.examples, { ...suite, grid: run.model.config.imageGrid });
      progress.phase(
        'robustness',
        `robustness: ${conditions.length} conditions × ${data.examples.length} ${split} items`,
        conditions.length,
        'conditions',
      );
      const results = await runSuite(
        conditions,
        data.gold,
        async (examples, mode) =>
          decodeKeyphraseLists(run.model, run.tokenizer, examples, mode, settings, batch, options.signal, replicas),
        (r, i) => progress.update(i + 1, `${r.name}: F1@3 ${(100 * r.aimkp['f1@3']).toFixed(2)}`),
      );
      throwIfAborted(options.signal, 'robustness');
      report = {
        run: basename(runDir),
        split,
        decode: 'greedy',
        maskPattern: suite.pattern,
        seed: suite.seed,
        n: data.examples.length,
        featureStd: featureStd(data.examples.flatMap((e) => (e.image ? [e.image] : []))),
        conditions: results,
        createdAt: new Date().toISOString(),
      };
    } finally {
      try {
        await replicas?.close();
      } finally {
        run.model.dispose();
      }
    }
    const markdown = robustnessMarkdown(report);
    const file =
      options.out === null ? null : (optionalAbsolutePath(options.out, 'out') ?? robustnessPath(runDir, split));
    if (file !== null) {
      writeFileAtomicSync(file, JSON.stringify(report, null, 2) + '\n');
      writeFileAtomicSync(file.replace(/\.json$/, '') + '.md', markdown);
    }
    progress.done(`${report.conditions.length} conditions`);
    return { report, file, markdown };
  });
}
