// `aimkp align`: stage 2 of the paper setting — the adapter alone on train images → their texts, LM frozen.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  backendFlag,
  intFlag,
  maxStepsFlag,
  parseCommandArgs,
  requireFlag,
  workersFlag,
  workersFlagHelp,
} from '../args';
import { BACKEND_CHOICES } from '../../tf/backend';
import { align, alignDefaults } from '../../train/align';
import { readConfigOverride } from '../../train/pretrain';
import { mergeOverride, validateConfig } from '../../train/config-resolve';
import { ProgressPrinter } from '../training-progress';
import type { TrainConfig } from '../../run/train-config';

function usage(): string {
  return [
    'Usage: aimkp align --base PRETRAIN_RUN --data DIR --out RUN [options]',
    '       aimkp align --out RUN --resume',
    '',
    "Trains the adapter alone (LM frozen) on the train split's images → their titles/descriptions, starting from",
    'a pretrained run (aimkp pretrain). The result is the base of the paper-* presets (aimkp train --init-from RUN).',
    '',
    'Options:',
    '  --base RUN      pretrained run (its tokenizer, LM and encoder are used)',
    '  --data DIR      fine-tuning data set; only its train split is read',
    '  --out RUN       run folder (RUN/align-data holds the image → text pairs)',
    '  --epochs N      default 3',
    '  --seed S        default 1',
    '  --config FILE   JSON overriding config fields',
    `  --backend B     ${BACKEND_CHOICES.join(' | ')}`,
    "  --cache DIR     image feature cache (default: the data set's .cache)",
    '  --max-steps N   stop (resumably) after global step N',
    workersFlagHelp(18),
    '  --resume        continue the run in --out',
    '  --quiet         no progress lines',
  ].join('\n');
}

export async function alignCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('align', argv, {
    base: { type: 'string' },
    data: { type: 'string' },
    out: { type: 'string' },
    epochs: { type: 'string' },
    seed: { type: 'string' },
    config: { type: 'string' },
    backend: { type: 'string' },
    cache: { type: 'string' },
    'max-steps': { type: 'string' },
    workers: { type: 'string' },
    resume: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    console.log(usage());
    return 0;
  }
  const out = requireFlag('align', values.out, 'out');
  const backend = backendFlag('align', values.backend);
  // Checked before anything is read, as train checks it.
  const maxSteps = maxStepsFlag('align', values['max-steps']);
  let config: TrainConfig | undefined;
  if (!(values.resume && existsSync(join(out, 'config.json')))) {
    const base = requireFlag('align', values.base, 'base');
    requireFlag('align', values.data, 'data');
    let merged = alignDefaults(resolve(base)) as unknown as Record<string, unknown>;
    if (values.config) merged = mergeOverride(merged, readConfigOverride(values.config), values.config);
    const flags: Record<string, unknown> = {};
    if (values.epochs !== undefined) flags.epochs = intFlag('align', values.epochs, 'epochs', 3);
    if (values.seed !== undefined) flags.seed = intFlag('align', values.seed, 'seed', 1);
    merged = mergeOverride(merged, flags, 'command-line flags');
    config = validateConfig(merged as unknown as TrainConfig, values.config ?? 'aimkp align');
  }
  const progress = new ProgressPrinter(process.stderr, values.quiet);
  const controller = new AbortController();
  const onSigint = () => {
    console.error('\naimkp align: stopping after this step (checkpoint, then exit; resume with --resume)…');
    controller.abort();
    process.off('SIGINT', onSigint);
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await align({
      runDir: out,
      base: values.base,
      dataDir: values.data,
      config,
      resume: values.resume,
      backend,
      cacheDir: values.cache,
      workers: workersFlag('align', values.workers),
      maxSteps,
      signal: controller.signal,
      onEvent: (e) => progress.onEvent(e),
      log: (line) => progress.line(line),
    });
    progress.line(
      result.status === 'completed'
        ? `done: ${result.globalStep} steps → ${result.runDir}`
        : `stopped at step ${result.globalStep}; continue with: aimkp align --out ${out} --resume`,
    );
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
