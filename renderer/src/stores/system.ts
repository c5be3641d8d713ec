// System facts (backend, accelerator, versions), the training presets and the settings.
import type { PresetInfo, Settings, SystemInfo } from '@shared/contract/service';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { api, errorText } from '../api/api';

export const useSystemStore = defineStore('system', () => {
  const info = shallowRef<SystemInfo | null>(null);
  const presets = shallowRef<PresetInfo[]>([]);
  const settings = shallowRef<Settings | null>(null);
  const error = ref<string | null>(null);
  const loaded = ref(false);

  const presetByName = computed(() => new Map(presets.value.map((p) => [p.name, p])));

  async function load(): Promise<void> {
    try {
      const [i, p, s] = await Promise.all([
        api().call('system.info', {}),
        api().call('presets.list', {}),
        api().call('settings.get', {}),
      ]);
      info.value = i;
      presets.value = p.presets;
      settings.value = s;
      error.value = null;
      loaded.value = true;
    } catch (e) {
      error.value = errorText(e);
    }
  }

  async function saveSettings(patch: Partial<Settings>): Promise<Settings> {
    const s = await api().call('settings.set', patch);
    settings.value = s;
    // The backend or workspace may have changed what system.info reports.
    info.value = await api().call('system.info', {});
    return s;
  }

  return { info, presets, settings, error, loaded, presetByName, load, saveSettings };
});
