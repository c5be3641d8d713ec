// The import kind's work: a data set imported or built into datasets/<id> of the workspace (a CMKP release,
// ClipArt-KP from Openclipart SVGs, a manifest folder copied or registered in place, or the synthetic set).
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import {
  CoreError,
  importClipart,
  importCmkpFiles,
  importManifestFolder,
  importSynthetic,
  DATASET_INFO,
  loadDataset,
} from '../../../models/index';
import { ImportSource } from '../../../shared/contract/services/datasets';
import { ended, type TaskContext, type TaskEnd } from '../task-context';
import { toProgress } from './evaluate';
import { PathParam } from './params';

/** datasets/<id>/link.json: a registered folder that stays where it is (manifest import without copy). */
export const DATASET_LINK_FILE = 'link.json';

export const ImportJobParams = z.strictObject({
  /** The new data set's folder in the workspace (datasets/<id>). */
  out: PathParam,
  name: z.string(),
  source: ImportSource,
});
export type ImportJobParams = z.output<typeof ImportJobParams>;

export interface ImportJobResult {
  dir: string;
  items: number;
  skipped: number;
  issues: number;
}

export async function importTask(p: ImportJobParams, ctx: TaskContext): Promise<TaskEnd<ImportJobResult>> {
  const s = p.source;
  ctx.progress({ phase: 'preparing', done: null, total: null, unit: null, message: `importing ${p.name} (${s.kind})` });
  if (existsSync(p.out))
    throw new CoreError('ALREADY_EXISTS', `${p.out}: a data set with this id already exists; choose another name`, {
      path: p.out,
    });
  let dir = p.out;
  try {
    switch (s.kind) {
      case 'synthetic':
        await importSynthetic({
          n: s.items,
          seed: s.seed,
          out: p.out,
          noise: s.noise,
          misaligned: s.misaligned,
          missingImage: s.missingImage,
          missingText: s.missingText,
        });
        break;
      case 'manifest':
        if (s.copy)
          await importManifestFolder({ source: s.dir, out: p.out, signal: ctx.signal, onProgress: toProgress(ctx) });
        else {
          await importManifestFolder({ source: s.dir, out: null, signal: ctx.signal, onProgress: toProgress(ctx) });
          await mkdir(p.out, { recursive: true });
          const link = { dir: s.dir, name: p.name, createdAt: new Date().toISOString() };
          await writeFile(join(p.out, DATASET_LINK_FILE), JSON.stringify(link, null, 2) + '\n');
          dir = s.dir;
        }
        break;
      case 'cmkp':
        for (const f of s.files) {
          if (ctx.checkStop()) throw new CoreError('ABORTED', 'import: stopped by request');
          await importCmkpFiles({
            src: f.src,
            split: f.split,
            ocr: f.ocr,
            attributes: f.attributes,
            images: s.images,
            out: p.out,
          });
        }
        break;
      case 'clipart':
        await importClipart({ source: s.source, out: p.out, size: s.size, log: ctx.log });
        break;
    }
    if (dir === p.out) await recordNameAndTime(p.out, p.name);
    ctx.progress({ phase: 'preparing', done: null, total: null, unit: null, message: 'checking the data set' });
    // Images decoded, as `aimkp data stats` does: the counts the job reports are those the CLI prints.
    const loaded = await loadDataset(dir);
    return ended(ctx, {
      dir,
      items: loaded.items.length,
      skipped: loaded.summary.skipped,
      issues: loaded.issues.length,
    });
  } catch (err) {
    // Nothing half-built stays behind: the id can be used again.
    await rm(p.out, { recursive: true, force: true });
    throw err;
  }
}

/**
 * The name given on import is the name the set is listed under, and "Created" is the import's time unless the
 * builder recorded one: both go into the copy's dataset.json (kept otherwise; created when the source had none).
 */
async function recordNameAndTime(dir: string, name: string): Promise<void> {
  const file = join(dir, DATASET_INFO);
  let info: Record<string, unknown> = {};
  try {
    const v: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) info = v as Record<string, unknown>;
  } catch {
    /* none, or unreadable: written anew */
  }
  const description = typeof info.description === 'string' ? info.description : '';
  const createdAt = typeof info.createdAt === 'string' ? info.createdAt : new Date().toISOString();
  await writeFile(file, JSON.stringify({ ...info, name, description, createdAt }, null, 2) + '\n');
}
