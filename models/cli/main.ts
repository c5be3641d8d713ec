import { asCoreError, exitCodeFor, formatCliError } from './cli-error';

/** A CLI sub-command: parses its own argv, returns the process exit code. */
export type Command = (argv: string[]) => Promise<number>;

interface CommandEntry {
  summary: string;
  load: () => Promise<Command>;
}

// Commands load lazily so that `aimkp stem` does not pay for TensorFlow.js start-up.
const COMMANDS: Record<string, CommandEntry> = {
  stem: {
    summary: 'stem words from stdin (NLTK Porter, default mode)',
    load: async () => (await import('./commands/stem')).stemCommand,
  },
  eval: {
    summary: 'score predictions (--gold/--pred) or a run (--run/--data)',
    load: async () => (await import('./commands/eval')).evalCommand,
  },
  data: {
    summary: 'import, build and describe data sets (cmkp, clipart, synth, premise, stats)',
    load: async () => (await import('./commands/data')).dataCommand,
  },
  train: {
    summary: 'train a model with a preset (baseline, aimkp, ablations)',
    load: async () => (await import('./commands/train')).trainCommand,
  },
  pretrain: {
    summary: 'paper setting, stage 1: next-token LM pretraining on text only',
    load: async () => (await import('./commands/pretrain')).pretrainCommand,
  },
  align: {
    summary: 'paper setting, stage 2: the adapter alone on train images → texts, LM frozen',
    load: async () => (await import('./commands/align')).alignCommand,
  },
  predict: {
    summary: 'decode keyphrases for a split with a trained run',
    load: async () => (await import('./commands/predict')).predictCommand,
  },
  robustness: {
    summary: 'test-time robustness suite (mask sweeps, misaligned image, noise)',
    load: async () => (await import('./commands/robustness')).robustnessCommand,
  },
  compare: {
    summary: 'per-case comparison of two runs',
    load: async () => (await import('./commands/compare')).compareCommand,
  },
  report: {
    summary: 'mean ± std over seeds by mode (Markdown, CSV, LaTeX)',
    load: async () => (await import('./commands/report')).reportCommand,
  },
  bench: {
    summary: 'speed benchmarks, JSON output',
    load: async () => (await import('./commands/bench')).benchCommand,
  },
  doctor: {
    summary: 'check a run folder: checkpoints, manifests, events, lock',
    load: async () => (await import('./commands/doctor')).doctorCommand,
  },
};

/** Commands that bin/aimkp.mjs runs itself (listed here so that one help names every command). */
const APP_COMMANDS: readonly (readonly [string, string])[] = [
  ['serve', 'browser mode: the workbench UI and its API on a local server (--redis: on the lab queue)'],
  ['sweep', 'a grid of runs (presets × seeds × overrides) queued together as one group'],
  ['worker', "train queued runs of a lab's shared queue (BullMQ on Redis), headless"],
];

export function usage(): string {
  const width = Math.max(...[...Object.keys(COMMANDS), ...APP_COMMANDS.map(([n]) => n)].map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: aimkp <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    // Dispatched by bin/aimkp.mjs before the core's CLI: they need the supervisor (electron/server, electron/queue).
    'Workbench commands:',
    ...APP_COMMANDS.map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`),
    '',
    'Run "aimkp <command> --help" for a command\'s options.',
    '',
    'Errors are one line with an exit code per kind (docs/reliability.md); --debug (or AIMKP_DEBUG=1) adds the stack trace.',
  ].join('\n');
}

/** `--debug` anywhere (or AIMKP_DEBUG=1): stack traces on errors. Removed from argv before the command sees it. */
export function takeDebugFlag(argv: string[]): { argv: string[]; debug: boolean } {
  const debug = argv.includes('--debug') || process.env.AIMKP_DEBUG === '1';
  return { argv: argv.filter((a) => a !== '--debug'), debug };
}

export async function main(rawArgv: string[]): Promise<number> {
  const { argv, debug } = takeDebugFlag(rawArgv);
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    console.error(`aimkp: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await command(rest);
  } catch (err) {
    console.error(formatCliError(err, debug));
    return exitCodeFor(asCoreError(err));
  }
}
