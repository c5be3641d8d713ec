// The jobs Compare starts on both runs: the evaluation a comparison needs (split, mode and decoding of the query)
// and the robustness suite; their progress, and what the view does when they end. The two kinds are followed
// apart, so each is shown where it was asked for (the evaluations above the cases, the suite in the robustness
// section), and a failure says why there.
import { ref, type ComputedRef, type Ref } from 'vue';
import { errorText } from '../api/api';
import { useCompareStore } from '../stores/compare';
import { useRunsStore } from '../stores/runs';
import { useJobFollower, type FollowedJob } from './use-job-follower';

export interface CompareJobs {
  /** The evaluations started here. */
  jobs: ComputedRef<readonly FollowedJob[]>;
  /** An evaluation that could not start. */
  error: Ref<string | null>;
  /** The robustness suites started here, one per run, newest last. */
  robustnessJobs: ComputedRef<readonly FollowedJob[]>;
  /** A suite that could not start. */
  robustnessError: Ref<string | null>;
  /** Evaluates both runs; `onDone` runs when every job followed here has finished. */
  evaluateBoth(onDone: () => void): Promise<void>;
  /** Runs the robustness suite on both runs; `onDone` runs as each one ends. */
  robustnessBoth(onDone: () => void): Promise<void>;
}

export function useCompareJobs(): CompareJobs {
  const store = useCompareStore();
  const runs = useRunsStore();
  const evaluations = useJobFollower();
  const suites = useJobFollower();
  const error = ref<string | null>(null);
  const robustnessError = ref<string | null>(null);
  const bothRuns = () => [store.query.baseline, store.query.other];

  async function evaluateBoth(onDone: () => void): Promise<void> {
    error.value = null;
    try {
      for (const id of bothRuns()) {
        const q = store.query;
        const r = await runs.evaluate({ id, modes: [q.mode], decode: { strategy: q.decode }, split: q.split });
        evaluations.follow(r.jobId, r.stream, `evaluate ${id}`, () => {
          if (evaluations.allFinished.value) onDone();
        });
      }
    } catch (e) {
      error.value = errorText(e);
    }
  }

  async function robustnessBoth(onDone: () => void): Promise<void> {
    robustnessError.value = null;
    try {
      for (const id of bothRuns()) {
        const r = await runs.robustness({ id, split: store.query.split });
        suites.follow(r.jobId, r.stream, runs.byId.get(id)?.name ?? id, onDone);
      }
    } catch (e) {
      robustnessError.value = errorText(e);
    }
  }

  return {
    jobs: evaluations.jobs,
    error,
    robustnessJobs: suites.jobs,
    robustnessError,
    evaluateBoth,
    robustnessBoth,
  };
}
