// The gradient cosine of AimKP's filter, split by parameter group, for a trained run (docs/results.md, "Paper
// setting"). For the first --samples train items: the per-row gradients (one tf.variableGrads per row) of the
// original row and of the text- and image-masked rows at --stride, restricted to each group of TRAINABLE variables:
//   adapter (adapter.*), lora (*.lora_a/b), embeddings (lm.tok_emb, lm.pos_emb), head (lm.head.*), blocks (every
//   other LM weight: attention, MLP, LayerNorms).
// Prints, per masked modality, the cosine over all trainable parameters (what the filter uses) and per group
// (median and quartiles over samples), and each group's share of the original row's squared gradient norm.
//
//   node --import tsx scripts/cosine-groups.ts --run RUN [--data DIR] [--which best|last] [--samples 64]
//        [--stride 2] [--json FILE]
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { loadDataset } from '../models/data/load-dataset';
import type { EncodedExample, KeyphraseLM, RowVariant } from '../models/lm/contract';
import { initBackend } from '../models/tf/backend';
import { encodeItems } from '../models/train/data-prep';
import { loadRunForInference } from '../models/run/run-loader';
import { encodeImages } from '../models/vision/feature-cache';
import { loadImageEncoder } from '../models/vision/load-image-encoder';
import { fileURLToPath } from 'node:url';
import { scriptArgs } from './lib/script-args';

export type ParamGroup = 'adapter' | 'lora' | 'embeddings' | 'head' | 'blocks';
const GROUPS: ParamGroup[] = ['adapter', 'lora', 'embeddings', 'head', 'blocks'];

export function paramGroup(name: string): ParamGroup {
  if (name.startsWith('adapter.')) return 'adapter';
  if (/\.lora_[ab]$/.test(name)) return 'lora';
  if (name === 'lm.tok_emb' || name === 'lm.pos_emb') return 'embeddings';
  if (name.startsWith('lm.head.')) return 'head';
  return 'blocks';
}

type Dots = Record<ParamGroup | 'all', { oo: number; mm: number; om: number }>;

/** Per-group dot products of two rows' gradients (trainable variables only). */
function groupDots(
  model: KeyphraseLM,
  names: ParamGroup[],
  a: EncodedExample,
  va: RowVariant,
  b: EncodedExample,
  vb: RowVariant,
): Dots {
  const grad = (e: EncodedExample, v: RowVariant) => {
    const { grads } = model.weightedGradients([e], [v], [1], true);
    const data = grads.map((g) => g.dataSync() as Float32Array);
    tf.dispose(grads);
    return data;
  };
  const ga = grad(a, va);
  const gb = grad(b, vb);
  const out = Object.fromEntries([...GROUPS, 'all'].map((k) => [k, { oo: 0, mm: 0, om: 0 }])) as Dots;
  ga.forEach((x, i) => {
    const y = gb[i];
    let oo = 0;
    let mm = 0;
    let om = 0;
    for (let k = 0; k < x.length; k++) {
      oo += x[k] * x[k];
      mm += y[k] * y[k];
      om += x[k] * y[k];
    }
    for (const key of [names[i], 'all'] as const) {
      out[key].oo += oo;
      out[key].mm += mm;
      out[key].om += om;
    }
  });
  return out;
}

const cos = (d: { oo: number; mm: number; om: number }) => d.om / Math.max(Math.sqrt(d.oo * d.mm), 1e-8);

function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((x, y) => x - y);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (pos - lo);
}

export interface GroupSummary {
  modality: 'text' | 'image';
  group: ParamGroup | 'all';
  n: number;
  q25: number;
  median: number;
  q75: number;
  /** The group's mean share of the original row's squared gradient norm. */
  normShare: number;
}

async function main(): Promise<void> {
  const { values } = scriptArgs(fileURLToPath(import.meta.url), {
    options: {
      run: { type: 'string' },
      data: { type: 'string' },
      which: { type: 'string', default: 'best' },
      samples: { type: 'string', default: '64' },
      stride: { type: 'string', default: '2' },
      json: { type: 'string' },
    },
  });
  if (!values.run)
    throw new Error(
      'usage: cosine-groups.ts --run RUN [--data DIR] [--which best|last] [--samples N] [--stride S] [--json FILE]',
    );
  await initBackend();
  const which = values.which === 'last' ? 'last' : 'best';
  const loaded = await loadRunForInference(values.run, which);
  const config = loaded.config;
  const dataDir = values.data ?? config.dataDir;
  const n = Number(values.samples);
  const stride = Number(values.stride);
  const data = await loadDataset(dataDir, { splits: ['train'], checkImages: false });
  const items = data.items.filter((i) => i.split === 'train' && i.image !== null && i.text.trim() !== '').slice(0, n);
  const encoder = await loadImageEncoder(config.encoder);
  const features = await encodeImages(encoder, dataDir, items, {});
  encoder.dispose();
  const examples = encodeItems(items, loaded.tokenizer, features, config);
  const model = loaded.model;
  const nameOf = new Map([...model.namedVariables()].map(([name, v]) => [v, name] as const));
  const names = model.trainableVariables().map((v) => paramGroup(nameOf.get(v) ?? v.name));
  const present = GROUPS.filter((g) => names.includes(g));
  const plain: RowVariant = { mode: 'multimodal', textStride: 1, imageStride: 1, kind: 'structured', seed: 0 };
  const masked = { text: { ...plain, textStride: stride }, image: { ...plain, imageStride: stride } };
  const perSample: Record<'text' | 'image', Dots[]> = { text: [], image: [] };
  for (const e of examples) {
    if (e.text.length > 0) perSample.text.push(groupDots(model, names, e, plain, e, masked.text));
    if (e.image !== null) perSample.image.push(groupDots(model, names, e, plain, e, masked.image));
  }
  const rows: GroupSummary[] = [];
  for (const modality of ['text', 'image'] as const) {
    for (const group of ['all', ...present] as const) {
      const dots = perSample[modality];
      const c = dots.map((d) => cos(d[group]));
      const share =
        dots.length === 0 ? NaN : dots.reduce((s, d) => s + d[group].oo / Math.max(d.all.oo, 1e-30), 0) / dots.length;
      rows.push({
        modality,
        group,
        n: c.length,
        q25: quantile(c, 0.25),
        median: quantile(c, 0.5),
        q75: quantile(c, 0.75),
        normShare: share,
      });
    }
  }
  console.log(
    `# ${values.run} (${config.preset}, ${which}): cos(g_original, g_masked) by parameter group, stride ${stride}, ${examples.length} train items`,
  );
  console.log('');
  console.log('| masked | group | n | q25 | median | q75 | share of ‖g_orig‖² |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const r of rows)
    console.log(
      `| ${r.modality} | ${r.group === 'all' ? 'all trainable (the filter)' : r.group} | ${r.n} | ${r.q25.toFixed(3)} | ${r.median.toFixed(3)} | ${r.q75.toFixed(3)} | ${(100 * r.normShare).toFixed(1)} % |`,
    );
  if (values.json)
    writeFileSync(
      values.json,
      JSON.stringify(
        { run: values.run, preset: config.preset, which, stride, samples: examples.length, rows },
        null,
        2,
      ) + '\n',
    );
  model.dispose();
}

await main();
