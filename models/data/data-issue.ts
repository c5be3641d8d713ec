// A problem found in a data-set file: which file and line, what is wrong, and what was done about it.

/** Why a line or item was reported; summaries count skipped items by this. */
export type IssueReason =
  | 'invalid-json'
  | 'not-an-object'
  | 'missing-field'
  | 'wrong-type'
  | 'unknown-split'
  | 'empty-id'
  | 'duplicate-id'
  | 'empty-keyphrases'
  | 'image-path-escape'
  | 'image-missing'
  | 'image-corrupt'
  | 'unknown-field'
  | 'malformed-line'
  | 'empty-text-and-image'
  | 'invalid-utf8'
  | 'field-too-long';

export interface DataIssue {
  /** The file the problem is in (as given to the loader / importer). */
  file: string;
  /** 1-based line number. */
  line: number;
  /** The manifest field at fault, when one is. */
  field?: string;
  message: string;
  /** 'skipped': the item was left out; 'kept': the item was loaded anyway (a warning). */
  action: 'skipped' | 'kept';
  reason: IssueReason;
}

/** One line per issue, `file:line: field: message (skipped)`, capped at `max` lines plus a count of the rest. */
export function formatIssues(issues: readonly DataIssue[], max = 20): string {
  const shown = issues.slice(0, Math.max(0, max));
  const lines = shown.map((i) => `${i.file}:${i.line}: ${i.field ? `${i.field}: ` : ''}${i.message} (${i.action})`);
  if (issues.length > shown.length) lines.push(`… and ${issues.length - shown.length} more issue(s)`);
  return lines.join('\n');
}
