// The embeddable core: everything the workbench (supervisor worker, service, CLI) calls, in one place.
// Plain TypeScript, no Electron. Paths are absolute; long jobs take an AbortSignal and report typed progress
// (shared/training-events.ts); results are JSON-safe; failures are CoreErrors with a stable code.
// docs/architecture.md "Core" describes the surface.

// Errors, stopping, version
export {
  CoreError,
  CORE_ERROR_CODES,
  isCoreError,
  type CoreErrorCode,
  type CoreErrorShape,
  type CoreErrorDetails,
} from './core-error';
export { abortedError, isAbortError } from './abort';
// The exit status of each error code, shared by every command line (aimkp, aimkp serve; docs/reliability.md)
export { EXIT_CODES, asCoreError, wasmHeapHint } from './cli/cli-error';
export { VERSION } from './version';

// Training
export { train } from './train/trainer';
export type { TrainOptions, TrainResult } from './train/train-options';
export { resolveConfig, mergeOverride, validateConfig } from './train/config-resolve';
export { listPresets, type PresetInfo } from './api/presets';
export { BASE_PRESETS, getPreset, NEEDS_BASE } from './train/presets';
// Data parallelism: the worker count a job runs with (TrainOptions / evaluation options `workers`)
export { defaultWorkers, MAX_WORKERS, resolveWorkers } from './parallel/worker-count';

// Run folders (models/run/: the format, apart from the training loop), and the writer lock the supervisor guards runs with
export {
  RUN_FILES,
  readRunConfig,
  inspectLock,
  acquireRunLock,
  breakRunLock,
  describeHolder,
  setRunWriteFence,
  diagnoseRun,
  type RunConfig,
  type TrainConfig,
  type AimkpSettings,
  type ModelSettings,
  type LockState,
  type LeaseJudge,
  type RunLease,
  type RunLock,
  type RunLockInfo,
  type RunWriteFence,
  type RunDiagnosis,
} from './run/index';

// Files the app writes beside the core's (settings, jobs.json, run-meta.json): replaced whole, never half-written
export { writeFileAtomic, writeFileAtomicSync } from './fs/atomic-write';
// Folders the user names (the workspace): a bounded mkdir (no endless retry on /proc, /sys) and a write probe
export { makeDirBounded, probeWritable, requireAbsoluteDir } from './fs/make-dir';

// Where an installed app's read-only resources are (set by the main process / server for the workers)
export { BUNDLED_DATA_DIR_ENV, MOBILENET_DIR_ENV } from './resource-env';

// Evaluation, prediction, comparison, robustness, reports
export {
  evaluateRun,
  predictSplit,
  type EvaluateRunOptions,
  type EvaluateRunResult,
  type PredictSplitOptions,
  type PredictSplitResult,
  type RunSplitOptions,
} from './evaluate/evaluate-run';
export {
  Predictor,
  predictCase,
  type CaseInput,
  type CasePrediction,
  type ConditionPrediction,
} from './evaluate/predict-case';
export { compareRuns, type CompareRunsOptions, type CompareRunsResult } from './evaluate/compare-runs';
export {
  compareRecords,
  scoreCase,
  COMPARE_FILTERS,
  COMPARE_SORTS,
  type CompareCase,
  type CompareFilter,
  type CompareSort,
  type CaseScores,
  type Comparison,
} from './evaluate/compare';
export { runRobustness, type RobustnessRunOptions, type RobustnessRunResult } from './evaluate/robustness-run';
export { DEFAULT_SUITE, type RobustnessReport, type ConditionResult } from './evaluate/robustness';
export { reportRuns, type ReportRunsOptions, type ReportRunsResult } from './evaluate/report-runs';
export type { Report, ReportGroup, Stat } from './evaluate/report';
export {
  studyReport,
  type StudyReport,
  type StudyReportOptions,
  type StudyArm,
  type StudyCell,
  type StudyDelta,
  type StudyLeftOut,
} from './evaluate/study';
export { groupOf } from './evaluate/study-table';
export {
  filterStats,
  readFilterChecks,
  poolFilterChecks,
  PAPER_FIG7_ACCEPTANCE,
  type FilterChecks,
  type FilterEpochStat,
} from './evaluate/filter-stats';
export { meanCi95, welch, type MeanCi, type WelchResult } from './metrics/welch';
export { resolveDecode, type DecodeRequest } from './evaluate/decode-request';
export { PAPER_TEST_DECODE, GREEDY_DECODE, type DecodeSettings } from './evaluate/decode-settings';
export { readMetricsFile, type MetricsFile } from './evaluate/metrics-file';
export type { JobOptions } from './job-progress';
export { EVAL_MODES, DECODE_STRATEGIES, type DecodeStrategy } from './evaluate/run-paths';
export type { EvalMode } from './lm/contract';

// Data sets
export {
  describeDataset,
  importCmkpFiles,
  importClipart,
  importManifestFolder,
  importSynthetic,
  pageItems,
  type DatasetSummary,
  type ItemPage,
  type ItemView,
} from './api/datasets';
export { SPLITS, type Split, type ManifestItem } from './data/manifest-types';
export { DATASET_INFO, loadDataset, MANIFEST, type LoadedDataset } from './data/load-dataset';
export { datasetStats, isPresent, matchWords, type DatasetStats, type SplitStats } from './data/dataset-stats';

// System
export { systemInfo, type SystemInfo } from './api/system';
export { BACKEND_CHOICES, type BackendRequest } from './tf/backend';
