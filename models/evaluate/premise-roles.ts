// Per-role recall on the premise benchmark (issue 19). F1@1 says little there: each item has 3 gold keyphrases in
// a fixed order [topic, shape, "<colour> <place>"], so F1@1 ≤ 50 and the first answer is the text-only topic. What
// the study needs is whether each role is recovered, split by whether the text leaks the image keyphrases, and —
// when text and image disagree (swaps) — which of the two the predicted shape follows.
import type { ManifestItem } from '../data/manifest-types';
import { itemLeaks } from '../data/premise-benchmark';
import { SYNTH_SHAPES } from '../data/synth-draw';
import type { PredictionRecord } from './prediction-file';
import { CoreError } from '../core-error';

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
