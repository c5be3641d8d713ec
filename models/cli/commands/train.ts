// `aimkp train`: trains a run folder with a preset (baseline, specialists, AimKP, ablations); --resume continues one.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  backendFlag,
  intFlag,
  maxStepsFlag,
  parseCommandArgs,
  requireFlag,
  workersFlag,
  workersFlagHelp,
} from '../args';
import { CoreError } from '../../core-error';
import { BACKEND_CHOICES } from '../../tf/backend';
import { resolveConfig } from '../../train/config-resolve';
import { PRESETS, PRESET_NAMES } from '../../train/presets';
import { ProgressPrinter } from '../training-progress';
import { train } from '../../train/trainer';
import { ENCODER_SPEC_HELP } from '../../vision/load-image-encoder';

function usage(): string {
  const width = Math.max(...PRESET_NAMES.map((n) => n.length));
  const presets = PRESET_NAMES.map((n) => `  ${n.padEnd(width)}  ${PRESETS.get(n)!.description}`);
  return [
    'Usage: aimkp train --data DIR --preset NAME --out RUN [options]',
    '       aimkp train --out RUN --resume',
    '',
    'Trains a keyphrase generator into the run folder RUN (config.json, tokenizer.json, events.jsonl,',
    'checkpoints/last, best/). Progress and ETA go to stderr. Details: docs/training.md',
    '',
    'Options:',
    '  --data DIR         data-set folder (manifest.jsonl); uses its train and valid splits',
    '  --preset NAME      one of the presets below (default aimkp)',
    '  --out RUN          run folder (created; must not hold a run unless --resume)',
    "  --epochs N         override the preset's epoch count",
    '  --seed S           model initialisation, data order and random masks (default 1)',
    `  --backend B        ${BACKEND_CHOICES.join(' | ')} (default auto, or env AIMKP_BACKEND)`,
    '  --config FILE      JSON object overriding any config field (nested, e.g. {"aimkp":{"tauImage":0.3}})',
    `  --encoder SPEC     image encoder: ${ENCODER_SPEC_HELP}`,
    '  --max-train N      use only the first N train items',
    "  --init-from RUN    warm start from another run's best/ weights (its tokenizer, encoder and LM shape);",
    '                     with {"model":{"lora":{...}}} this trains LoRA + adapter on top of that run',
    '  --max-steps N      stop (resumably, with a checkpoint) after global step N (≥ 1)',
    '  --cache DIR        image feature cache (default DATA/.cache)',
    workersFlagHelp(21),
    "                     (each step's batch split by sample; a fixed K is deterministic and resumes exactly;",
    '                     a resume with another K is said and matches within float tolerance)',
    '  --resume           continue the run in --out exactly where it stopped (its saved config is used)',
    '  --quiet            no progress lines',
    '',
    'Presets:',
    ...presets,
  ].join('\n');
}

export async function trainCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('train', argv, {
    data: { type: 'string' },
    preset: { type: 'string' },
    out: { type: 'string' },
    epochs: { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
    config: { type: 'string' },
    encoder: { type: 'string' },
    'max-train': { type: 'string' },
    'init-from': { type: 'string' },
    'max-steps': { type: 'string' },
    cache: { type: 'string' },
    workers: { type: 'string' },
    resume: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    console.log(usage());
    return 0;
  }
  const out = requireFlag('train', values.out, 'out');
  const backend = backendFlag('train', values.backend);
  const positive = (flag: string, v: string | undefined, min: number) => {
    if (v === undefined) return undefined;
    const n = intFlag('train', v, flag, 0);
    if (n < min) throw new CoreError('BAD_INPUT', `aimkp train: --${flag} must be ≥ ${min}, got ${n}`);
    return n;
  };
  const maxSteps = maxStepsFlag('train', values['max-steps']);
  const flags = {
    epochs: positive('epochs', values.epochs, 1),
    seed: positive('seed', values.seed, 0),
    encoder: values.encoder,
    maxTrain: positive('max-train', values['max-train'], 1),
    initFrom: values['init-from'],
  };
  let config;
  // --resume on a folder without a run starts one (so a scripted "train --resume" loop always works).
  if (values.resume && existsSync(join(out, 'config.json'))) {
    const ignored = ['preset', 'config', 'epochs', 'seed', 'encoder', 'max-train', 'init-from'].filter(
      (k) => (values as Record<string, unknown>)[k] !== undefined,
    );
    if (ignored.length > 0)
      console.error(`aimkp train: --resume uses the run's saved config; ignoring --${ignored.join(', --')}`);
  } else {
    if (values.resume && values.data === undefined)
      throw new CoreError(
        'NOT_FOUND',
        `aimkp train: --resume: ${out} holds no run yet (no config.json); give --data DIR (and --preset) to start one there`,
        { path: out },
      );
    requireFlag('train', values.data, 'data');
    config = resolveConfig({ preset: values.preset ?? 'aimkp', configFile: values.config, flags });
  }
  const progress = new ProgressPrinter(process.stderr, values.quiet);
  const controller = new AbortController();
  // First Ctrl-C: finish the step, checkpoint, exit resumable. Second: default behaviour.
  const onSigint = () => {
    console.error('\naimkp train: stopping after this step (checkpoint, then exit; resume with --resume)…');
    controller.abort();
    process.off('SIGINT', onSigint);
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await train({
      runDir: out,
      config,
      dataDir: values.data,
      resume: values.resume,
      backend,
      cacheDir: values.cache,
      workers: workersFlag('train', values.workers),
      maxSteps,
      signal: controller.signal,
      onEvent: (e) => progress.onEvent(e),
      log: (line) => progress.line(line),
    });
    progress.line(
      result.status === 'completed'
        ? `done: ${result.globalStep} steps; best epoch ${result.bestEpoch === null ? '-' : result.bestEpoch + 1}${result.bestScore === null ? '' : ` (F1@1+F1@3+MAP@5 = ${result.bestScore.toFixed(4)})`} → ${result.runDir}`
        : `stopped at step ${result.globalStep}; continue with: aimkp train --out ${out} --resume`,
    );
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
