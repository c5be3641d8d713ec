import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import CaseSide from '../src/components/compare/CaseSide.vue';
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
