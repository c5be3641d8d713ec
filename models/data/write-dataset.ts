// Writes a data set folder (manifest.jsonl + dataset.json) so that a crash never leaves half a manifest.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatasetInfo, ManifestItem } from './manifest-types';
import { writeFileAtomic } from '../fs/atomic-write';

/** DatasetInfo plus any builder-specific description (e.g. the synth knobs). */
export type DatasetInfoFile = DatasetInfo & Record<string, unknown>;


/** Serialises one item with a fixed key order so manifests diff cleanly and are byte-stable. */
export function manifestLine(item: ManifestItem): string {
  const out: Record<string, unknown> = {
    id: item.id,
    split: item.split,
    text: item.text,
    image: item.image,
    keyphrases: item.keyphrases,
  };
  if (item.attributes !== undefined) out.attributes = item.attributes;
  if (item.ocr !== undefined) out.ocr = item.ocr;
  if (item.source !== undefined) out.source = item.source;
  return JSON.stringify(out);
}

/** Creates `dir` if needed and writes manifest.jsonl (and dataset.json when `info` is given), each atomically. */
export async function writeDataset(dir: string, items: readonly ManifestItem[], info?: DatasetInfoFile): Promise<void> {
  await mkdir(dir, { recursive: true });
  const body = items.map((it) => manifestLine(it) + '\n').join('');
  await writeFileAtomic(join(dir, 'manifest.jsonl'), body);
  if (info) await writeFileAtomic(join(dir, 'dataset.json'), JSON.stringify(info, null, 2) + '\n');
}
