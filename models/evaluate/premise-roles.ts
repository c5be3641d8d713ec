// Per-role recall on the premise benchmark (issue 19). F1@1 says little there: each item has 3 gold keyphrases in
// a fixed order [topic, shape, "<colour> <place>"], so F1@1 ≤ 50 and the first answer is the text-only topic. What
// the study needs is whether each role is recovered, split by whether the text leaks the image keyphrases, and —
// when text and image disagree (swaps) — which of the two the predicted shape follows.
import type { ManifestItem } from '../data/manifest-types';
import { itemLeaks } from '../data/premise-benchmark';
import { SYNTH_SHAPES } from '../data/synth-draw';
import type { PredictionRecord } from './prediction-file';
import { CoreError } from '../core-error';
import { welch } from '../metrics/welch';

export interface RoleRecall {
  /** Test items scored. */
  n: number;
  nLeak: number;
  nNoLeak: number;
  /** Percent of items whose first repeat's predictions contain the role's gold keyphrase. */
  topic: number;
  shape: number;
  colourPlace: number;
  /** Shape recall on the items whose (original) text names the shape, and on the rest. null without such items. */
  shapeLeak: number | null;
  shapeNoLeak: number | null;
  /** Percent of items whose shown text names a shape (after a text swap: another item's shape, or none). */
  textNamesShape: number;
  /** Percent of items whose predictions contain the shape the shown text names. */
  shapeFollowsText: number;
  /** Percent of items whose predictions contain the shape the shown image has (attributes "<colour> <shape>"). */
  shapeFollowsImage: number;
}

const SHAPES: ReadonlySet<string> = new Set(SYNTH_SHAPES);
const pct = (k: number, n: number) => (n === 0 ? 0 : (100 * k) / n);
const norm = (s: string) => s.trim().toLowerCase();

/**
 * Scores one condition. `original` are the clean set's items (gold roles and the leak flag), `shown` the items the
 * model was given (the condition's manifest: a swapped text or image), `predictions` the condition's predictions.
 * Every prediction must name a test item of both manifests.
 */
export function premiseRoleRecall(
  original: readonly ManifestItem[],
  shown: readonly ManifestItem[],
  predictions: readonly PredictionRecord[],
  opts: { textShown?: boolean; imageShown?: boolean } = {},
): RoleRecall {
  const byId = (items: readonly ManifestItem[]) => new Map(items.map((it) => [it.id, it]));
  const orig = byId(original);
  const seen = byId(shown);
  let topic = 0,
    shape = 0,
    colourPlace = 0,
    nLeak = 0,
    shapeLeak = 0,
    shapeNoLeak = 0,
    textNames = 0,
    followsText = 0,
    followsImage = 0;
  for (const p of predictions) {
    const o = orig.get(p.id);
    const s = seen.get(p.id);
    if (o === undefined || s === undefined)
      throw new CoreError('BAD_INPUT', `premise roles: prediction id "${p.id}" is not an item of the benchmark`);
    if (o.keyphrases.length !== 3)
      throw new CoreError(
        'BAD_INPUT',
        `premise roles: item ${o.id}: expected 3 keyphrases [topic, shape, colour place]`,
      );
    const pred = new Set((p.predictions[0] ?? []).map(norm));
    const [goldTopic, goldShape, goldCp] = o.keyphrases.map(norm);
    const leak = itemLeaks(o);
    topic += +pred.has(goldTopic);
    const hitShape = pred.has(goldShape);
    shape += +hitShape;
    colourPlace += +pred.has(goldCp);
    if (leak) {
      nLeak++;
      shapeLeak += +hitShape;
    } else shapeNoLeak += +hitShape;
    // A removed modality names nothing: text-only mode has no image to follow, image-only no text.
    const textShape = opts.textShown === false ? undefined : s.text.split(' ').find((w) => SHAPES.has(norm(w)));
    if (textShape !== undefined) {
      textNames++;
      followsText += +pred.has(norm(textShape));
    }
    const imageShape = opts.imageShown === false ? undefined : s.attributes?.split(' ')[1];
    if (imageShape !== undefined) followsImage += +pred.has(norm(imageShape));
  }
  const n = predictions.length;
  const nNoLeak = n - nLeak;
  return {
    n,
    nLeak,
    nNoLeak,
    topic: pct(topic, n),
    shape: pct(shape, n),
    colourPlace: pct(colourPlace, n),
    shapeLeak: nLeak === 0 ? null : pct(shapeLeak, nLeak),
    shapeNoLeak: nNoLeak === 0 ? null : pct(shapeNoLeak, nNoLeak),
    textNamesShape: pct(textNames, n),
    shapeFollowsText: pct(followsText, n),
    shapeFollowsImage: pct(followsImage, n),
  };
}

