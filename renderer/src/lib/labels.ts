// How the UI names the values of the vocabulary (shared/vocabulary.ts) and of the contract's enums in its menus.
// Each table is a Record over the type, so a value added to the vocabulary or the contract fails the typecheck here
// until it has a label; the menus list the values in the order written.
import type { CommandRequest, CompareCase } from '@shared/contract/service';
import type { BackendRequest, EvalMode } from '@shared/vocabulary';

export type ReportFormat = NonNullable<CommandRequest<'report.table'>['format']>;
export type CompareFilter = NonNullable<CommandRequest<'compare.cases'>['filter']>;
export type CompareSort = NonNullable<CommandRequest<'compare.cases'>['sort']>;

export const EVAL_MODE_LABELS: Readonly<Record<EvalMode, string>> = {
  multimodal: 'multimodal',
  text: 'text only',
  image: 'image only',
};

export const BACKEND_LABELS: Readonly<Record<BackendRequest, string>> = {
  auto: 'auto (best available)',
  'tfjs-node-gpu': 'tfjs-node-gpu (CUDA)',
  webgpu: 'webgpu (GPU through Vulkan / Metal / D3D12)',
  'tfjs-node': 'tfjs-node (native CPU)',
  wasm: 'wasm',
  cpu: 'cpu (pure JS)',
};

export const REPORT_FORMAT_LABELS: Readonly<Record<ReportFormat, string>> = {
  csv: 'CSV',
  md: 'Markdown',
  latex: 'LaTeX',
};

export const COMPARE_FILTER_LABELS: Readonly<Record<CompareFilter, string>> = {
  all: 'all',
  wins: 'AimKP wins',
  losses: 'AimKP losses',
  ties: 'ties',
};

export const COMPARE_SORT_LABELS: Readonly<Record<CompareSort, string>> = {
  index: 'test order',
  'diff-desc': 'difference ↓',
  'diff-asc': 'difference ↑',
  'baseline-desc': 'baseline F1@3 ↓',
  'other-desc': 'other F1@3 ↓',
};

export const OUTCOME_LABELS: Readonly<Record<CompareCase['outcome'], string>> = {
  win: 'AimKP better',
  loss: 'baseline better',
  tie: 'tie',
};

/** A label table as the options of a menu, in its order. */
export function menuOptions<K extends string>(labels: Readonly<Record<K, string>>): { value: K; label: string }[] {
  return (Object.keys(labels) as K[]).map((value) => ({ value, label: labels[value] }));
}

/** Whether `value` is one of the table's values (for values read from outside, e.g. the URL). */
export function isLabelled<K extends string>(labels: Readonly<Record<K, string>>, value: unknown): value is K {
  return typeof value === 'string' && Object.hasOwn(labels, value);
}

/**
 * The status bar's short backend label: the core's description up to its notes, without the "backend: " prefix,
 * so the native matmul kernels on wasm ("wasm + native matmul (AVX2) (SIMD on, 1 thread)") or the WebGPU adapter
 * show, not just the package name. The full description (with why other backends were skipped) goes in the tooltip.
 */
export function backendLabel(name: string, description: string): string {
  const head = description
    .split(' — ')[0]!
    .replace(/^backend: /, '')
    .trim();
  return head.length > 0 ? head : name;
}
