// Case-by-case comparison of a baseline run and another run: query, the current page, the selected case.
import type { CommandRequest, CommandResponse, CompareCase } from '@shared/contract/service';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { api, errorText } from '../api/api';
import { measureSince } from '../lib/timing';

type Summary = CommandResponse<'compare.cases'>['summary'];
export type CompareQuery = Required<
  Pick<CommandRequest<'compare.cases'>, 'baseline' | 'other' | 'mode' | 'split' | 'decode' | 'filter' | 'sort'>
> & { search: string };

export const useCompareStore = defineStore('compare', () => {
  const query = ref<CompareQuery>({
    baseline: '',
    other: '',
    mode: 'multimodal',
    split: 'test',
    decode: 'greedy',
    filter: 'all',
    sort: 'index',
    search: '',
  });
  const pageSize = ref(50);
  const offset = ref(0);
  const total = ref(0);
  const cases = shallowRef<CompareCase[]>([]);
  const summary = shallowRef<Summary | null>(null);
  /** Index of the selected case within `cases`. */
  const selected = ref(0);
  const loading = ref(false);
  const error = ref<string | null>(null);
  const errorCode = ref<string | null>(null);

  const current = computed<CompareCase | null>(() => cases.value[selected.value] ?? null);
  const ready = computed(() => query.value.baseline !== '' && query.value.other !== '');

  async function load(newOffset = 0): Promise<void> {
    if (!ready.value) return;
    loading.value = true;
    const t0 = performance.now();
    try {
      const q = query.value;
      const r = await api().call('compare.cases', {
        ...q,
        search: q.search.trim() || undefined,
        offset: newOffset,
        limit: pageSize.value,
      });
      cases.value = r.cases;
      summary.value = r.summary;
      total.value = r.total;
      offset.value = r.offset;
      error.value = null;
      errorCode.value = null;
    } catch (e) {
      cases.value = [];
      summary.value = null;
      total.value = 0;
      error.value = errorText(e);
      errorCode.value = e && typeof e === 'object' && 'code' in e ? String(e.code) : null;
    } finally {
      loading.value = false;
      measureSince('aimkp:compare-page', t0);
    }
  }

  // Moves run one after another: a held-down j that crosses a page boundary must not start two page loads that
  // race each other (each move sees the page the previous one left).
  let moves: Promise<void> = Promise.resolve();

  /** Moves the selection by `delta`, paging when it leaves the page. */
  function move(delta: number): Promise<void> {
    moves = moves.then(() => moveNow(delta)).catch(() => undefined);
    return moves;
  }

  async function moveNow(delta: number): Promise<void> {
    const next = selected.value + delta;
    if (next >= 0 && next < cases.value.length) {
      selected.value = next;
      return;
    }
    const absolute = offset.value + next;
    if (absolute < 0 || absolute >= total.value) return;
    const pageStart = Math.floor(absolute / pageSize.value) * pageSize.value;
    await load(pageStart);
    selected.value = absolute - pageStart;
  }

  /** Selects the case with this id if it is on the loaded page, or searches the pages for it. */
  async function selectId(id: string): Promise<boolean> {
    const i = cases.value.findIndex((c) => c.id === id);
    if (i >= 0) {
      selected.value = i;
      return true;
    }
    for (let start = 0; start < total.value; start += pageSize.value) {
      if (start === offset.value) continue;
      await load(start);
      const j = cases.value.findIndex((c) => c.id === id);
      if (j >= 0) {
        selected.value = j;
        return true;
      }
    }
    return false;
  }

  return {
    query,
    pageSize,
    offset,
    total,
    cases,
    summary,
    selected,
    loading,
    error,
    errorCode,
    current,
    ready,
    load,
    move,
    selectId,
  };
});
