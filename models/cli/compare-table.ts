// The Markdown table `aimkp compare` prints (the workbench shows the same rows in its Compare view).
import type { Comparison } from '../evaluate/compare';

function truncate(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, max - 1)}…`;
}

const md = (s: string) => s.replace(/\|/g, '\\|');
const pct = (x: number) => (100 * x).toFixed(1);

export function comparisonMarkdown(c: Comparison, textWidth = 60): string {
  const s = c.summary;
  const lines = [
    `A = ${md(c.labelA)}`,
    `B = ${md(c.labelB)}`,
    '',
    `Per-case F1@3 (AimKP convention, averaged over each run's decoding repeats; predictions shown: first repeat).`,
    '',
    `| id | text | gold | predictions A | predictions B | F1@3 A | F1@3 B |`,
    `|---|---|---|---|---|---:|---:|`,
  ];
  for (const k of c.cases) {
    lines.push(
      `| ${md(k.id)} | ${md(truncate(k.text ?? '', textWidth))} | ${md(k.gold.join('; '))} | ${md(k.predA.join('; '))} | ${md(k.predB.join('; '))} | ${pct(k.f1at3A)} | ${pct(k.f1at3B)} |`,
    );
  }
  lines.push('');
  lines.push(
    `Summary over ${s.common} common cases: A better ${s.aBetter}, B better ${s.bBetter}, tie ${s.ties}; mean F1@3 A ${pct(s.meanF1at3A)}, B ${pct(s.meanF1at3B)} (AimKP, %).`,
  );
  if (s.onlyInA.length > 0)
    lines.push(`Only in A (not compared): ${s.onlyInA.length} case(s), e.g. ${s.onlyInA.slice(0, 5).join(', ')}`);
  if (s.onlyInB.length > 0)
    lines.push(`Only in B (not compared): ${s.onlyInB.length} case(s), e.g. ${s.onlyInB.slice(0, 5).join(', ')}`);
  if (s.goldMismatch.length > 0)
    lines.push(
      `Warning: gold differs between A and B for ${s.goldMismatch.length} case(s) (scored against A's gold), e.g. ${s.goldMismatch.slice(0, 5).join(', ')}`,
    );
  return lines.join('\n') + '\n';
}
