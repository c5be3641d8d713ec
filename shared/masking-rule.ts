// AimKP's structured masking rule (SPEC §1, "as released"), shared by the trainer and the UI's masking preview:
// which positions of the text span and which cells of the G×G image grid survive a stride. Sorted 0-based indices.

/** Structured text masking: keep s-1, 2s-1, … of a span of `len` tokens; s > len keeps only the last token. */
export function keptTextIndices(len: number, stride: number): number[] {
  checkStride(stride);
  if (len <= 0) return [];
  if (stride <= 1) return range(len);
  if (stride > len) return [len - 1];
  const kept: number[] = [];
  for (let i = stride - 1; i < len; i += stride) kept.push(i);
  return kept;
}

/** Structured image masking: rows s-1, 2s-1, … × cols s-1, 2s-1, … of the G×G grid; s > G keeps only the last token. */
export function keptImageIndices(grid: number, stride: number): number[] {
  checkStride(stride);
  if (grid <= 0) return [];
  if (stride <= 1) return range(grid * grid);
  if (stride > grid) return [grid * grid - 1];
  const lines = keptTextIndices(grid, stride);
  const kept: number[] = [];
  for (const r of lines) for (const c of lines) kept.push(r * grid + c);
  return kept;
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

export function checkStride(stride: number): void {
  if (!Number.isInteger(stride) || stride < 1)
    throw new RangeError(`mask stride must be an integer >= 1, got ${stride}`);
}
