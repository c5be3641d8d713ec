// The parts of the Compare view that hold logic of their own: the URL (read, debounced write, nothing written after
// the view closes), the keys, the query form's menus, and the case list. The whole view runs in the Chromium end-to-end suite.
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { defineComponent, h } from 'vue';
import { createMemoryHistory, createRouter, RouterView } from 'vue-router';
import type { CompareCase, RunSummary } from '@shared/contract/service';
import CaseList from '../src/components/compare/CaseList.vue';
import CompareQueryForm from '../src/components/compare/CompareQueryForm.vue';
import { useCaseKeys } from '../src/composables/use-case-keys';
import { DEFAULT_MASK_VIEW, maskViewOf } from '../src/composables/use-compare-mask-view';
import {
  queryFromRoute,
  ROUTE_WRITE_DELAY_MS,
  routeFromQuery,
  useCompareRoute,
  type CompareRoute,
} from '../src/composables/use-compare-route';
import { useCompareStore, type CompareQuery } from '../src/stores/compare';

const QUERY: CompareQuery = {
  baseline: 'a',
  other: 'b',
  mode: 'multimodal',
  split: 'test',
  decode: 'greedy',
  filter: 'all',
  sort: 'index',
  search: 'cat',
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Compare URL', () => {
  it('reads the runs, mode, decoding, filter and sort; keeps the rest; ignores values it does not know', () => {
    const q = queryFromRoute(
      { baseline: 'x', mode: 'text', decode: 'beam-sample', filter: 'wins', sort: 'diff-desc', case: 'c1' },
      QUERY,
    );
    expect(q).toEqual({
      ...QUERY,
      baseline: 'x',
      mode: 'text',
      decode: 'beam-sample',
      filter: 'wins',
      sort: 'diff-desc',
    });
    expect(queryFromRoute({ mode: 'audio', filter: 'diff', sort: ['index'], other: null }, QUERY)).toEqual(QUERY);
  });

  it('writes the query without the search, and the case when one is selected', () => {
    expect(routeFromQuery(QUERY, null)).toEqual({
      baseline: 'a',
      other: 'b',
      mode: 'multimodal',
      filter: 'all',
      sort: 'index',
      decode: 'greedy',
    });
    expect(routeFromQuery(QUERY, 'c7').case).toBe('c7');
    expect(queryFromRoute(routeFromQuery({ ...QUERY, mode: 'image', sort: 'other-desc' }, 'c7'), QUERY)).toEqual({
      ...QUERY,
      mode: 'image',
      sort: 'other-desc',
    });
  });

  describe('in a router', () => {
    let url: CompareRoute;
    const Compare = defineComponent({
      setup() {
        url = useCompareRoute();
        return () => h('p', 'compare');
      },
    });
    const router = createRouter({
      history: createMemoryHistory(),
      routes: [
        { path: '/compare', component: Compare },
        { path: '/runs', component: { render: () => h('p', 'runs') } },
      ],
    });
    beforeEach(() => setActivePinia(createPinia()));

    it('reads the URL into the store, and writes the store back once changes pause', async () => {
      await router.push('/compare?baseline=r1&other=r2&mode=image&case=c3');
      const app = mount(defineComponent({ render: () => h(RouterView) }), { global: { plugins: [router] } });
      const store = useCompareStore();
      url.read();
      expect([store.query.baseline, store.query.other, store.query.mode]).toEqual(['r1', 'r2', 'image']);
      expect(url.caseId()).toBe('c3');
      store.query.filter = 'losses';
      url.write();
      store.query.sort = 'diff-asc';
      url.write();
      await sleep(ROUTE_WRITE_DELAY_MS / 3);
      expect(router.currentRoute.value.query.filter).toBeUndefined(); // not yet: the presses have not paused
      await sleep(ROUTE_WRITE_DELAY_MS * 2);
      expect(router.currentRoute.value.query).toMatchObject({ filter: 'losses', sort: 'diff-asc', mode: 'image' });
      expect(router.currentRoute.value.query.case).toBeUndefined(); // no case loaded: none written
      app.unmount();
    });

    it('drops a write still waiting when the view closes (the router stays where it went)', async () => {
      await router.push('/compare?baseline=r1&other=r2');
      const app = mount(defineComponent({ render: () => h(RouterView) }), { global: { plugins: [router] } });
      url.write();
      await router.push('/runs');
      await sleep(ROUTE_WRITE_DELAY_MS * 2);
      expect(router.currentRoute.value.path).toBe('/runs');
      app.unmount();
    });
  });
});

