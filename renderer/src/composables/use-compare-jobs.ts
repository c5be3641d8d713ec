// The jobs Compare starts on both runs: the evaluation a comparison needs (split, mode and decoding of the query)
// and the robustness suite; their progress lines, and what the view does when they end.
import { ref, type ComputedRef, type Ref } from 'vue';
import { errorText } from '../api/api';
import { useCompareStore } from '../stores/compare';
import { useRunsStore } from '../stores/runs';
import { useJobFollower, type FollowedJob } from './use-job-follower';

export interface CompareJobs {
  jobs: ComputedRef<readonly FollowedJob[]>;
  /** A job that could not start. */
  error: Ref<string | null>;
  /** Evaluates both runs; `onDone` runs when every job followed here has finished. */
  evaluateBoth(onDone: () => void): Promise<void>;
  /** Runs the robustness suite on both runs; `onDone` runs as each one ends. */
  robustnessBoth(onDone: () => void): Promise<void>;
}

export function useCompareJobs(): CompareJobs {
  const store = useCompareStore();
  const runs = useRunsStore();
  const follower = useJobFollower();
  const error = ref<string | null>(null);
  const bothRuns = () => [store.query.baseline, store.query.other];

  async function evaluateBoth(onDone: () => void): Promise<void> {
    error.value = null;
    try {
      for (const id of bothRuns()) {
        const q = store.query;
        const r = await runs.evaluate({ id, modes: [q.mode], decode: { strategy: q.decode }, split: q.split });
        follower.follow(r.jobId, r.stream, `evaluate ${id}`, () => {
          if (follower.allFinished.value) onDone();
        });
      }
    } catch (e) {
      error.value = errorText(e);
    }
  }

  async function robustnessBoth(onDone: () => void): Promise<void> {
    error.value = null;
    try {
      for (const id of bothRuns()) {
        const r = await runs.robustness({ id, split: store.query.split });
        follower.follow(r.jobId, r.stream, `robustness ${id}`, onDone);
      }
    } catch (e) {
      error.value = errorText(e);
    }
  }

  return { jobs: follower.jobs, error, evaluateBoth, robustnessBoth };
}
