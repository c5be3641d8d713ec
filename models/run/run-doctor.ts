// `aimkp doctor RUN`: checks a run folder without changing it — config.json, tokenizer.json, every
// checkpoint's manifest (sizes + SHA-256), leftovers of interrupted writes, the tail of events.jsonl and
// the writer lock — and says what state the run is in and what to do. The result is JSON-safe, so the
// supervisor and the UI can show the same report.
import { existsSync, readdirSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CoreError } from '../core-error';
import { tokenizerFromJson } from '../text/tokenizer';
import { checkpointCandidates, PREVIOUS_NAME } from './checkpoint-io';
import { checkCheckpointContent, type StateValidator } from './checkpoint-content';
import { verifyCheckpointDir } from './checkpoint-manifest';
import { inspectLock, describeHolder } from './run-lock';
import { readJson, readRunConfig, RUN_FILES, type RunConfig } from './run-files';

export type CheckLevel = 'ok' | 'warning' | 'problem';

export interface DoctorCheck {
  /** What was checked, e.g. "config.json", "checkpoints/last", "events.jsonl", "lock". */
  name: string;
  level: CheckLevel;
  message: string;
}

export interface CheckpointReport {
  /** Path relative to the run folder. */
  path: string;
  ok: boolean;
  verified: boolean;
  epoch: number | null;
  globalStep: number | null;
  problem: string | null;
}

export type RunCondition = 'not-a-run' | 'not-started' | 'running' | 'completed' | 'stopped' | 'interrupted' | 'failed';

export interface RunDiagnosis {
  runDir: string;
  /** completed / stopped (resumable) / running (a live writer holds the lock) / interrupted (killed) / failed (error event). */
  condition: RunCondition;
  /** The worst level among the checks. */
  level: CheckLevel;
  checks: DoctorCheck[];
  checkpoints: CheckpointReport[];
  /** The checkpoint a resume would continue from (relative path), or null. */
  resumeFrom: string | null;
  lock: { state: 'free' | 'held' | 'stale' | 'unreadable'; holder: string | null };
  events: {
    lines: number;
    lastType: string | null;
    lastTime: string | null;
    partialLastLine: boolean;
    badLines: number;
  };
  /** What to do next, one line. */
  advice: string;
}

const TAIL_BYTES = 256 * 1024;

function readTail(file: string): { text: string; size: number } {
  const size = statSync(file).size;
  const start = Math.max(0, size - TAIL_BYTES);
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(size - start);
    readSync(fd, buf, 0, buf.length, start);
    let text = buf.toString('utf8');
    // Drop the first (probably cut) line of a tail that does not start at the file's beginning.
    if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    return { text, size };
  } finally {
    closeSync(fd);
  }
}

function countNewlines(file: string): number {
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(1 << 16);
  let n = 0;
  try {
    let read: number;
    let pos = 0;
    while ((read = readSync(fd, buf, 0, buf.length, pos)) > 0) {
      for (let i = 0; i < read; i++) if (buf[i] === 0x0a) n++;
      pos += read;
    }
  } finally {
    closeSync(fd);
  }
  return n;
}

function relativeTo(runDir: string, p: string): string {
  return p.startsWith(runDir + '/') ? p.slice(runDir.length + 1) : p;
}

/** A path as one shell word (quoted when it holds anything but safe characters), so an advised command runs as printed. */
export function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

export interface DiagnoseOptions {
  /**
   * The writer's check of what state.json means (models/train/checkpoint-parts.ts validateTrainStateOfRun), run
   * on every checkpoint whose manifest verifies, as resume and evaluation run it: a checkpoint that fails it is
   * reported corrupt and is not where a resume continues from.
   */
  validateState?: StateValidator;
}

