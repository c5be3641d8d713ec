// Renderings of the scores: a flat JSON object, a human table that names the convention on every row,
// and (CMKP) the authors' script's own result.txt / result.csv layout, for a line-by-line diff.
import type { AimkpScores } from './aimkp-metrics';
import type { CmkpScores, CmkpTag, CmkpTagScores } from './cmkp-metrics';

export type Scores = AimkpScores | CmkpScores;
type JsonValue = number | string | null | { [key: string]: JsonValue };

function cmkpTagJson(t: CmkpTagScores, ks: readonly number[]): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {
    samples: t.samples,
    predictions: t.filteredPredictions,
    targets: t.uniqueTargets,
  };
  for (const k of ks) out[`f1@${k}`] = t.at[k].f1;
  for (const k of ks) out[`p@${k}`] = t.at[k].precision;
  for (const k of ks) out[`r@${k}`] = t.at[k].recall;
  for (const k of ks) out[`map@${k}`] = t.at[k].map;
  for (const k of ks) out[`ndcg@${k}`] = t.at[k].ndcg;
  for (const k of ks) out[`alpha_ndcg@${k}`] = t.at[k].alphaNdcg;
  const micro: { [key: string]: JsonValue } = {};
  for (const k of ks)
    Object.assign(micro, {
      [`p@${k}`]: t.at[k].microPrecision,
      [`r@${k}`]: t.at[k].microRecall,
      [`f1@${k}`]: t.at[k].microF1,
    });
  out.micro = micro;
  return out;
}

/** One flat JSON object: `convention`, `n`, `f1@k`, `map@k`, `p@k`, `r@k` (+ CMKP: ndcg, present, absent). */
export function scoresToJson(s: Scores): { [key: string]: JsonValue } {
  if (s.convention === 'aimkp') {
    const out: { [key: string]: JsonValue } = { convention: 'aimkp', n: s.n };
    for (const k of s.ks) out[`f1@${k}`] = s.f1[k];
    for (const k of s.ks) out[`map@${k}`] = s.map[k];
    for (const k of s.ks) out[`p@${k}`] = s.precision[k];
    for (const k of s.ks) out[`r@${k}`] = s.recall[k];
    return out;
  }
  const { samples: _samples, ...all } = cmkpTagJson(s.all, s.ks);
  return {
    convention: 'cmkp',
    n: s.n,
    ...all,
    present: s.present ? cmkpTagJson(s.present, s.ks) : null,
    absent: s.absent ? cmkpTagJson(s.absent, s.ks) : null,
  };
}

const f5 = (x: number) => x.toFixed(5);

