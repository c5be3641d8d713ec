// The training presets as the workbench lists them: what each one is, where the paper reports it, and its
// full configuration (a deep copy; a caller may edit it and pass it to train()).
import { getPreset, NEEDS_BASE, PRESET_NAMES } from '../train/presets';
import type { TrainConfig } from '../run/train-config';

export interface PresetInfo {
  name: string;
  description: string;
  /** Where the AimKP paper reports this setting (table / figure). */
  paper: string;
  method: TrainConfig['method'];
  mode: TrainConfig['mode'];
  epochs: number;
  /** A new run must start from a base run (initFrom): the paper setting's presets. */
  needsBase: boolean;
  config: TrainConfig;
}

export function listPresets(): PresetInfo[] {
  return PRESET_NAMES.map((name) => {
    const config = getPreset(name)!;
    return {
      name,
      description: config.description,
      paper: config.paper,
      method: config.method,
      mode: config.mode,
      epochs: config.epochs,
      needsBase: NEEDS_BASE.has(name),
      config,
    };
  });
}
