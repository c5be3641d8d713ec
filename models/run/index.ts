// models/run/: the run-folder format (docs/training.md "Run folder", docs/reliability.md), apart from the training
// loop. A run folder holds config.json (TrainConfig + what the run was built with), tokenizer.json, events.jsonl,
// checkpoints/{last,previous}/ and best/ (verified by their manifest.json), and run.lock while a writer works in it.
// This package reads and writes those files and knows nothing of how they are made: the optimizer's state and
// state.json's training fields are opaque blobs handed in by models/train/ (it must not import models/train,
// models/evaluate or models/cli: .dependency-cruiser.cjs "run-below-the-stages").
//
// Its public functions, by file:
// - run-files.ts: RUN_FILES (the layout), RunConfig / readRunConfig / readJson / writeJsonAtomic / ensureRunDir,
//   EventLog (append-only events.jsonl; repairJsonlTail cuts a torn last line).
// - train-config.ts: TrainConfig (config.json's body) and its parts (types only).
// - checkpoint-io.ts: writeCheckpoint (atomic, keeps `previous`), readCheckpoint / loadResumeCheckpoint /
//   loadNewestGoodCheckpoint (verified, newest good copy), assignWeights / assignMatchingWeights, cleanTempFolders.
// - checkpoint-manifest.ts: verifyCheckpointDir / readManifest (sizes + SHA-256 of every file).
// - run-lock.ts: one writer per run: acquireRunLock / acquireRunDirLock / withRunLock / breakRunLock, inspectLock;
//   a lock held under a lab queue's job carries its lease (RunLease), judged by the queue (LeaseJudge).
// - write-fence.ts: setRunWriteFence: a thread's check before every write into a run folder (a lab worker that
//   lost its lease writes nothing more).
// - run-loader.ts: loadRunForInference (model + tokenizer + config of best/ or last).
// - run-doctor.ts: diagnoseRun / formatDiagnosis (`aimkp doctor`).
export {
  RUN_FILES,
  EventLog,
  ensureRunDir,
  readJson,
  readRunConfig,
  repairJsonlTail,
  writeJsonAtomic,
  type RunConfig,
} from './run-files';
export type { AimkpSettings, ModelSettings, StrideOptions, TrainConfig, TrainMethod } from './train-config';
export {
  assignMatchingWeights,
  assignWeights,
  cleanTempFolders,
  loadNewestGoodCheckpoint,
  loadResumeCheckpoint,
  readCheckpoint,
  writeCheckpoint,
  type CheckpointFiles,
  type CheckpointState,
  type LoadedCheckpoint,
  type OptimizerBlob,
  type StoredState,
} from './checkpoint-io';
export {
  readManifest,
  verifyCheckpointDir,
  type CheckpointManifest,
  type CheckpointVerdict,
} from './checkpoint-manifest';
export {
  acquireRunDirLock,
  acquireRunLock,
  breakRunLock,
  describeHolder,
  inspectLock,
  withRunLock,
  LOCK_FILE,
  type LeaseJudge,
  type LockState,
  type RunLease,
  type RunLock,
  type RunLockInfo,
} from './run-lock';
export { setRunWriteFence, type RunWriteFence } from './write-fence';
export { loadRunForInference, runTemplate, type LoadedRun } from './run-loader';
export { diagnoseRun, formatDiagnosis, type RunDiagnosis, type RunCondition } from './run-doctor';