/** The role metrics a study table reports (percent). */
export const PREMISE_TABLE_METRICS = [
  'topic',
  'shape',
  'shapeNoLeak',
  'colourPlace',
  'shapeFollowsText',
  'shapeFollowsImage',
] as const satisfies readonly (keyof RoleRecall)[];

export interface PremiseRunRoles {
  /** Run folder name; its group is the name without "-s<seed>". */
  name: string;
  seed: number | null;
  /** condition → recall (RUN/premise/roles.json). */
  roles: Record<string, RoleRecall>;
}

/** Per-seed CSV of the role metrics: one row per run × condition × metric. */
export function premiseSeedsCsv(runs: readonly PremiseRunRoles[]): string {
  const lines = ['group,run,seed,condition,metric,value_pct,n'];
  for (const r of runs)
    for (const [cond, rec] of Object.entries(r.roles))
      for (const m of PREMISE_TABLE_METRICS) {
        const v = rec[m];
        if (v === null) continue;
        lines.push([r.name.replace(/-s\d+$/, ''), r.name, r.seed ?? '', cond, m, v.toFixed(4), rec.n].join(','));
      }
  return lines.join('\n') + '\n';
}

/** Δ = group − baseline per condition and role metric, Welch's t and 95 % CI (≥ 2 seeds per side, else "—"). */
export function premiseDeltaMarkdown(runs: readonly PremiseRunRoles[], baseline: string): string {
  const groups = new Map<string, PremiseRunRoles[]>();
  for (const r of runs) {
    const g = r.name.replace(/-s\d+$/, '');
    groups.set(g, [...(groups.get(g) ?? []), r]);
  }
  const base = groups.get(baseline);
  if (!base)
    throw new CoreError(
      'BAD_INPUT',
      `premise table: baseline "${baseline}" is not a group (${[...groups.keys()].join(', ')})`,
    );
  const values = (rs: readonly PremiseRunRoles[], cond: string, m: (typeof PREMISE_TABLE_METRICS)[number]) =>
    rs.map((r) => r.roles[cond]?.[m]).filter((v): v is number => typeof v === 'number');
  const conds = [...new Set(runs.flatMap((r) => Object.keys(r.roles)))];
  const out = [
    `Premise benchmark: per-role recall (%), mean over seeds, Δ against "${baseline}" with Welch's t and the 95 % CI`,
    '',
    '| group | condition | metric | n | baseline | group | Δ | 95 % CI | Welch t |',
    '|---|---|---|---:|---:|---:|---:|---|---:|',
  ];
  const f = (x: number) => x.toFixed(1);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (const [g, rs] of groups) {
    if (g === baseline) continue;
    for (const cond of conds)
      for (const m of PREMISE_TABLE_METRICS) {
        const a = values(base, cond, m);
        const b = values(rs, cond, m);
        if (a.length === 0 || b.length === 0) continue;
        const head = `| ${g} | ${cond} | ${m} | ${b.length} vs ${a.length} | ${f(mean(a))} | ${f(mean(b))} |`;
        if (a.length < 2 || b.length < 2) {
          out.push(`${head} ${f(mean(b) - mean(a))} | needs ≥ 2 seeds per side | |`);
          continue;
        }
        const w = welch(a, b);
        out.push(
          `${head} ${w.delta >= 0 ? '+' : ''}${f(w.delta)} | [${f(w.ci95[0])}, ${f(w.ci95[1])}] | ${w.t === null ? '—' : w.t.toFixed(2)} |`,
        );
      }
  }
  return out.join('\n') + '\n';
}
