// Checkpoint (de)serialisation of the LM's variables in TF.js weight format (manifest specs + one binary buffer).
import * as tf from '@tensorflow/tfjs';
import type { KeyphraseLM } from './contract';

export interface ExportedWeights {
  specs: tf.io.WeightsManifestEntry[];
  data: ArrayBuffer;
}

/** Every variable (trainable or not) under its stable name (`namedVariables()`), float32. */
export async function exportWeights(model: KeyphraseLM): Promise<ExportedWeights> {
  const named: tf.NamedTensorMap = {};
  for (const [name, v] of model.namedVariables()) named[name] = v;
  const { specs, data } = await tf.io.encodeWeights(named);
  return { specs, data };
}

export interface ImportReport {
  /** Names assigned from the file. */
  assigned: string[];
  /** Model variables the file does not have (e.g. LoRA A/B when loading a base checkpoint): left as initialised. */
  missing: string[];
  /** Names in the file the model does not have: ignored. */
  unexpected: string[];
}

/**
 * Assigns variables by name. A shape mismatch is an error (the checkpoint belongs to another config);
 * missing / unexpected names are reported, which is how a LoRA model is put on top of a base checkpoint.
 */
export function importWeights(
  model: KeyphraseLM,
  specs: tf.io.WeightsManifestEntry[],
  data: ArrayBuffer,
): ImportReport {
  const decoded = tf.io.decodeWeights(data, specs);
  const vars = model.namedVariables();
  const report: ImportReport = { assigned: [], missing: [], unexpected: [] };
  try {
    for (const [name, v] of vars) {
      const t = decoded[name];
      if (t === undefined) {
        report.missing.push(name);
        continue;
      }
      if (t.shape.join('x') !== v.shape.join('x')) {
        throw new RangeError(
          `weight ${name}: checkpoint shape [${t.shape.join(', ')}] but the model expects [${v.shape.join(', ')}]`,
        );
      }
      v.assign(t.dtype === 'float32' ? t : t.cast('float32'));
      report.assigned.push(name);
    }
    for (const name of Object.keys(decoded)) if (!vars.has(name)) report.unexpected.push(name);
  } finally {
    for (const t of Object.values(decoded)) t.dispose();
  }
  return report;
}

/** Copies every same-named, same-shaped variable from `from` into `to` (e.g. base model → LoRA model). */
export function copyWeightsByName(from: KeyphraseLM, to: KeyphraseLM): ImportReport {
  const src = from.namedVariables();
  const dst = to.namedVariables();
  const report: ImportReport = { assigned: [], missing: [], unexpected: [] };
  for (const [name, v] of dst) {
    const s = src.get(name);
    if (s === undefined) {
      report.missing.push(name);
      continue;
    }
    if (s.shape.join('x') !== v.shape.join('x'))
      throw new RangeError(`weight ${name}: shapes differ ([${s.shape.join(', ')}] vs [${v.shape.join(', ')}])`);
    v.assign(s);
    report.assigned.push(name);
  }
  for (const name of src.keys()) if (!dst.has(name)) report.unexpected.push(name);
  return report;
}
