import type { CompareCase } from '@shared/contract/service';
import { mount } from '@vue/test-utils';
import { createPinia } from 'pinia';
import { describe, expect, it } from 'vitest';
import CaseRobustness from '../src/components/compare/CaseRobustness.vue';
import CaseSide from '../src/components/compare/CaseSide.vue';
import { newFollowedJob, type FollowedJob } from '../src/composables/use-job-follower';
import MaskPreview from '../src/components/MaskPreview.vue';
import ProgressBar from '../src/components/ProgressBar.vue';

const PIXEL =
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe('MaskPreview', () => {
  it('keeps text tokens s-1, 2s-1, … and image cells on rows/cols s-1, 2s-1, … of the 7×7 grid', async () => {
    const w = mount(MaskPreview, { props: { text: 'Red circle on the beach', image: PIXEL } });
    const kept = () => w.findAll('[data-testid="mask-text"] span.kept').map((s) => s.text());
    const cells = () => w.findAll('[data-testid="mask-grid"] span').map((s) => s.classes().includes('kept'));
    // stride 2 of 5 tokens: positions 1, 3
    expect(kept()).toEqual(['circle', 'the']);
    // image stride 2 of G = 7: rows/cols 1, 3, 5 → 9 cells
    expect(cells().filter(Boolean)).toHaveLength(9);
    expect(cells()[1 * 7 + 1]).toBe(true);
    expect(cells()[0]).toBe(false);

    await w.find('[data-testid="mask-text-stride"]').setValue('3');
    expect(kept()).toEqual(['on']);
    await w.find('[data-testid="mask-text-stride"]').setValue('9');
    expect(kept()).toEqual(['beach']); // s > length: the last token only

    await w.find('[data-testid="mask-image-stride"]').setValue('3');
    const k3 = cells();
    expect(k3.filter(Boolean)).toHaveLength(4); // rows/cols 2, 5
    expect([2 * 7 + 2, 2 * 7 + 5, 5 * 7 + 2, 5 * 7 + 5].every((i) => k3[i])).toBe(true);
    await w.find('[data-testid="mask-image-stride"]').setValue('8');
    const k8 = cells();
    expect(k8.filter(Boolean)).toHaveLength(1); // s > G: the last cell only
    expect(k8[48]).toBe(true);
  });

  it('follows a 16×16 grid: strides 2 / 4 / 8 keep 64 / 16 / 4 cells (25 / 6.25 / 1.56 %), and shows the note', async () => {
    const w = mount(MaskPreview, {
      props: { text: 'a b', image: PIXEL, grid: 16, note: "the other run's 16×16 grid; the baseline run uses 7×7" },
    });
    const kept = () => w.findAll('[data-testid="mask-grid"] span.kept').length;
    expect(w.findAll('[data-testid="mask-grid"] span')).toHaveLength(256);
    expect(w.find('[data-testid="mask-grid"]').attributes('data-grid')).toBe('16');
    expect(kept()).toBe(64);
    await w.find('[data-testid="mask-image-stride"]').setValue('4');
    expect(kept()).toBe(16);
    await w.find('[data-testid="mask-image-stride"]').setValue('8');
    expect(kept()).toBe(4);
    expect(w.find('[data-testid="mask-note"]').text()).toContain('baseline run uses 7×7');
  });

  it('uses the trainer tokenizer (hashtags lose #, punctuation is a token)', () => {
    const w = mount(MaskPreview, { props: { text: 'Go #NBA!', image: null } });
    expect(w.findAll('[data-testid="mask-text"] span').map((s) => s.text())).toEqual(['go', 'nba', '!']);
    expect(w.find('[data-testid="mask-grid"]').exists()).toBe(false);
  });
});

describe('CaseSide', () => {
  it('lists predictions in order, marks hits for people and screen readers, shows the per-case scores', () => {
    const w = mount(CaseSide, {
      props: {
        title: 'AimKP',
        testid: 's',
        side: {
          predictions: [
            { phrase: 'frog', hit: true },
            { phrase: 'pond', hit: false },
          ],
          'f1@1': 1,
          'f1@3': 0.5,
          ap: 0.75,
        },
      },
    });
    const items = w.findAll('li');
    expect(items.map((li) => li.find('.kp').text())).toEqual(['frog', 'pond']);
    expect(items[0].classes()).toContain('hit');
    expect(items[0].text()).toContain('(hit)');
    expect(items[1].classes()).not.toContain('hit');
    expect(w.text()).toContain('F1@1 100.0 · F1@3 50.0 · AP 75.0');
  });
});

describe('ProgressBar', () => {
  it('exposes the value to assistive technology, clamped to 0–100', () => {
    const w = mount(ProgressBar, { props: { label: 'Run', value: 0.426, detail: 'ETA 3 s' } });
    const bar = w.find('[role="progressbar"]');
    expect(bar.attributes('aria-valuenow')).toBe('43');
    expect(bar.attributes('aria-label')).toBe('Run');
    expect(w.text()).toContain('43% · ETA 3 s');
    const over = mount(ProgressBar, { props: { label: 'x', value: 1.7 } });
    expect(over.text()).toContain('100%');
  });
});

describe('CaseRobustness', () => {
  const job = (over: Partial<FollowedJob>): FollowedJob => ({ ...newFollowedJob('abcdef1234', 'first'), ...over });
  const mountWith = (suiteJobs: FollowedJob[], rows: { name: string; a: number | null; b: number | null }[] = []) =>
    mount(CaseRobustness, {
      props: {
        current: { id: 'case-1' } as CompareCase,
        rows,
        baselineName: 'first',
        otherName: 'second',
        suiteJobs,
        suiteError: null,
      },
      global: { plugins: [createPinia()] },
    });

  it('shows the suite asked for here: its progress while it runs, in place of the "no report" line', () => {
    const w = mountWith([job({ state: 'running', message: 'condition 3/20', done: 3, total: 20 })]);
    expect(w.find('[data-testid="cmp-robustness-none"]').exists()).toBe(false);
    expect(w.find('[data-testid="cmp-suite-job"]').attributes('data-state')).toBe('running');
    expect(w.find('[data-testid="cmp-suite-progress"]').attributes('aria-valuenow')).toBe('15');
  });

  it('a suite that failed says why, there, in words; the button is back', () => {
    const w = mountWith([
      job({ state: 'failed', error: 'An internal error stopped the job (details in the log, job abcdef12).' }),
    ]);
    expect(w.find('[data-testid="cmp-suite-error"]').text()).toBe(
      'The suite on first failed. An internal error stopped the job (details in the log, job abcdef12).',
    );
    expect(w.find('[data-testid="cmp-robustness-run"]').exists()).toBe(true);
  });

  it('once both completed, the report alone', () => {
    const w = mountWith(
      [job({ state: 'completed' }), job({ jobId: 'b', label: 'second', state: 'completed' })],
      [{ name: 'clean', a: 0.25, b: 0.5 }],
    );
    expect(w.findAll('[data-testid="cmp-suite-job"]')).toHaveLength(0);
    expect(w.find('[data-testid="cmp-robustness"] tbody tr').text()).toBe('clean25.050.0');
  });
});
