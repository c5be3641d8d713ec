// Fault drill: kills `aimkp train` (kill -9) at random moments and checks every resume against a run that
// was never interrupted: each step a resumed process runs must have exactly the reference's loss and AimKP
// decisions, and the final checkpoint (weights, AdamW moments, state, best/) must be byte-identical. Some
// kills are followed by a second fault (a corrupted checkpoint file, a cut events.jsonl line, a second
// writer). Prints a Markdown table (docs/reliability.md) and exits 1 if anything was lost or differs.
//
//   node --import tsx scripts/fault-drill.ts [--kills 20] [--seed 1] [--out DIR] [--keep]
//
// Tiny model on the synthetic data set (patch encoder): 96 train items, batch 4, 3 epochs = 72 steps, a
// checkpoint every step, so kills land in start-up, steps, checkpoint writes and validation alike.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSynthDataset } from '../models/data/synth-dataset';
import { mulberry32 } from '../models/random/mulberry32';
import { diagnoseRun } from '../models/run/run-doctor';
import { inspectLock } from '../models/run/run-lock';
import { parseTrainingEvent, type StepEvent } from '../shared/training-events';
import { fileURLToPath } from 'node:url';
import { scriptArgs } from './lib/script-args';

const { values } = scriptArgs(fileURLToPath(import.meta.url), {
  options: {
    kills: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
  },
});
const KILLS = Number(values.kills);
const rand = mulberry32(Number(values.seed));
const root = values.out ?? mkdtempSync(join(tmpdir(), 'aimkp-drill-'));
const data = join(root, 'data');
const reference = join(root, 'reference');
const AIMKP = join(import.meta.dirname, '..', 'bin', 'aimkp.mjs');
const CONFIG = join(root, 'tiny.json');

interface Row {
  n: number;
  fault: string;
  /** What the process was doing when it was killed. */
  at: string;
  /** What the next start did about it. */
  outcome: string;
  /** Steps run by that resume and how many matched the reference exactly. */
  checked: string;
  ok: boolean;
}

function trainArgs(run: string, fresh: boolean): string[] {
  return fresh
    ? [
        'train',
        '--data',
        data,
        '--preset',
        'aimkp',
        '--encoder',
        'patch:3:4',
        '--epochs',
        '3',
        '--seed',
        '3',
        '--config',
        CONFIG,
        '--out',
        run,
      ]
    : ['train', '--out', run, '--resume'];
}

interface CliResult {
  code: number | null;
  signal: string | null;
  stderr: string;
  ms: number;
}

/** Starts the CLI; `done` resolves with its exit code or signal and stderr. */
function startCli(args: string[]): { child: ChildProcess; done: Promise<CliResult> } {
  const t0 = performance.now();
  const child = spawn(process.execPath, [AIMKP, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr, ms: performance.now() - t0 })),
  );
  return { child, done };
}

