// The Study view's state: the workspace's studies (study:<name> tags), the selection shown (a study, ticked runs or a
// glob on run ids), the pinned baseline arm and the decoding, and the service's answer (study.get). Every number
// is the service's (the core's statistics); this store only asks and keeps the latest answer.
import type { CommandResponse, StudySelection } from '@shared/contract/service';
import { STUDY_TAG_PREFIX } from '@shared/contract/service';
import type { DecodeStrategy } from '@shared/vocabulary';
import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import { api, errorText } from '../api/api';

export type StudyResult = CommandResponse<'study.get'>;
export type StudyList = CommandResponse<'study.list'>['studies'];

export const useStudyStore = defineStore('study', () => {
  const studies = shallowRef<StudyList>([]);
  const selection = shallowRef<StudySelection | null>(null);
  /** undefined: the service's default (the first arm named "baseline"); null: no Δ. */
  const baseline = ref<string | null | undefined>(undefined);
  const decode = ref<DecodeStrategy>('greedy');
  const result = shallowRef<StudyResult | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);
  // Answers can arrive out of order (a baseline picked twice quickly): only the latest request's answer is kept.
  let asked = 0;

  async function loadStudies(): Promise<void> {
    try {
      studies.value = (await api().call('study.list', {})).studies;
    } catch (e) {
      error.value = errorText(e);
    }
  }

  async function load(): Promise<void> {
    const sel = selection.value;
    if (!sel) {
      result.value = null;
      return;
    }
    const mine = ++asked;
    loading.value = true;
    try {
      const r = await api().call('study.get', {
        select: sel,
        decode: decode.value,
        ...(baseline.value === undefined ? {} : { baseline: baseline.value }),
      });
      if (mine !== asked) return;
      result.value = r;
      error.value = null;
    } catch (e) {
      if (mine !== asked) return;
      result.value = null;
      error.value = errorText(e);
    } finally {
      if (mine === asked) loading.value = false;
    }
  }

  /** Shows a selection; a new selection starts from the service's default baseline unless one is given. */
  async function show(sel: StudySelection | null, opts: { baseline?: string | null; decode?: DecodeStrategy } = {}) {
    selection.value = sel;
    baseline.value = opts.baseline;
    if (opts.decode) decode.value = opts.decode;
    await load();
  }

  async function pinBaseline(arm: string | null): Promise<void> {
    baseline.value = arm;
    await load();
  }

  async function setDecode(d: DecodeStrategy): Promise<void> {
    decode.value = d;
    await load();
  }

  /**
   * Makes the shown runs a study: tags each `study:<name>` (runs.tag), then shows the study by its name. Stops at
   * the first run the service refuses, saying which.
   */
  async function saveAs(name: string, runIds: readonly string[]): Promise<void> {
    const tag = STUDY_TAG_PREFIX + name;
    for (const id of runIds) {
      try {
        await api().call('runs.tag', { id, add: [tag] });
      } catch (e) {
        throw new Error(`tagging ${id} as ${tag}: ${errorText(e)}`, { cause: e });
      }
    }
    await loadStudies();
    await show({ kind: 'study', name }, { baseline: baseline.value });
  }

  return {
    studies,
    selection,
    baseline,
    decode,
    result,
    loading,
    error,
    loadStudies,
    load,
    show,
    pinBaseline,
    setDecode,
    saveAs,
  };
});
