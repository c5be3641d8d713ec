// study.list and study.get: the runs of a study (tag `study:<name>`, ticked ids, or a glob on ids) through the
// core's studyReport (arms, mean / std / t-based CI, Δ with Welch's t, the filter's acceptance per epoch). Runs that
// are not trained yet, failed before training or cannot be read are left out here with why; the core leaves out
// the unevaluated ones. The filter's checks are read once per events.jsonl version (size + mtime), because the
// baseline picker asks again with the same runs.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import {
  CoreError,
  PAPER_FIG7_ACCEPTANCE,
  readFilterChecks,
  RUN_FILES,
  studyReport,
  type FilterChecks,
} from '../../../models/index';
import type { CommandArgs, CommandResponse } from '../../../shared/contract/service';
import { STUDY_TAG_PREFIX, type STUDY_COMMANDS } from '../../../shared/contract/services/study';
import { isJobOf, TRAIN_JOB } from '../../supervisor/job-kinds';
import { readMeta } from '../../supervisor/run-registry';
import type { HandlersOf, ServiceContext } from './context';

/** A run the selection may name: from its folder, or from its training job while it has no folder yet. */
interface Candidate {
  id: string;
  tags: string[];
  /** The folder to read, or null with why it cannot count. */
  dir: string | null;
  why: string | null;
}

/** `*` = any run of characters, `?` = one; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\-]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

const CACHE_MAX = 256;

export function studyHandlers(c: ServiceContext): HandlersOf<typeof STUDY_COMMANDS> {
  const sup = () => c.supervisor();
  const checksCache = new Map<string, { size: number; mtimeMs: number; checks: FilterChecks[] }>();

  const cachedChecks = (dir: string): FilterChecks[] => {
    const st = statSync(join(dir, RUN_FILES.events), { throwIfNoEntry: false });
    const hit = checksCache.get(dir);
    if (st && hit && hit.size === st.size && hit.mtimeMs === st.mtimeMs) return hit.checks;
    const checks = readFilterChecks(dir);
    if (st) {
      checksCache.delete(dir);
      checksCache.set(dir, { size: st.size, mtimeMs: st.mtimeMs, checks });
      if (checksCache.size > CACHE_MAX) checksCache.delete(checksCache.keys().next().value!);
    }
    return checks;
  };

  /** Every run of the workspace: trained or training (folders), broken folders, and queued / failed-to-start jobs. */
  const candidates = (): Candidate[] => {
    const s = sup();
    const out = new Map<string, Candidate>();
    for (const v of s.listRuns()) {
      const unfinished = v.status === 'queued' || v.status === 'running' || v.status === 'stopping';
      out.set(v.id, {
        id: v.id,
        tags: v.meta.tags ?? [],
        dir: unfinished ? null : v.dir,
        why: unfinished ? `${v.status}: not finished, not evaluated yet` : null,
      });
    }
    for (const b of s.registry.list().broken)
      if (!out.has(b.id)) out.set(b.id, { id: b.id, tags: [], dir: null, why: `unreadable run folder: ${b.message}` });
    for (const job of s.queue.list()) {
      if (!isJobOf(job.spec, TRAIN_JOB)) continue;
      const id = job.spec.params.runId;
      if (out.has(id)) continue;
      if (job.state !== 'queued' && job.state !== 'running' && job.state !== 'failed') continue;
      out.set(id, {
        id,
        tags: readMeta(s.registry.dirOf(id)).tags ?? [],
        dir: null,
        why:
          job.state === 'failed'
            ? `failed before training${job.error ? `: ${job.error.message}` : ''}`
            : `${job.state}: not trained yet`,
      });
    }
    return [...out.values()].sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
  };

  const select = (sel: CommandArgs<'study.get'>['select']): { chosen: Candidate[]; unknown: string[] } => {
    const all = candidates();
    if (sel.kind === 'study') {
      const tag = STUDY_TAG_PREFIX + sel.name;
      const chosen = all.filter((r) => r.tags.includes(tag));
      if (chosen.length === 0)
        throw new CoreError(
          'NOT_FOUND',
          `study "${sel.name}": no run is tagged ${tag} (study.list lists the studies)`,
          {
            field: 'select.name',
          },
        );
      return { chosen, unknown: [] };
    }
    if (sel.kind === 'pattern') {
      const re = globToRegExp(sel.glob);
      return { chosen: all.filter((r) => re.test(r.id)), unknown: [] };
    }
    const byId = new Map(all.map((r) => [r.id, r]));
    const ids = [...new Set(sel.ids)];
    return {
      chosen: ids.flatMap((id) => byId.get(id) ?? []),
      unknown: ids.filter((id) => !byId.has(id)),
    };
  };

  return {
    'study.list': async () => {
      const counts = new Map<string, number>();
      for (const r of candidates())
        for (const t of r.tags)
          if (t.startsWith(STUDY_TAG_PREFIX) && t.length > STUDY_TAG_PREFIX.length) {
            const name = t.slice(STUDY_TAG_PREFIX.length);
            counts.set(name, (counts.get(name) ?? 0) + 1);
          }
      return {
        studies: [...counts.entries()]
          .sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }))
          .map(([name, runs]) => ({ name, runs })),
      };
    },

    'study.get': async (req): Promise<CommandResponse<'study.get'>> => {
      const { chosen, unknown } = select(req.select);
      const ready = chosen.filter((r) => r.dir !== null);
      const r = studyReport({
        runDirs: ready.map((x) => x.dir!),
        split: req.split,
        decode: req.decode,
        convention: req.convention,
        baseline: req.baseline,
        readChecks: cachedChecks,
      });
      const leftOut = [
        ...unknown.map((run) => ({ run, reason: 'no such run in this workspace (deleted?)', modes: r.modes })),
        ...chosen.filter((x) => x.dir === null).map((x) => ({ run: x.id, reason: x.why ?? '', modes: r.modes })),
        ...r.leftOut,
      ];
      return {
        selected: chosen.map((x) => x.id),
        split: req.split,
        decode: req.decode,
        convention: req.convention,
        modes: r.modes,
        arms: r.arms.map((a) => ({
          arm: a.arm,
          runs: a.runs,
          cells: a.cells,
          acceptance: a.acceptance.map((s) => ({
            epoch: s.epoch,
            modality: s.modality,
            checks: s.checks,
            accepted: s.accepted,
            acceptedShare: s.acceptedShare,
            cosMedian: s.cosMedian,
          })),
          filterRuns: a.filterRuns,
        })),
        baseline: r.baseline,
        deltas: r.deltas,
        leftOut,
        paperAcceptance: {
          text: { ...PAPER_FIG7_ACCEPTANCE.text },
          image: { ...PAPER_FIG7_ACCEPTANCE.image },
        },
      };
    },
  };
}
