// `aimkp pretrain`: stage 1 of the paper setting — next-token LM pretraining on text only (docs/training.md).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { backendFlag, intFlag, maxStepsFlag, numberFlag, parseCommandArgs, requireFlag } from '../args';
import { BACKEND_CHOICES } from '../../tf/backend';
import { mergeOverride, validateConfig } from '../../train/config-resolve';
import { pretrain, pretrainDefaults, readConfigOverride } from '../../train/pretrain';
import { WORDNET_DEFAULT_DIR } from '../../train/pretrain-corpus';
import { ProgressPrinter } from '../training-progress';
import type { TrainConfig } from '../../run/train-config';

function usage(): string {
  return [
    'Usage: aimkp pretrain --data DIR --out RUN [options]',
    '       aimkp pretrain --out RUN --resume',
    '',
    "Pretrains the LM (next-token prediction, text only) on WordNet glosses of the train split's words plus the",
    "train split's texts and tag lists (never valid/test). The run is the base for `aimkp align --base RUN`.",
    '',
    'Options:',
    '  --data DIR           fine-tuning data set; only its train split is read',
    '  --out RUN            run folder',
    `  --wordnet DIR        WordNet dict folder (default ${WORDNET_DEFAULT_DIR}; Debian package wordnet-base)`,
    '  --max-wordnet N      keep at most N WordNet glosses (most train-vocabulary lemmas first)',
    '  --held-out N         chunks held out for the held-out loss (default 64)',
    '  --epochs N           default 3',
    '  --seed S             default 1',
    '  --lr X               default 1e-3',
    '  --config FILE        JSON overriding config fields (model shape, batchSize, maxVocab, …)',
    `  --backend B          ${BACKEND_CHOICES.join(' | ')}`,
    '  --max-steps N        stop (resumably) after global step N',
    '  --resume             continue the run in --out',
    '  --quiet              no progress lines',
  ].join('\n');
}

export async function pretrainCommand(argv: string[]): Promise<number> {
  const { values } = parseCommandArgs('pretrain', argv, {
    data: { type: 'string' },
    out: { type: 'string' },
    wordnet: { type: 'string' },
    'max-wordnet': { type: 'string' },
    'held-out': { type: 'string' },
    epochs: { type: 'string' },
    seed: { type: 'string' },
    lr: { type: 'string' },
    config: { type: 'string' },
    backend: { type: 'string' },
    'max-steps': { type: 'string' },
    resume: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (values.help) {
    console.log(usage());
    return 0;
  }
  const out = requireFlag('pretrain', values.out, 'out');
  const backend = backendFlag('pretrain', values.backend);
  // Checked before anything is read, as train checks it.
  const maxSteps = maxStepsFlag('pretrain', values['max-steps']);
  const resuming = values.resume && existsSync(join(out, 'config.json'));
  let config: TrainConfig | undefined;
  if (!resuming) {
    requireFlag('pretrain', values.data, 'data');
    let merged = pretrainDefaults() as unknown as Record<string, unknown>;
    if (values.config) merged = mergeOverride(merged, readConfigOverride(values.config), values.config);
    const flags: Record<string, unknown> = {};
    if (values.epochs !== undefined) flags.epochs = intFlag('pretrain', values.epochs, 'epochs', 3);
    if (values.seed !== undefined) flags.seed = intFlag('pretrain', values.seed, 'seed', 1);
    if (values.lr !== undefined) flags.lr = numberFlag('pretrain', values.lr, 'lr', 1e-3);
    merged = mergeOverride(merged, flags, 'command-line flags');
    config = validateConfig(merged as unknown as TrainConfig, values.config ?? 'aimkp pretrain');
  }
  const progress = new ProgressPrinter(process.stderr, values.quiet);
  const controller = new AbortController();
  const onSigint = () => {
    console.error('\naimkp pretrain: stopping after this step (checkpoint, then exit; resume with --resume)…');
    controller.abort();
    process.off('SIGINT', onSigint);
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await pretrain({
      runDir: out,
      dataDir: values.data,
      config,
      settings: {
        ...(values.wordnet !== undefined ? { wordnetDir: values.wordnet } : {}),
        ...(values['max-wordnet'] !== undefined
          ? { maxWordnetDocs: intFlag('pretrain', values['max-wordnet'], 'max-wordnet', 0) }
          : {}),
        ...(values['held-out'] !== undefined
          ? { heldOutChunks: intFlag('pretrain', values['held-out'], 'held-out', 64) }
          : {}),
      },
      resume: values.resume,
      backend,
      maxSteps,
      signal: controller.signal,
      onEvent: (e) => progress.onEvent(e),
      log: (line) => progress.line(line),
    });
    progress.line(
      result.status === 'completed'
        ? `done: ${result.globalStep} steps; held-out loss by epoch ${result.heldOutLoss.map((l) => l.toFixed(3)).join(', ')} → ${result.runDir}`
        : `stopped at step ${result.globalStep}; continue with: aimkp pretrain --out ${out} --resume`,
    );
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