/** A table whose every row names the convention the score follows. */
export function formatScoresTable(s: Scores): string {
  const conv = `(${s.convention})`;
  const rows: string[][] = [];
  if (s.convention === 'aimkp') {
    rows.push(['Metric', 'score']);
    for (const k of s.ks) rows.push([`F1@${k} ${conv}`, f5(s.f1[k])]);
    for (const k of s.ks) rows.push([`MAP@${k} ${conv}`, f5(s.map[k])]);
    for (const k of s.ks) rows.push([`P@${k} ${conv}`, f5(s.precision[k])]);
    for (const k of s.ks) rows.push([`R@${k} ${conv}`, f5(s.recall[k])]);
  } else {
    const tags = (['all', 'present', 'absent'] as const).filter((t) => s[t] !== null);
    const cell = (tag: CmkpTag, pick: (t: CmkpTagScores) => number) => f5(pick(s[tag] as CmkpTagScores));
    rows.push(['Metric', ...tags]);
    const metric = (name: string, pick: (t: CmkpTagScores, k: number) => number) => {
      for (const k of s.ks) rows.push([`${name}@${k} ${conv}`, ...tags.map((tag) => cell(tag, (t) => pick(t, k)))]);
    };
    metric('F1', (t, k) => t.at[k].f1);
    metric('P', (t, k) => t.at[k].precision);
    metric('R', (t, k) => t.at[k].recall);
    metric('MAP', (t, k) => t.at[k].map);
    metric('NDCG', (t, k) => t.at[k].ndcg);
    metric('AlphaNDCG', (t, k) => t.at[k].alphaNdcg);
    rows.push(['samples scored', ...tags.map((tag) => String((s[tag] as CmkpTagScores).samples))]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r) => r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  '))
    .join('\n');
}

/** Python's `'{:.5}'.format(x)` for a float: 5 significant digits, trailing zeros dropped. */
export function pyFormat5(x: number): string {
  if (x === 0) return '0.0';
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  const [mant, expStr] = x.toExponential(4).split('e');
  const exp = Number(expStr);
  // Python keeps fixed notation for -4 <= exp < precision - 1 when it must append ".0".
  if (exp >= -4 && exp < 4) {
    let fixed = x.toFixed(4 - exp);
    if (fixed.includes('.')) fixed = fixed.replace(/0+$/, '');
    return fixed.endsWith('.') ? `${fixed}0` : fixed.includes('.') ? fixed : `${fixed}.0`;
  }
  const m = mant.includes('.') ? mant.replace(/0+$/, '').replace(/\.$/, '') : mant;
  return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** The CMKP script's result.txt, line for line. */
export function formatCmkpResultText(s: CmkpScores): string {
  let out = `Total #samples: ${s.n}\nMax. unique targets per src: ${s.scriptMaxUniqueTargets}\nTotal #unique predictions: ${s.uniquePredictions}\n`;
  for (const tag of ['all', 'present', 'absent'] as const) {
    const t = s[tag];
    if (!t) continue;
    out += `===================================${tag}====================================\n`;
    out += `#predictions after filtering: ${t.filteredPredictions}\t #predictions after filtering per src:${(t.filteredPredictions / s.n).toFixed(3)}\n`;
    out += `#unique targets: ${t.uniqueTargets}\t #unique targets per src:${(t.uniqueTargets / s.n).toFixed(3)}\n`;
    for (const k of s.ks) {
      const a = t.at[k];
      out += `Begin===============classification metrics ${tag}@${k}===============Begin\n`;
      out += `#target: ${a.targets}, #predictions: ${a.predictions}, #corrects: ${a.matches}\n`;
      out += `Micro:\tP@${k}=${pyFormat5(a.microPrecision)}\tR@${k}=${pyFormat5(a.microRecall)}\tF1@${k}=${pyFormat5(a.microF1)}\n`;
      out += `Macro:\tP@${k}=${pyFormat5(a.precision)}\tR@${k}=${pyFormat5(a.recall)}\tF1@${k}=${pyFormat5(a.f1)}\n`;
    }
    for (const k of s.ks) {
      const a = t.at[k];
      out += `Begin==================Ranking metrics ${tag}@${k}==================Begin\n`;
      out += `\tMAP@${k}=${pyFormat5(a.map)}\tNDCG@${k}=${pyFormat5(a.ndcg)}\tAlphaNDCG@${k}=${pyFormat5(a.alphaNdcg)}\n`;
    }
  }
  return out;
}

/** The CMKP script's result.csv: a header of field names and one row of values with 5 decimals. */
export function formatCmkpResultCsv(s: CmkpScores): string {
  const fields: string[] = [];
  const values: number[] = [];
  for (const tag of ['all', 'present', 'absent'] as const) {
    const t = s[tag];
    if (!t) continue;
    for (const k of s.ks) {
      fields.push(`macro_avg_p@${k}_${tag}`, `macro_avg_r@${k}_${tag}`, `macro_avg_f1@${k}_${tag}`);
      values.push(t.at[k].precision, t.at[k].recall, t.at[k].f1);
    }
    for (const k of s.ks) {
      fields.push(`MAP@${k}_${tag}`, `avg_NDCG@${k}_${tag}`, `AlphaNDCG@${k}_${tag}`);
      values.push(t.at[k].map, t.at[k].ndcg, t.at[k].alphaNdcg);
    }
  }
  return `${fields.join(',')}\n${values.map((v) => v.toFixed(5)).join(',')}\n`;
}
