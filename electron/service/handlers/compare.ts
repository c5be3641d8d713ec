// compare.cases (two runs case by case) and report.table (mean ± std over seeds by preset).
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { compareRuns, isPresent, matchWords, reportRuns, RUN_FILES } from '../../../models/index';
import type { CommandArgs, CommandResponse } from '../../../shared/contract/service';
import type { COMPARE_COMMANDS } from '../../../shared/contract/services/compare';
import { imageDataUrl, type DatasetRegistry } from '../datasets';
import type { HandlersOf, ServiceContext } from './context';
import type { RunViews } from './run-views';

export function compareHandlers(c: ServiceContext, views: RunViews): HandlersOf<typeof COMPARE_COMMANDS> {
  const { runDirChecked } = views;
  return {
    'compare.cases': async (req) => compareCases(req, runDirChecked, c.datasets),

    'report.table': async (req) => {
      const s = c.supervisor();
      const ids = req.runs ?? s.listRuns().map((r) => r.id);
      // A run that never got a folder (failed while preparing, still queued) has no scores: skipped, said why.
      const skipped: { run: string; reason: string }[] = [];
      const dirs: string[] = [];
      for (const id of ids) {
        if (s.registry.exists(id)) {
          dirs.push(s.registry.dirOf(id));
          continue;
        }
        const job = s.activeJobOf(id) ?? s.lastJobOf(id);
        // An id nobody knows: NOT_FOUND when it is the only one asked for; among others (a list the Runs view holds
        // while a folder was deleted elsewhere) it is skipped, said why, and the rest still make the table.
        if (!job) {
          if (ids.length === 1) runDirChecked(id);
          skipped.push({ run: id, reason: 'no such run in this workspace (deleted?)' });
        } else
          skipped.push({
            run: id,
            reason:
              job.state === 'failed'
                ? `failed before training${job.error ? `: ${job.error.message}` : ''}`
                : `${job.state}, not trained yet`,
          });
      }
      const r =
        dirs.length === 0
          ? null
          : reportRuns({
              runDirs: dirs,
              split: req.split,
              decode: req.decode,
              modes: req.modes,
              convention: req.convention,
              skipUnreadable: true,
            });
      for (const k of r?.skipped ?? []) {
        const id = basename(k.dir);
        let status: string | null = null;
        try {
          status = s.registry.exists(id) ? s.getRun(id).status : null;
        } catch {
          /* unreadable: the core's reason says so */
        }
        skipped.push({ run: id, reason: status === 'failed' ? `failed; ${k.reason}` : k.reason });
      }
      const text = !r ? '' : req.format === 'csv' ? r.csv : req.format === 'latex' ? r.latex : r.markdown;
      return {
        format: req.format,
        text,
        skipped,
        groups: (r?.report.groups ?? []).map((g) => ({
          preset: g.preset,
          runs: g.runs,
          seeds: g.seeds,
          cells: Object.fromEntries(req.modes.map((m) => [m, g.cells[m] ?? {}])),
        })),
      };
    },
  };
}

async function compareCases(
  req: CommandArgs<'compare.cases'>,
  runDir: (id: string) => string,
  datasets: DatasetRegistry,
): Promise<CommandResponse<'compare.cases'>> {
  const a = runDir(req.baseline);
  const b = runDir(req.other);
  const cfg = JSON.parse(readFileSync(join(a, RUN_FILES.config), 'utf8')) as { dataDir?: string };
  const dataDir = cfg.dataDir && existsSync(cfg.dataDir) ? cfg.dataDir : undefined;
  // Texts and images come from the data-set registry's cached items (loaded off the main thread), not from
  // compareRuns re-reading the manifest here.
  const items = new Map<string, { image: string | null; text: string }>();
  const datasetId = dataDir ? datasets.idOfDir(dataDir) : null;
  if (datasetId) {
    const { loaded } = await datasets.load(datasetId);
    for (const it of loaded.items)
      if (it.split === req.split)
        items.set(it.id, { image: it.image === null ? null : join(loaded.dir, it.image), text: it.text });
  }
  const all = await compareRuns({
    a,
    b,
    split: req.split,
    mode: req.mode,
    decode: req.decode,
    filter: 'all',
    sort: 'data',
  });
  const s = all.summary;
  const indexed = all.cases.map((cs, index) => ({ cs, index }));
  const outcomeOf = (o: 'A' | 'B' | 'tie') => (o === 'B' ? 'win' : o === 'A' ? 'loss' : 'tie');
  const wanted =
    req.filter === 'wins' ? 'win' : req.filter === 'losses' ? 'loss' : req.filter === 'ties' ? 'tie' : null;
  const q = req.search?.trim().toLowerCase();
  const textOf = (cs: (typeof all.cases)[number]) => cs.text ?? items.get(cs.id)?.text ?? '';
  let rows = indexed.filter(
    ({ cs }) =>
      (wanted === null || outcomeOf(cs.outcome) === wanted) &&
      (!q || [cs.id, textOf(cs), ...cs.gold, ...cs.predA, ...cs.predB].some((t) => t.toLowerCase().includes(q))),
  );
  const key: Record<typeof req.sort, ((r: (typeof rows)[number]) => number) | null> = {
    index: null,
    'diff-desc': (r) => -(r.cs.f1at3B - r.cs.f1at3A),
    'diff-asc': (r) => r.cs.f1at3B - r.cs.f1at3A,
    'baseline-desc': (r) => -r.cs.f1at3A,
    'other-desc': (r) => -r.cs.f1at3B,
  };
  const k = key[req.sort];
  if (k) rows = [...rows].sort((x, y) => k(x) - k(y) || x.index - y.index);
  const page = rows.slice(req.offset, req.offset + req.limit);
  const cases = await Promise.all(
    page.map(async ({ cs, index }) => {
      const item = items.get(cs.id);
      const text = textOf(cs) === '' ? null : textOf(cs);
      const words = matchWords(text ?? '');
      const side = (pred: string[], hits: boolean[], sc: { 'f1@1': number; 'f1@3': number; 'ap@5': number }) => ({
        predictions: pred.map((phrase, i) => ({ phrase, hit: hits[i] ?? false })),
        'f1@1': sc['f1@1'],
        'f1@3': sc['f1@3'],
        ap: sc['ap@5'],
      });
      return {
        id: cs.id,
        index,
        text,
        image: item?.image ? await imageDataUrl(item.image) : null,
        gold: cs.gold.map((phrase) => ({ phrase, present: isPresent(matchWords(phrase), words) })),
        baseline: side(cs.predA, cs.hitsA, cs.scoresA),
        other: side(cs.predB, cs.hitsB, cs.scoresB),
        diff: cs.f1at3B - cs.f1at3A,
        outcome: outcomeOf(cs.outcome),
      } as const;
    }),
  );
  return {
    summary: {
      common: s.common,
      wins: s.bBetter,
      losses: s.aBetter,
      ties: s.ties,
      meanF1at3Baseline: s.meanF1at3A,
      meanF1at3Other: s.meanF1at3B,
      onlyInBaseline: s.onlyInA.length,
      onlyInOther: s.onlyInB.length,
      goldMismatch: s.goldMismatch.length,
    },
    total: rows.length,
    offset: req.offset,
    cases: cases.map((x) => ({
      ...x,
      gold: [...x.gold],
      baseline: { ...x.baseline, predictions: [...x.baseline.predictions] },
      other: { ...x.other, predictions: [...x.other.predictions] },
    })),
  };
}
