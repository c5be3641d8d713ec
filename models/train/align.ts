// Stage 2 of the paper setting (docs/training.md "Paper setting"), as LLaVA's feature-alignment stage: the adapter
// alone learns to map image features into the pretrained LM's input space, on image → text pairs made from the
// TRAIN split of the fine-tuning data (each clip-art image → its title/description). The LM stays frozen.
// The pairs live in a derived data set (RUN/align-data: train items only, keyphrases = [text], images linked);
// training is the ordinary trainer, so the run is resumable and is a base for --init-from like any run.
import { existsSync, symlinkSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CoreError } from '../core-error';
import { loadDataset } from '../data/load-dataset';
import type { ManifestItem } from '../data/manifest-types';
import { writeFileAtomic } from '../fs/atomic-write';
import { RUN_FILES } from '../run/run-files';
import { train } from './trainer';
import type { TrainOptions, TrainResult } from './train-options';
import type { TrainConfig } from '../run/train-config';
import { pretrainDefaults } from './pretrain';

export const ALIGN_DATA = 'align-data';

/** The alignment config: image-only prompts, LM frozen, adapter at LLaVA's stage-1 LR (1e-3), no validation split. */
export function alignDefaults(base: string): TrainConfig {
  const d = pretrainDefaults();
  return {
    ...d,
    preset: 'align',
    description: 'stage 2 of the paper setting: adapter alone on train images → their titles/descriptions, LM frozen',
    paper: 'LLaVA-1.5 stage 1 (feature alignment)',
    mode: 'image',
    epochs: 3,
    lr: 1e-3,
    adapterLr: 1e-3,
    maxValid: 0,
    initFrom: base,
    model: { ...d.model, lora: null, freezeLm: true },
  };
}

/** Train items → image/text pairs: items with both an image and a non-empty text; the "keyphrase" is the text. */
export function alignItems(items: readonly ManifestItem[]): ManifestItem[] {
  const bad = items.find((i) => i.split !== 'train');
  if (bad)
    throw new CoreError(
      'BAD_INPUT',
      `align: item ${bad.id} is in the ${bad.split} split; only train items may be used`,
    );
  return items
    .filter((i) => i.image !== null && i.text.trim() !== '')
    .map((i) => ({ id: i.id, split: 'train', text: '', image: i.image, keyphrases: [i.text.trim()] }));
}

/** Writes RUN/align-data (manifest of the pairs, `images` linked to the source data set's folder). */
export async function writeAlignData(dataDir: string, runDir: string): Promise<{ dir: string; items: number }> {
  const data = await loadDataset(dataDir, { splits: ['train'], checkImages: false });
  const pairs = alignItems(data.items.filter((i) => i.split === 'train'));
  if (pairs.length === 0) throw new CoreError('BAD_INPUT', `${dataDir}: no train item has both an image and a text`);
  const dir = join(runDir, ALIGN_DATA);
  await mkdir(dir, { recursive: true });
  // The image folder(s) and the feature cache are links: features computed once serve alignment and fine-tuning.
  await mkdir(join(dataDir, '.cache'), { recursive: true });
  const imagesDirs = new Set([...pairs.map((p) => p.image!.split('/')[0]), '.cache']);
  for (const top of imagesDirs) {
    const link = join(dir, top);
    if (!existsSync(link)) symlinkSync(resolve(dataDir, top), link, 'dir');
  }
  await writeFileAtomic(join(dir, 'manifest.jsonl'), pairs.map((p) => JSON.stringify(p)).join('\n') + '\n', {
    fsync: true,
  });
  return { dir, items: pairs.length };
}

/** train()'s options (dataDir: the fine-tuning data set the pairs come from) plus the pretrained base. */
export interface AlignOptions extends Pick<
  TrainOptions,
  | 'runDir'
  | 'dataDir'
  | 'config'
  | 'resume'
  | 'backend'
  | 'cacheDir'
  | 'onEvent'
  | 'log'
  | 'maxSteps'
  | 'signal'
  | 'workers'
> {
  /** Pretrained base run (`aimkp pretrain`); required for a new run. */
  base?: string;
}

export async function align(options: AlignOptions): Promise<TrainResult> {
  // What train() takes as given: backend, feature cache, listeners, stops.
  const { base, dataDir: sourceDir, config: given, resume, ...passed } = options;
  const runDir = resolve(options.runDir);
  if (resume === true && existsSync(join(runDir, RUN_FILES.config))) return train({ ...passed, runDir, resume: true });
  if (!base) throw new CoreError('BAD_INPUT', 'align: --base RUN (a pretrained run) is required');
  if (!sourceDir) throw new CoreError('BAD_INPUT', 'align: --data is required');
  if (existsSync(join(runDir, RUN_FILES.config)))
    throw new CoreError('ALREADY_EXISTS', `${runDir}: a run already exists there; pass --resume to continue it`);
  const { dir, items } = await writeAlignData(resolve(sourceDir), runDir);
  options.log?.(`align: ${items} train image → text pairs in ${dir}`);
  const config = { ...(given ?? alignDefaults(resolve(base))), initFrom: resolve(base) };
  return train({ ...passed, runDir, config, dataDir: dir });
}