/** Runs the CLI to the end, or kills it (kill -9) after `killAfterMs`. */
function runCli(args: string[], killAfterMs: number | null): Promise<CliResult> {
  const { child, done } = startCli(args);
  const timer = killAfterMs === null ? null : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return done.finally(() => timer && clearTimeout(timer));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function events(run: string): { lines: string[]; partial: boolean } {
  const file = join(run, 'events.jsonl');
  if (!existsSync(file)) return { lines: [], partial: false };
  const text = readFileSync(file, 'utf8');
  const partial = text.length > 0 && !text.endsWith('\n');
  const lines = text.split('\n').filter((l) => l !== '');
  // A cut last line is not an event (the next writer removes it).
  if (partial) lines.pop();
  return { lines, partial };
}

function referenceSteps(): Map<number, StepEvent> {
  const m = new Map<number, StepEvent>();
  for (const l of events(reference).lines) {
    const e = parseTrainingEvent(l);
    if (e?.type === 'step') m.set(e.step, e);
  }
  return m;
}

/** Steps of the segment of events.jsonl from line `from` on, compared with the reference. */
function checkSegment(
  run: string,
  from: number,
  ref: Map<number, StepEvent>,
): { steps: number; same: number; firstDiff: string | null } {
  let steps = 0;
  let same = 0;
  let firstDiff: string | null = null;
  for (const l of events(run).lines.slice(from)) {
    const e = parseTrainingEvent(l);
    if (e?.type !== 'step') continue;
    steps++;
    const r = ref.get(e.step);
    const equal =
      r !== undefined &&
      r.loss === e.loss &&
      JSON.stringify(r.samples) === JSON.stringify(e.samples) &&
      r.gradNorm === e.gradNorm;
    if (equal) same++;
    else firstDiff ??= `step ${e.step}: loss ${e.loss} vs ${r?.loss}`;
  }
  return { steps, same, firstDiff };
}

/** What a killed process was doing, from the folder it left (`from`: events.jsonl lines before it started). */
function whereKilled(run: string, from: number): string {
  if (!existsSync(join(run, 'config.json'))) return 'start-up / preparing a new run (no config.json yet)';
  const ck = join(run, 'checkpoints');
  if (existsSync(ck) && readdirSync(ck).some((n) => n.startsWith('.tmp-'))) return 'writing a checkpoint';
  const { lines, partial } = events(run);
  const tag = partial ? ' (mid-append of events.jsonl)' : '';
  if (lines.length === from && !partial) return 'start-up (nothing written by this start yet)';
  // The last event that says where training stood (progress events interleave with them).
  const mine = lines
    .slice(from)
    .map((l) => parseTrainingEvent(l))
    .filter((e) => e !== null);
  const last = [...mine].reverse().find((e) => e.type !== 'progress') ?? null;
  const lastProgress = [...mine].reverse().find((e) => e.type === 'progress');
  if (last === null) return `preparing${lastProgress?.type === 'progress' ? ` (${lastProgress.phase})` : ''}${tag}`;
  if (last.type === 'step') return `training, after step ${last.step}${tag}`;
  if (last.type === 'checkpoint') return `training, after the checkpoint of step ${last.step}${tag}`;
  if (last.type === 'run-start') return `before the first step of this start${tag}`;
  if (last.type === 'epoch-end') return `after epoch ${last.epoch + 1}${tag}`;
  return `after a "${last.type}" event${tag}`;
}

function flipOneFloat(file: string): void {
  const b = readFileSync(file);
  const at = 4 * Math.floor(b.length / 8);
  b.writeFloatLE(b.readFloatLE(at) + 0.5, at);
  writeFileSync(file, b);
}

/** Second faults applied after some kills (only when a good `previous` exists to fall back to). */
const EXTRA: Record<number, { name: string; apply: (run: string) => void }> = {
  4: {
    name: 'truncate checkpoints/last/weights.bin',
    apply: (run) => truncateSync(join(run, 'checkpoints', 'last', 'weights.bin'), 1000),
  },
  8: {
    name: 'delete checkpoints/last/state.json',
    apply: (run) => unlinkSync(join(run, 'checkpoints', 'last', 'state.json')),
  },
  12: {
    name: 'change one float of checkpoints/last/optimizer.bin',
    apply: (run) => flipOneFloat(join(run, 'checkpoints', 'last', 'optimizer.bin')),
  },
  16: {
    name: 'cut line appended to events.jsonl',
    apply: (run) => appendFileSync(join(run, 'events.jsonl'), '{"type":"step","time":"2026-'),
  },
};
const SECOND_WRITER_AT = new Set([6, 14]);

function bytesEqual(a: string, b: string): boolean {
  return existsSync(a) && existsSync(b) && readFileSync(a).equals(readFileSync(b));
}

function stateWithoutTime(file: string): string {
  const s = JSON.parse(readFileSync(file, 'utf8')) as { epochStats: { trainMs?: number } };
  delete s.epochStats.trainMs;
  return JSON.stringify(s);
}

async function main(): Promise<number> {
  await buildSynthDataset({ n: 120, seed: 7, out: data });
  writeFileSync(
    CONFIG,
    JSON.stringify({
      model: { dModel: 16, nLayers: 1, nHeads: 2, dFF: 32, adapterHidden: 16, dropout: 0.1 },
      batchSize: 4,
      samplesPerCall: 4,
      maxValid: 8,
      checkpointEvery: 1,
    }),
  );
  console.error(`fault drill in ${root}: reference run…`);
  const refRun = await runCli(trainArgs(reference, true), null);
  if (refRun.code !== 0) throw new Error(`reference run failed: ${refRun.stderr}`);
  const ref = referenceSteps();
  console.error(`reference: ${ref.size} steps in ${(refRun.ms / 1000).toFixed(1)} s`);

  const rows: Row[] = [];
  let round = 0;
  let run = join(root, `drill-${round}`);
  let pendingRow: Row | null = null;
  let kills = 0;
  let killsInRound = 0;
  let finishedEarly = 0;
  let folders = 0;
  const finishRound = async (): Promise<void> => {
    // Final resume to completion, then the byte comparison.
    const from = events(run).lines.length;
    const r = await runCli(trainArgs(run, !existsSync(join(run, 'config.json'))), null);
    const seg = checkSegment(run, from, ref);
    if (pendingRow) {
      pendingRow.checked = `${seg.same}/${seg.steps}`;
      pendingRow.outcome += `; next start: ${outcomeOf(r)}`;
      pendingRow.ok &&= r.code === 0 && seg.same === seg.steps;
      rows.push(pendingRow);
      pendingRow = null;
    }
    const same =
      ['weights.bin', 'optimizer.bin'].every((f) =>
        bytesEqual(join(run, 'checkpoints', 'last', f), join(reference, 'checkpoints', 'last', f)),
      ) &&
      stateWithoutTime(join(run, 'checkpoints', 'last', 'state.json')) ===
        stateWithoutTime(join(reference, 'checkpoints', 'last', 'state.json')) &&
      bytesEqual(join(run, 'best', 'weights.bin'), join(reference, 'best', 'weights.bin'));
    if (killsInRound === 0 && r.code === 0 && same) return; // a start that beat its kill time: nothing to report
    rows.push({
      n: 0,
      fault: `round ${round + 1} (${killsInRound} kill${killsInRound === 1 ? '' : 's'}): final resume to the end`,
      at: '-',
      outcome: r.code === 0 ? 'completed' : `exit ${r.code}: ${r.stderr.trim().split('\n').pop()}`,
      checked: same
        ? 'final weights, AdamW moments, state.json, best/ byte-identical to the reference'
        : 'FINAL CHECKPOINT DIFFERS',
      ok: r.code === 0 && same && seg.same === seg.steps,
    });
  };

  while (kills < KILLS) {
    const fresh = !existsSync(join(run, 'config.json'));
    const from = events(run).lines.length;
    // Uniform over the whole length of an uninterrupted run (start-up included), as measured on this machine.
    const delay = Math.round((0.05 + 0.75 * rand()) * refRun.ms);
    const n = kills + 1;
    let r: CliResult;
    let secondWriter: CliResult | null = null;
    if (SECOND_WRITER_AT.has(n) && !fresh) {
      // A second writer started while this one holds the run must be refused (exit code 4) and change
      // nothing; the first is killed only after the second has given up.
      const first = startCli(trainArgs(run, fresh));
      let exited = false;
      void first.done.then(() => (exited = true));
      while (!exited && !(inspectLock(run).state === 'held' && readLockPid(run) === first.child.pid)) await sleep(50);
      if (!exited) {
        const second = startCli(trainArgs(run, false));
        secondWriter = await second.done;
        first.child.kill('SIGKILL');
      }
      r = await first.done;
    } else {
      r = await runCli(trainArgs(run, fresh), delay);
    }
    const seg = checkSegment(run, from, ref);
    if (pendingRow) {
      pendingRow.checked = `${seg.same}/${seg.steps}`;
      pendingRow.outcome += `; next start: ${outcomeOf(r)}`;
      pendingRow.ok &&= seg.same === seg.steps;
      rows.push(pendingRow);
      pendingRow = null;
    }
    if (r.signal !== 'SIGKILL') {
      // Finished before the kill: this round is complete; compare and start a new round.
      pendingRow = null;
      finishedEarly++;
      await finishRound();
      if (killsInRound > 0) round++;
      killsInRound = 0;
      run = join(root, `drill-${++folders}`);
      continue;
    }
    kills++;
    killsInRound++;
    const row: Row = {
      n: kills,
      fault: secondWriter ? 'kill -9 while training' : `kill -9 after ${(delay / 1000).toFixed(2)} s`,
      at: whereKilled(run, from),
      outcome: '',
      checked: '',
      ok: true,
    };
    if (secondWriter) {
      const w = secondWriter;
      const refused = w.code === 4 && /in use by "aimkp train/.test(w.stderr);
      row.fault += ' + a second `aimkp train --resume` while it ran';
      row.outcome = refused
        ? 'second writer refused (exit 4, names the holder); '
        : `SECOND WRITER NOT REFUSED (exit ${w.code}); `;
      row.ok &&= refused;
    }
    const extra = EXTRA[kills];
    if (extra && existsSync(run)) {
      const d = await diagnoseRun(run);
      const previousGood =
        d.checkpoints.some((c) => c.path.endsWith('previous') && c.ok) &&
        d.checkpoints.some((c) => c.path.endsWith('last') && c.ok);
      if (previousGood || extra.name.includes('events')) {
        extra.apply(run);
        row.fault += ` + ${extra.name}`;
      } else {
        row.fault += ` (${extra.name} skipped: no two good checkpoints yet)`;
      }
    }
    if (existsSync(run)) {
      const d = await diagnoseRun(run);
      row.outcome += `doctor: ${d.condition}, lock ${d.lock.state}${d.resumeFrom ? `, resume from ${d.resumeFrom}` : ''}`;
    } else {
      row.outcome += 'no run folder yet';
    }
    pendingRow = row;
    console.error(`kill ${kills}: ${row.fault}; at ${row.at}`);
  }
  await finishRound();

  const ok = rows.every((r) => r.ok);
  console.log('| # | fault | killed while | what the next start did | steps checked = reference | ok |');
  console.log('|---:|---|---|---|---|---|');
  for (const r of rows)
    console.log(
      `| ${r.n || ''} | ${r.fault} | ${r.at} | ${r.outcome.replace(/\|/g, '\\|')} | ${r.checked} | ${r.ok ? 'yes' : '**NO**'} |`,
    );
  const total = rows.filter((r) => r.n > 0).length;
  console.log(
    `\n${total} kills in ${round + 1} round(s) (a round: from a fresh run folder to the end); ${finishedEarly} start(s) finished before their kill time; ${ok ? 'every resumed step equalled the reference and every final checkpoint was byte-identical: nothing lost' : 'SOMETHING DIFFERED (see the rows marked NO)'}.`,
  );
  if (!values.keep && values.out === undefined) rmSync(root, { recursive: true, force: true });
  return ok ? 0 : 1;
}

/** The next start's own account of what it did (the lines it printed), condensed, and how it ended. */
function outcomeOf(r: CliResult): string {
  const notes = r.stderr
    .split('\n')
    .filter((l) => /warning|resuming at|took over|removed|no checkpoint yet|refus|error/i.test(l))
    .map((l) =>
      l
        .replace(/\/\S*\/drill-\d+\//g, '')
        .replace(
          /took over the lock of "[^"]*" \(pid \d+ [^)]*\): process \d+ on \S+ is no longer running/,
          'took over the stale lock (its process is gone)',
        )
        .replace(
          /removed (\d+) unfinished checkpoint folder\(s\) of an interrupted write/,
          'removed $1 half-written checkpoint folder',
        )
        .replace(/^warning: /, '')
        .trim(),
    );
  const end =
    r.code === 0 ? 'ran to the end' : r.signal === 'SIGKILL' ? 'was killed in turn (next row)' : `exit ${r.code}`;
  return [...notes.slice(0, 3), end].join('; ');
}

function readLockPid(run: string): number | null {
  const s = inspectLock(run);
  return s.state === 'held' ? s.holder.pid : null;
}

process.exitCode = await main();
