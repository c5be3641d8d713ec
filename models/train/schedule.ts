// Learning-rate schedule: linear warm-up then cosine decay to 0, the same formula as Hugging Face's
// get_cosine_schedule_with_warmup (the released AimKP code trains with the HF Trainer).

export interface ScheduleOptions {
  totalSteps: number;
  /** Fraction of totalSteps spent warming up (paper: 0.03); warm-up steps = ceil(ratio · total). */
  warmupRatio: number;
}

export function warmupSteps(options: ScheduleOptions): number {
  return Math.ceil(options.warmupRatio * options.totalSteps);
}

/** Multiplier of the base learning rate at 0-based optimizer step `step`. */
export function lrFactor(step: number, options: ScheduleOptions): number {
  const warm = warmupSteps(options);
  if (step < warm) return step / Math.max(1, warm);
  const progress = (step - warm) / Math.max(1, options.totalSteps - warm);
  return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * Math.min(1, progress))));
}