describe('Compare keys', () => {
  function mountKeys() {
    const calls: string[] = [];
    const w = mount(
      defineComponent({
        setup() {
          useCaseKeys({ step: (d) => calls.push(`step ${d}`), focusSearch: () => calls.push('search') });
          return () => h('div', [h('input', { id: 'field' }), h('button', { id: 'btn' })]);
        },
      }),
      { attachTo: document.body },
    );
    return { calls, w };
  }
  const press = (target: EventTarget, key: string, init: KeyboardEventInit = {}) => {
    const e = new KeyboardEvent('keydown', { key, bubbles: true, cancelable: true, ...init });
    target.dispatchEvent(e);
    return e;
  };

  it('j / ↓ next, k / ↑ previous, / the search; not while typing in a field, not with a modifier', () => {
    const { calls, w } = mountKeys();
    const field = document.getElementById('field')!;
    const btn = document.getElementById('btn')!;
    expect(press(window, 'j').defaultPrevented).toBe(true);
    press(btn, 'ArrowDown');
    press(window, 'k');
    press(window, 'ArrowUp');
    press(window, '/');
    press(field, 'j');
    press(field, '/');
    press(window, 'j', { ctrlKey: true });
    press(window, 'k', { altKey: true });
    expect(press(window, 'x').defaultPrevented).toBe(false);
    expect(calls).toEqual(['step 1', 'step 1', 'step -1', 'step -1', 'search']);
    w.unmount();
    press(window, 'j');
    expect(calls).toHaveLength(5); // no listener left behind
  });
});

describe('CaseList', () => {
  const kase = (i: number, diff: number): CompareCase =>
    ({
      id: `c${i}`,
      index: i,
      text: i === 2 ? '' : `case ${i}`,
      diff,
      outcome: diff > 0 ? 'win' : diff < 0 ? 'loss' : 'tie',
    }) as CompareCase;

  it('marks the selected case, numbers the cases from the page offset, signs the difference, and emits a click', async () => {
    const w = mount(CaseList, {
      props: { cases: [kase(50, 0.25), kase(51, -0.1), kase(2, 0)], selected: 1, offset: 50 },
    });
    const rows = w.findAll('[role="option"]');
    expect(rows.map((r) => r.attributes('aria-selected'))).toEqual(['false', 'true', 'false']);
    expect(w.find('ol').attributes('start')).toBe('51');
    expect(w.find('ol').attributes('aria-activedescendant')).toBe('case-opt-1');
    expect(rows.map((r) => r.find('.num').text())).toEqual(['+25', '-10', '0']);
    expect(rows[2].find('.case-text').text()).toBe('(no text)');
    await rows[2].trigger('click');
    expect(w.emitted('select')).toEqual([[2]]);
  });
});

describe('Compare masking preview grid', () => {
  it("draws the other run's grid and text cut, names a different baseline grid, defaults to 7×7 / 48", () => {
    expect(maskViewOf({ imageGrid: 7, maxTextTokens: 48 }, { imageGrid: 16, maxTextTokens: 64 })).toEqual({
      grid: 16,
      maxTextTokens: 64,
      note: "the other run's 16×16 grid; the baseline run uses 7×7",
    });
    expect(maskViewOf({ imageGrid: 16, maxTextTokens: 48 }, { imageGrid: 16, maxTextTokens: 48 }).note).toBeNull();
    // A server older than the fields, or an unreadable run: the old 7×7 / 48.
    expect(maskViewOf({}, {})).toEqual(DEFAULT_MASK_VIEW);
    expect(maskViewOf({ imageGrid: 16, maxTextTokens: 32 }, null)).toEqual({ grid: 16, maxTextTokens: 32, note: null });
  });
});

describe('Compare query form', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('one menu per query field, the runs after a disabled "choose a run"; a choice sets the query and reloads', async () => {
    const runs = [
      { id: 'r1', name: 'first', preset: 'baseline' },
      { id: 'r2', name: 'second', preset: 'aimkp' },
    ] as unknown as RunSummary[];
    const w = mount(CompareQueryForm, { props: { runs } });
    const labels = w.findAll('label').map((l) => l.element.firstChild?.textContent?.trim());
    expect(labels).toEqual(['Baseline', 'Other', 'Mode', 'Decoding', 'Show', 'Sort', 'Search']);
    const selects = w.findAll('select');
    expect(selects.map((s) => s.attributes('data-testid'))).toEqual([
      'cmp-baseline',
      'cmp-other',
      'cmp-mode',
      undefined,
      'cmp-filter',
      'cmp-sort',
    ]);
    expect(
      w
        .get('[data-testid="cmp-other"]')
        .findAll('option')
        .map((o) => [o.text(), o.attributes('value'), o.attributes('disabled') !== undefined]),
    ).toEqual([
      ['choose a run', '', true],
      ['first (baseline)', 'r1', false],
      ['second (aimkp)', 'r2', false],
    ]);
    expect(w.get('[data-testid="cmp-mode"]').findAll('option')[0].attributes('disabled')).toBeUndefined();

    const store = useCompareStore();
    await w.get('[data-testid="cmp-other"]').setValue('r2');
    await selects[3].setValue('beam-sample');
    await w.get('[data-testid="cmp-sort"]').setValue('diff-desc');
    expect([store.query.other, store.query.decode, store.query.sort]).toEqual(['r2', 'beam-sample', 'diff-desc']);
    expect(w.emitted('reload')).toHaveLength(3);
    // The search only filters what is loaded: typing reloads nothing.
    await w.get('[data-testid="cmp-search"]').setValue('cat');
    expect(store.query.search).toBe('cat');
    expect(w.emitted('reload')).toHaveLength(3);
  });
});
