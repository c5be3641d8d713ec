// Compare's URL: it carries the query (the two runs, mode, decoding, filter, sort) and the selected case, so a link
// reopens that case. Read once when the view opens; written after each change, debounced.
import { DECODE_STRATEGIES, EVAL_MODES } from '@shared/vocabulary';
import { onBeforeUnmount } from 'vue';
import { useRoute, useRouter, type LocationQuery } from 'vue-router';
import { COMPARE_FILTER_LABELS, COMPARE_SORT_LABELS, isLabelled } from '../lib/labels';
import { useCompareStore, type CompareQuery } from '../stores/compare';

/** How long the URL waits for the selection to settle: history.replaceState costs ~5 ms a call in Chromium. */
export const ROUTE_WRITE_DELAY_MS = 150;

function one(route: LocationQuery, key: string): string | undefined {
  const v = route[key];
  return typeof v === 'string' ? v : undefined;
}

function oneOf<T extends string>(values: readonly T[], v: string | undefined): T | undefined {
  return values.find((x) => x === v);
}

/** The query with what the URL names; a value the URL lacks, or one that is not a known value, stays as it was. */
export function queryFromRoute(route: LocationQuery, query: CompareQuery): CompareQuery {
  const filter = one(route, 'filter');
  const sort = one(route, 'sort');
  return {
    ...query,
    baseline: one(route, 'baseline') ?? query.baseline,
    other: one(route, 'other') ?? query.other,
    mode: oneOf(EVAL_MODES, one(route, 'mode')) ?? query.mode,
    decode: oneOf(DECODE_STRATEGIES, one(route, 'decode')) ?? query.decode,
    filter: isLabelled(COMPARE_FILTER_LABELS, filter) ? filter : query.filter,
    sort: isLabelled(COMPARE_SORT_LABELS, sort) ? sort : query.sort,
  };
}

/** The URL query for a comparison and its selected case (the search text stays out of the URL). */
export function routeFromQuery(query: CompareQuery, caseId: string | null): Record<string, string> {
  const out: Record<string, string> = {
    baseline: query.baseline,
    other: query.other,
    mode: query.mode,
    filter: query.filter,
    sort: query.sort,
    decode: query.decode,
  };
  if (caseId) out.case = caseId;
  return out;
}

export interface CompareRoute {
  /** Takes the query from the URL into the compare store. */
  read(): void;
  /** The case the URL names, if any. */
  caseId(): string | null;
  /** Writes the store's query and selected case to the URL once changes pause. */
  write(): void;
}

export function useCompareRoute(): CompareRoute {
  const store = useCompareStore();
  const route = useRoute();
  const router = useRouter();
  let timer: ReturnType<typeof setTimeout> | null = null;

  function writeNow(): void {
    timer = null;
    void router.replace({ path: '/compare', query: routeFromQuery(store.query, store.current?.id ?? null) });
  }

  // A write still waiting when the view closes would bring the router back to Compare: drop it.
  onBeforeUnmount(() => {
    if (timer) clearTimeout(timer);
    timer = null;
  });

  return {
    read: () => {
      store.query = queryFromRoute(route.query, store.query);
    },
    caseId: () => one(route.query, 'case') ?? null,
    write: () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(writeNow, ROUTE_WRITE_DELAY_MS);
    },
  };
}