/** Checks the run folder `dir`; never writes. */
export async function diagnoseRun(dir: string, options: DiagnoseOptions = {}): Promise<RunDiagnosis> {
  const runDir = resolve(dir);
  const checks: DoctorCheck[] = [];
  const add = (name: string, level: CheckLevel, message: string) => checks.push({ name, level, message });
  const result: RunDiagnosis = {
    runDir,
    condition: 'not-a-run',
    level: 'ok',
    checks,
    checkpoints: [],
    resumeFrom: null,
    lock: { state: 'free', holder: null },
    events: { lines: 0, lastType: null, lastTime: null, partialLastLine: false, badLines: 0 },
    advice: '',
  };
  if (!existsSync(runDir) || !statSync(runDir).isDirectory())
    throw new CoreError('NOT_FOUND', `${runDir}: no such run folder`, { path: runDir });

  // config.json + tokenizer.json
  let hasConfig = false;
  let config: RunConfig | null = null;
  /** config.json is there but cannot be read (resume and evaluation would refuse). */
  let configBroken = false;
  let tokenizerBroken = false;
  let dataMissing = false;
  try {
    const c = readRunConfig(runDir);
    config = c;
    hasConfig = true;
    add(RUN_FILES.config, 'ok', `preset ${c.preset}, ${c.epochs} epochs, data ${c.dataDir}`);
    if (!existsSync(c.dataDir)) {
      dataMissing = true;
      add('data set', 'warning', `${c.dataDir} (from config.json) does not exist here: resume needs --data DIR`);
    }
  } catch (err) {
    if (err instanceof CoreError && err.code === 'NOT_FOUND')
      add(RUN_FILES.config, 'warning', 'missing: the run never got past its preparation (or this is not a run folder)');
    else {
      configBroken = true;
      add(RUN_FILES.config, 'problem', (err as Error).message);
    }
  }
  if (hasConfig) {
    try {
      const file = join(runDir, RUN_FILES.tokenizer);
      const t = tokenizerFromJson(readJson(file), file);
      add(RUN_FILES.tokenizer, 'ok', `${t.vocabSize.toLocaleString('en-US')} words`);
    } catch (err) {
      tokenizerBroken = true;
      add(RUN_FILES.tokenizer, 'problem', (err as Error).message);
    }
  }
  const validate = options.validateState;

  // Checkpoints: last, previous (and a legacy/interrupted .prev-last), best.
  const ckDir = join(runDir, RUN_FILES.checkpoints);
  const lastDir = join(runDir, RUN_FILES.last);
  const bestDir = join(runDir, RUN_FILES.best);
  const candidates = [...checkpointCandidates(lastDir), ...checkpointCandidates(bestDir)];
  let bestGoodStep = -1;
  let bestOk = false;
  let trainingCheckpointsExist = false;
  for (const cand of candidates) {
    if (!existsSync(cand)) continue;
    const rel = relativeTo(runDir, cand);
    const isTraining = !cand.startsWith(bestDir) && !cand.endsWith('.prev-best');
    if (isTraining) trainingCheckpointsExist = true;
    const v = await verifyCheckpointDir(cand);
    // The bytes verify: now what they mean (step counts, the writer's state fields, finite weights), as a resume
    // or an evaluation would check it before loading.
    let contentProblem: string | null = null;
    if (v.ok) {
      try {
        checkCheckpointContent(
          cand,
          v.data,
          v.manifest,
          validate ? (state, file) => validate(state, file, config) : undefined,
        );
      } catch (err) {
        if (!(err instanceof CoreError && err.code === 'CHECKPOINT_CORRUPT')) throw err;
        contentProblem = err.message.split(runDir + '/').join('');
      }
    }
    if (!v.ok || contentProblem !== null) {
      const problem = !v.ok ? `${relativeTo(runDir, v.file)}: ${v.problem}` : contentProblem!;
      result.checkpoints.push({ path: rel, ok: false, verified: false, epoch: null, globalStep: null, problem });
      add(rel, 'problem', problem);
      continue;
    }
    let epoch: number | null = v.manifest?.epoch ?? null;
    let step: number | null = v.manifest?.globalStep ?? null;
    if (v.manifest === null) {
      try {
        const s = JSON.parse(v.data.get('state.json')!.toString('utf8')) as { epoch?: number; globalStep?: number };
        epoch = s.epoch ?? null;
        step = s.globalStep ?? null;
      } catch {
        /* reported below as unverified */
      }
    }
    result.checkpoints.push({
      path: rel,
      ok: true,
      verified: v.manifest !== null,
      epoch,
      globalStep: step,
      problem: null,
    });
    add(
      rel,
      v.manifest === null ? 'warning' : 'ok',
      `step ${step ?? '?'}, epoch ${epoch === null ? '?' : epoch}${v.manifest === null ? ' (written before manifests: not verifiable)' : ', every file matches its manifest'}`,
    );
    if (isTraining && step !== null && step > bestGoodStep) {
      bestGoodStep = step;
      result.resumeFrom = rel;
    }
    if (!isTraining) bestOk = true;
  }
  const corruptTraining = result.checkpoints.filter(
    (c) => !c.ok && !c.path.startsWith(RUN_FILES.best) && !c.path.endsWith('.prev-best'),
  );
  if (trainingCheckpointsExist && result.resumeFrom === null)
    add(
      'resume',
      'problem',
      'no good training checkpoint: resume will refuse to start (it never restarts silently from step 0)',
    );
  else if (result.resumeFrom !== null && corruptTraining.length > 0)
    add('resume', 'warning', `resume will continue from ${result.resumeFrom} (step ${bestGoodStep})`);
  if (existsSync(bestDir) && !bestOk)
    add(RUN_FILES.best, 'problem', 'best/ is corrupt: evaluation refuses it; use --which last, or retrain');
  if (existsSync(ckDir)) {
    const temps = readdirSync(ckDir).filter((n) => n.startsWith('.tmp-'));
    if (temps.length > 0)
      add(
        'checkpoints',
        'warning',
        `${temps.length} unfinished checkpoint write(s) (${temps.join(', ')}): removed at the next resume`,
      );
  }
  if (existsSync(join(runDir, PREVIOUS_NAME)))
    add('layout', 'warning', `unexpected ${PREVIOUS_NAME}/ in the run folder root`);

  // events.jsonl tail
  const eventsFile = join(runDir, RUN_FILES.events);
  let lastType: string | null = null;
  let lastRunEnd: string | null = null;
  let lastError: string | null = null;
  if (existsSync(eventsFile)) {
    const { text, size } = readTail(eventsFile);
    result.events.lines = countNewlines(eventsFile);
    result.events.partialLastLine = size > 0 && !text.endsWith('\n');
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    if (result.events.partialLastLine) lines.pop();
    for (const line of lines) {
      try {
        const e = JSON.parse(line) as {
          type?: string;
          time?: string;
          status?: string;
          code?: string;
          message?: string;
        };
        // The workbench's supervisor adds its job-state lines ("job") to the stream: they say nothing of the run.
        if (e.type === 'job') continue;
        lastType = e.type ?? null;
        if (e.type === 'error') lastError = `${e.code ?? 'error'}: ${(e.message ?? '').split('\n')[0]}`.slice(0, 300);
        result.events.lastTime = e.time ?? result.events.lastTime;
        if (e.type === 'run-end') lastRunEnd = e.status ?? null;
        if (e.type === 'run-start') lastRunEnd = null;
      } catch {
        result.events.badLines++;
      }
    }
    result.events.lastType = lastType;
    if (result.events.partialLastLine)
      add(
        RUN_FILES.events,
        'warning',
        'the last line is cut off (a writer died mid-append): it is removed at the next resume',
      );
    if (result.events.badLines > 0)
      add(
        RUN_FILES.events,
        'problem',
        `${result.events.badLines} line(s) in the last ${TAIL_BYTES / 1024} KiB are not JSON`,
      );
    if (!result.events.partialLastLine && result.events.badLines === 0)
      add(
        RUN_FILES.events,
        'ok',
        `${result.events.lines.toLocaleString('en-US')} events, the last one "${lastType ?? '-'}" at ${result.events.lastTime ?? '-'}`,
      );
  } else if (hasConfig) {
    add(RUN_FILES.events, 'warning', 'missing');
  }

  // lock
  const lock = inspectLock(runDir);
  result.lock = {
    state: lock.state,
    holder: lock.state === 'held' || lock.state === 'stale' ? describeHolder(lock.holder) : null,
  };
  if (lock.state === 'held') add('lock', 'ok', `held by ${describeHolder(lock.holder)}: the run is in use`);
  else if (lock.state === 'stale') add('lock', 'warning', `stale: ${lock.reason}; the next writer takes it over`);
  else if (lock.state === 'unreadable') add('lock', 'warning', `${lock.reason}; the next writer replaces it`);
  else add('lock', 'ok', 'free');

  // Condition and advice.
  if (!hasConfig)
    result.condition = existsSync(eventsFile) || trainingCheckpointsExist || configBroken ? 'interrupted' : 'not-a-run';
  else if (lock.state === 'held') result.condition = 'running';
  // A stale lock: the last writer died (whatever the events said before it started).
  else if (lock.state === 'stale') result.condition = 'interrupted';
  else if (lastType === 'run-end') result.condition = lastRunEnd === 'completed' ? 'completed' : 'stopped';
  else if (lastType === 'error') result.condition = 'failed';
  else if (lastType === null && !trainingCheckpointsExist) result.condition = 'not-started';
  else result.condition = 'interrupted';
  const levels: CheckLevel[] = checks.map((c) => c.level);
  result.level = levels.includes('problem') ? 'problem' : levels.includes('warning') ? 'warning' : 'ok';
  result.advice = advise({
    result,
    dir,
    config,
    hasConfig,
    configBroken,
    tokenizerBroken,
    dataMissing,
    trainingCheckpointsExist,
    bestGoodStep,
    bestOk,
    lastError,
  });
  return result;
}

