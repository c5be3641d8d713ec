// Every robustness condition applied to one Compare case alone: both runs predict it under each condition (greedy;
// the swaps borrow the next test item with an image). Shown only while that case is the selected one.
import type { CommandResponse, CompareCase } from '@shared/contract/service';
import { computed, ref, shallowRef, type ComputedRef, type Ref } from 'vue';
import { errorText } from '../api/api';
import { useCompareStore } from '../stores/compare';
import { useRunsStore } from '../stores/runs';

type PredictAnswer = CommandResponse<'predict.case'>;
export type CaseCondition = NonNullable<PredictAnswer['results'][number]['conditions']>[number];

export interface CaseConditionRow {
  name: string;
  baseline: CaseCondition | null;
  other: CaseCondition | null;
}

export interface CaseConditions {
  caseId: string;
  /** The item the swaps took their image or text from. */
  donor: string | null;
  rows: CaseConditionRow[];
  /** A run that could not predict: "run: message". */
  error: string | null;
}

/**
 * The answer of predict.case (baseline first, other second) as one row per condition, in the order the first run
 * that answered lists them.
 */
export function caseConditionsOf(caseId: string, answer: PredictAnswer): CaseConditions {
  const [a, b] = answer.results;
  const failed = answer.results.find((x) => x.error);
  const names = (a?.conditions ?? b?.conditions ?? []).map((x) => x.name);
  return {
    caseId,
    donor: answer.donor?.itemId ?? null,
    rows: names.map((name) => ({
      name,
      baseline: a?.conditions?.find((x) => x.name === name) ?? null,
      other: b?.conditions?.find((x) => x.name === name) ?? null,
    })),
    error: failed?.error ? `${failed.runId}: ${failed.error.message}` : null,
  };
}

export interface CaseConditionsState {
  /** The conditions of the selected case, when they were predicted for it. */
  shown: ComputedRef<CaseConditions | null>;
  busy: Ref<boolean>;
  error: Ref<string | null>;
  run(): Promise<void>;
}

export function useCaseConditions(current: () => CompareCase | null): CaseConditionsState {
  const store = useCompareStore();
  const runs = useRunsStore();
  const latest = shallowRef<CaseConditions | null>(null);
  const busy = ref(false);
  const error = ref<string | null>(null);

  async function run(): Promise<void> {
    const cs = current();
    const { baseline, other } = store.query;
    const dataset = runs.byId.get(other)?.dataset ?? runs.byId.get(baseline)?.dataset;
    if (!cs || !dataset) return;
    busy.value = true;
    error.value = null;
    try {
      const answer = await runs.predictCase({
        runIds: [baseline, other],
        input: { kind: 'item', dataset, itemId: cs.id },
        conditions: true,
      });
      latest.value = caseConditionsOf(cs.id, answer);
      error.value = latest.value.error;
    } catch (e) {
      error.value = errorText(e);
    } finally {
      busy.value = false;
    }
  }

  return {
    shown: computed(() => (latest.value && latest.value.caseId === current()?.id ? latest.value : null)),
    busy,
    error,
    run,
  };
}
