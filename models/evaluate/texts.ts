// Post texts by id from a data set (for showing cases), without decoding images.
import { loadDataset } from '../data/load-dataset';
import type { Split } from '../data/manifest-types';

export async function loadTexts(dataDir: string, split: Split): Promise<Map<string, string>> {
  const ds = await loadDataset(dataDir, { checkImages: false, splits: [split] });
  return new Map(ds.items.map((it) => [it.id, it.text]));
}
