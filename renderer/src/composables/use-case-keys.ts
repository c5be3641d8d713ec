// Compare's keys: j / ↓ the next case, k / ↑ the previous one, / the search box. Keys typed into a field, and keys
// held with Alt, Ctrl or Meta, are left alone.
import { onBeforeUnmount, onMounted } from 'vue';

export type CaseKeyAction = 'next' | 'previous' | 'search';

const TYPING_TAGS = new Set(['INPUT', 'TEXTAREA', 'SELECT']);

/** What a key press asks of the case list, or null when it is not for it. */
export function caseKeyAction(e: KeyboardEvent): CaseKeyAction | null {
  const tag = e.target instanceof Element ? e.target.tagName : '';
  const typing = TYPING_TAGS.has(tag);
  if (e.key === '/' && !typing) return 'search';
  if (typing || e.altKey || e.ctrlKey || e.metaKey) return null;
  if (e.key === 'j' || e.key === 'ArrowDown') return 'next';
  if (e.key === 'k' || e.key === 'ArrowUp') return 'previous';
  return null;
}

/** Listens to the window's keys while the component is mounted. */
export function useCaseKeys(on: { step(delta: number): void; focusSearch(): void }): void {
  function onKey(e: KeyboardEvent): void {
    const action = caseKeyAction(e);
    if (!action) return;
    e.preventDefault();
    if (action === 'search') on.focusSearch();
    else on.step(action === 'next' ? 1 : -1);
  }
  onMounted(() => window.addEventListener('keydown', onKey));
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey));
}
