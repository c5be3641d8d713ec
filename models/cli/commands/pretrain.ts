// `aimkp pretrain`: stage 1 of the paper setting — next-token LM pretraining on text only (docs/training.md).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  backendFlag,
  intFlag,
  maxStepsFlag,
  numberFlag,
  parseCommandArgs,
  requireFlag,
  workersFlag,
  workersFlagHelp,
} from '../args';
import { BACKEND_CHOICES } from '../../tf/backend';
import { mergeOverride, validateConfig } from '../../train/config-resolve';
import {
  pretrain,
  pretrainDefaults,
  PRETRAIN_SIZES,
  readConfigOverride,
  type PretrainSize,
} from '../../train/pretrain';
import { WORDNET_DEFAULT_DIR } from '../../train/pretrain-corpus';
import { GCIDE_DEFAULT_DIR } from '../../train/dictd-corpus';
import { CoreError } from '../../core-error';
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
    '  --sources LIST       corpus sources besides the train split: wordnet (default: synsets with a train word),',
    '                       wordnet-all (every synset, 1.45 M words), gcide (GCIDE definitions, 5.2 M words;',
    '                       Debian package dict-gcide, GPL-3+, read locally), e.g. --sources wordnet-all,gcide',
    `  --gcide DIR          dictd folder with gcide.index + gcide.dict.dz (default ${GCIDE_DEFAULT_DIR})`,
    '  --max-gcide N        keep at most N GCIDE entries (train-vocabulary headwords first)',
    '  --size small|large   base LM shape: small (default; d 128, 2 layers) or large (d 256, 4 layers, 8 heads,',
    '                       dFF 1024, 16k vocabulary, positions for the 16×16 mobilenet-v2-s16 grid); --config wins',
    '  --held-out N         chunks held out for the held-out loss (default 64)',
    '  --epochs N           default 3',
    '  --seed S             default 1',
    '  --lr X               default 1e-3',
    '  --config FILE        JSON overriding config fields (model shape, batchSize, maxVocab, …)',
    `  --backend B          ${BACKEND_CHOICES.join(' | ')}`,
    '  --max-steps N        stop (resumably) after global step N',
    workersFlagHelp(23),
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
    sources: { type: 'string' },
    gcide: { type: 'string' },
    'max-gcide': { type: 'string' },
    size: { type: 'string' },
    'held-out': { type: 'string' },
    epochs: { type: 'string' },
    seed: { type: 'string' },
    lr: { type: 'string' },
    config: { type: 'string' },
    backend: { type: 'string' },
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
  const out = requireFlag('pretrain', values.out, 'out');
  const backend = backendFlag('pretrain', values.backend);
  // Checked before anything is read, as train checks it.
  const maxSteps = maxStepsFlag('pretrain', values['max-steps']);
  const resuming = values.resume && existsSync(join(out, 'config.json'));
  let config: TrainConfig | undefined;
  if (!resuming) {
    requireFlag('pretrain', values.data, 'data');
    const size = values.size ?? 'small';
    if (!(size in PRETRAIN_SIZES))
      throw new CoreError('BAD_INPUT', `aimkp pretrain: --size must be small or large, got "${size}"`);
    let merged = mergeOverride(
      pretrainDefaults() as unknown as Record<string, unknown>,
      PRETRAIN_SIZES[size as PretrainSize],
      `--size ${size}`,
    );
    if (values.config) merged = mergeOverride(merged, readConfigOverride(values.config), values.config);
    const flags: Record<string, unknown> = {};
    if (values.epochs !== undefined) flags.epochs = intFlag('pretrain', values.epochs, 'epochs', 3);
    if (values.seed !== undefined) flags.seed = intFlag('pretrain', values.seed, 'seed', 1);
    if (values.lr !== undefined) flags.lr = numberFlag('pretrain', values.lr, 'lr', 1e-3);
    merged = mergeOverride(merged, flags, 'command-line flags');
    config = validateConfig(merged as unknown as TrainConfig, values.config ?? 'aimkp pretrain');
  }
  const progress = new ProgressPrinter(process.stderr, values.quiet);
  // Pretraining writes no run-start event; the step lines take their total from the epoch count.
  const epochs = config?.epochs ?? savedEpochs(out);
  if (epochs !== undefined) progress.expectEpochs(epochs);
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
        ...corpusSources(values.sources, values.gcide, values['max-gcide']),
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
      workers: workersFlag('pretrain', values.workers),
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

/** --sources / --gcide / --max-gcide → the corpus settings. */
function corpusSources(
  sources: string | undefined,
  gcide: string | undefined,
  maxGcide: string | undefined,
): { wordnetAll: boolean; gcideDir: string | null; maxGcideDocs: number | null } {
  const list = (sources ?? 'wordnet')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const known = ['wordnet', 'wordnet-all', 'gcide'];
  const bad = list.find((s) => !known.includes(s));
  if (bad !== undefined)
    throw new CoreError(
      'BAD_INPUT',
      `aimkp pretrain: --sources: unknown source "${bad}" (expected ${known.join(', ')})`,
    );
  if (!list.includes('wordnet') && !list.includes('wordnet-all'))
    throw new CoreError('BAD_INPUT', 'aimkp pretrain: --sources must include wordnet or wordnet-all');
  const useGcide = list.includes('gcide');
  if (!useGcide && (gcide !== undefined || maxGcide !== undefined))
    throw new CoreError('BAD_INPUT', 'aimkp pretrain: --gcide / --max-gcide need gcide in --sources');
  return {
    wordnetAll: list.includes('wordnet-all'),
    gcideDir: useGcide ? (gcide ?? GCIDE_DEFAULT_DIR) : null,
    maxGcideDocs: maxGcide === undefined ? null : intFlag('pretrain', maxGcide, 'max-gcide', 0),
  };
}

/** The epoch count in RUN/config.json of a run being resumed (undefined when it cannot be read: no total shown). */
function savedEpochs(runDir: string): number | undefined {
  try {
    const epochs = (JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { epochs?: unknown }).epochs;
    return typeof epochs === 'number' && epochs > 0 ? epochs : undefined;
  } catch {
    return undefined;
  }
}
