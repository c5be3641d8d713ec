// What a lab job needs to see, written into the job by the workbench that queues it and checked by a worker before
// it takes the job: the data set (folder and a fingerprint of its manifest, so a worker with another copy under the
// same path does not train on other data), the base run of a warm start, and for a resume the run folder itself.
// Paths are absolute: every machine mounts the shared workspace at the same path (docs/sweeps.md).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST, readRunConfig, RUN_FILES } from '../../models/index';
import { isJobOf, RESUME_JOB, TRAIN_JOB } from '../supervisor/job-kinds';
import type { JobSpec } from '../supervisor/jobs';

export interface JobRequirements {
  dataset?: { path: string; fingerprint: string | null };
  /** A warm start's source run folder: its config.json and best/. */
  baseRun?: string;
  /** A resume: the run (runs/<id>/config.json in the worker's workspace). */
  run?: string;
}

const cache = new Map<string, { key: string; hash: string }>();

/** sha256 (16 hex) of a data set's manifest.jsonl, cached by size and mtime; null when there is none. */
export function manifestFingerprint(dataDir: string): string | null {
  const file = join(dataDir, MANIFEST);
  let key: string;
  try {
    const st = statSync(file);
    key = `${st.size}:${st.mtimeMs}`;
  } catch {
    return null;
  }
  const hit = cache.get(file);
  if (hit?.key === key) return hit.hash;
  const hash = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16);
  cache.set(file, { key, hash });
  return hash;
}

/** The requirements of a job as the queueing workbench sees its inputs (kinds other than training need none). */
export function requirementsOf(spec: JobSpec, runsDir: string): JobRequirements {
  if (isJobOf(spec, TRAIN_JOB)) {
    const { dataDir, config } = spec.params;
    const req: JobRequirements = { dataset: { path: dataDir, fingerprint: manifestFingerprint(dataDir) } };
    if (config.initFrom) req.baseRun = config.initFrom;
    return req;
  }
  if (isJobOf(spec, RESUME_JOB)) {
    const req: JobRequirements = { run: spec.params.runId };
    try {
      const saved = readRunConfig(join(runsDir, spec.params.runId));
      if (saved.dataDir) req.dataset = { path: saved.dataDir, fingerprint: manifestFingerprint(saved.dataDir) };
    } catch {
      // The service checked the run before queueing; a worker that cannot read it says so.
    }
    return req;
  }
  return {};
}

/** What this machine cannot see of a job's requirements (one line), or null when it can run it. */
export function missingRequirement(req: JobRequirements | undefined, runsDir: string): string | null {
  if (!req) return null;
  if (req.run !== undefined && !existsSync(join(runsDir, req.run, RUN_FILES.config)))
    return `run ${req.run} is not visible here (no ${join(runsDir, req.run, RUN_FILES.config)})`;
  if (req.dataset) {
    const here = manifestFingerprint(req.dataset.path);
    if (here === null) return `data set ${req.dataset.path} is not visible here (no ${MANIFEST})`;
    if (req.dataset.fingerprint !== null && here !== req.dataset.fingerprint)
      return `data set ${req.dataset.path} here differs from the one the job was queued with (manifest fingerprint ${here}, expected ${req.dataset.fingerprint})`;
  }
  if (req.baseRun !== undefined) {
    if (!existsSync(join(req.baseRun, RUN_FILES.config)) || !existsSync(join(req.baseRun, RUN_FILES.best)))
      return `base run ${req.baseRun} is not visible here (it needs ${RUN_FILES.config} and ${RUN_FILES.best}/)`;
  }
  return null;
}