/**
 * What to do next, one line. A command is advised only when it would be accepted as printed (each one is run by
 * test/reliability/doctor-advice.test.ts); where the user must supply something (a moved data set), the
 * placeholder is named in capitals and said what it stands for.
 */
function advise(a: {
  result: RunDiagnosis;
  dir: string;
  config: RunConfig | null;
  hasConfig: boolean;
  configBroken: boolean;
  tokenizerBroken: boolean;
  dataMissing: boolean;
  trainingCheckpointsExist: boolean;
  bestGoodStep: number;
  bestOk: boolean;
  lastError: string | null;
}): string {
  const { result } = a;
  const out = shellWord(a.dir);
  const pretrain = a.config !== null && (a.config as { pretrain?: unknown }).pretrain !== undefined;
  const dataFlag = a.dataMissing ? ' --data DIR' : '';
  const dataNote = a.dataMissing ? ` (DIR: where the data set of config.json, ${a.config?.dataDir}, is now)` : '';
  if (result.condition === 'running') return 'a writer is running: wait for it or stop it before writing to this run';
  if (result.condition === 'not-a-run') return 'this folder holds no run';
  if (a.configBroken)
    return 'config.json cannot be read: restore it from a backup (resume and evaluation need it), or start a new run elsewhere';
  if (!a.hasConfig)
    return `config.json is missing (the run never got past its preparation): start it again with: aimkp train --data DIR --preset NAME --out ${out} (DIR, NAME: the data set and preset it was started with)`;
  if (a.tokenizerBroken)
    return 'tokenizer.json cannot be read: restore it from a backup (resume and evaluation need it), or start a new run elsewhere';
  if (a.trainingCheckpointsExist && result.resumeFrom === null)
    return 'no good training checkpoint is left: restore the folder from a backup, or start a new run elsewhere';
  if (result.condition === 'completed') {
    if (result.level === 'problem') return 'training is complete, but see the problems above';
    if (pretrain)
      return `pretraining is complete; align the adapter on it with: aimkp align --base ${out} --data DIR --out RUN (DIR: the fine-tuning data set, RUN: a new run folder)`;
    if (!a.bestOk) return 'training is complete, but it has no best/ checkpoint to evaluate: use --which last';
    return `training is complete; evaluate with: aimkp eval --run ${out}${dataFlag}${dataNote}`;
  }
  const command = `aimkp ${pretrain ? 'pretrain' : 'train'} --out ${out} --resume${dataFlag}`;
  const from = result.resumeFrom ? ` (from ${result.resumeFrom}, step ${a.bestGoodStep})` : ' (from step 0)';
  const failed =
    result.condition === 'failed' && a.lastError !== null
      ? `the last attempt failed (${a.lastError}): fix that, then `
      : '';
  return `${failed}continue with: ${command}${from}${dataNote}`;
}

/** The human-readable report: one line per check, then the condition and the advice. */
export function formatDiagnosis(d: RunDiagnosis): string {
  const mark = { ok: 'ok  ', warning: 'warn', problem: 'FAIL' } as const;
  const width = Math.max(...d.checks.map((c) => c.name.length));
  return [
    `run ${d.runDir}`,
    ...d.checks.map((c) => `  ${mark[c.level]}  ${c.name.padEnd(width)}  ${c.message}`),
    `condition: ${d.condition}${d.level === 'ok' ? '' : ` (${d.checks.filter((c) => c.level === d.level).length} ${d.level}${d.level === 'problem' ? '(s)' : '(s)'})`}`,
    `next: ${d.advice}`,
  ].join('\n');
}
