// Decoding: greedy, beam search, and beam search with sampling (HF `beam_sample`-style), batched over examples.
// A key/value cache (KeyphraseLMCore.decodeSession) runs the prompt once and one token per hypothesis per step.
import type { DecodeOptions, EncodedExample, EvalMode } from './contract';
import { seededRandom } from './masking';

/** An incremental decoder over a fixed set of examples (rows of log-probabilities, V wide). */
export interface DecodeSession {
  /** Next-token log-probabilities after each example's prompt (E × V). */
  first(): Float32Array;
  /**
   * Advances the hypotheses: new hypothesis h continues hypothesis `parents[h]` of the previous call (for the
   * first call after first(): the example index) with `tokens[h]`. Returns H × V log-probabilities.
   */
  next(parents: number[], tokens: number[]): Float32Array;
  dispose(): void;
}

export interface NextTokenSource {
  readonly config: { vocabSize: number };
  readonly template: { eos: number };
  decodeSession(examples: EncodedExample[], mode: EvalMode, maxNewTokens: number): DecodeSession;
}

export function decode(
  model: NextTokenSource,
  examples: EncodedExample[],
  mode: EvalMode,
  o: DecodeOptions,
): Int32Array[] {
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0)
    throw new RangeError(`maxNewTokens must be an integer >= 0, got ${o.maxNewTokens}`);
  if (examples.length === 0 || o.maxNewTokens === 0) return examples.map(() => new Int32Array(0));
  if (o.strategy !== 'greedy' && (!Number.isInteger(o.beamSize) || o.beamSize < 1))
    throw new RangeError(`beamSize must be an integer >= 1, got ${o.beamSize}`);
  if (o.strategy === 'beam-sample' && !(o.temperature > 0))
    throw new RangeError(`temperature must be > 0, got ${o.temperature}`);
  const session = model.decodeSession(examples, mode, o.maxNewTokens);
  try {
    return o.strategy === 'greedy'
      ? greedy(model, session, examples.length, o)
      : beam(model, session, examples.length, o);
  } finally {
    session.dispose();
  }
}

function greedy(model: NextTokenSource, session: DecodeSession, E: number, o: DecodeOptions): Int32Array[] {
  const V = model.config.vocabSize;
  const eos = model.template.eos;
  const out: number[][] = Array.from({ length: E }, () => []);
  let active = Array.from({ length: E }, (_, i) => i); // examples of the rows of `logp`
  let logp = session.first();
  for (let step = 0; step < o.maxNewTokens; step++) {
    const parents: number[] = [];
    const tokens: number[] = [];
    const next: number[] = [];
    active.forEach((i, k) => {
      const tok = argmax(logp, k * V, V);
      if (tok === eos) return;
      out[i].push(tok);
      parents.push(k);
      tokens.push(tok);
      next.push(i);
    });
    active = next;
    if (active.length === 0 || step + 1 === o.maxNewTokens) break;
    logp = session.next(parents, tokens);
  }
  return out.map((t) => Int32Array.from(t));
}

interface Hyp {
  tokens: number[];
  /** Sum of token log-probabilities. */
  score: number;
}

interface Finished {
  tokens: number[];
  /** Length-normalised score: sum log-prob / generated length (EOS counted), as HF's length_penalty = 1. */
  norm: number;
}

/**
 * Beam search with length normalisation (score / generated length, EOS included; HF length_penalty 1.0).
 * 'beam-sample': candidates are sampled without replacement (Gumbel-top-k) from softmax((beam score + log p) / T)
 * over all beams × vocabulary, 2·beamSize per step, then ranked by score — HF's beam_sample.
 */
function beam(model: NextTokenSource, session: DecodeSession, E: number, o: DecodeOptions): Int32Array[] {
  const V = model.config.vocabSize;
  const eos = model.template.eos;
  const B = o.beamSize;
  const rand = seededRandom(o.seed);
  const alive: Hyp[][] = Array.from({ length: E }, () => [{ tokens: [], score: 0 }]);
  const finished: Finished[][] = Array.from({ length: E }, () => []);
  const done: boolean[] = Array.from({ length: E }, () => false);
  // The rows of `logp`: which example and which hypothesis each row continues.
  let owners = Array.from({ length: E }, (_, i) => i);
  let hyps: Hyp[] = alive.map((a) => a[0]);
  let logp = session.first();
  for (let step = 0; step < o.maxNewTokens; step++) {
    const rowOf = new Map<Hyp, number>(hyps.map((h, r) => [h, r]));
    const parentOf = new Map<Hyp, Hyp>();
    let k = 0;
    while (k < hyps.length) {
      const i = owners[k];
      let end = k;
      while (end < hyps.length && owners[end] === i) end++;
      let candidates: { hyp: number; token: number; score: number; key: number }[] = [];
      for (let h = k; h < end; h++) {
        if (o.strategy === 'beam-sample') {
          for (const s of sampleTop(logp, h * V, V, hyps[h].score, o.temperature, 2 * B, rand)) {
            candidates.push({ hyp: h, token: s.token, score: hyps[h].score + logp[h * V + s.token], key: s.key });
          }
        } else {
          for (const t of topK(logp, h * V, V, 2 * B))
            candidates.push({ hyp: h, token: t, score: hyps[h].score + logp[h * V + t], key: 0 });
        }
      }
      if (o.strategy === 'beam-sample') {
        // The global Gumbel-top-2B over beams × vocabulary is the top 2B of the per-beam top-2B keys.
        candidates.sort((a, b) => b.key - a.key);
        candidates = candidates.slice(0, 2 * B);
      }
      candidates.sort((a, b) => b.score - a.score);
      const nextBeams: Hyp[] = [];
      for (let rank = 0; rank < candidates.length && nextBeams.length < B; rank++) {
        const c = candidates[rank];
        const tokens = [...hyps[c.hyp].tokens, c.token];
        if (c.token === eos) {
          if (rank < B) finished[i].push({ tokens: tokens.slice(0, -1), norm: c.score / tokens.length });
        } else {
          const nh = { tokens, score: c.score };
          parentOf.set(nh, hyps[c.hyp]);
          nextBeams.push(nh);
        }
      }
      alive[i] = nextBeams;
      const genLen = step + 1;
      if (nextBeams.length === 0) done[i] = true;
      else if (finished[i].length >= B) {
        const worst = Math.min(...finished[i].map((f) => f.norm));
        const bestAlive = Math.max(...nextBeams.map((h) => h.score)) / genLen;
        if (bestAlive <= worst) done[i] = true;
      }
      k = end;
    }
    const nextOwners: number[] = [];
    const nextHyps: Hyp[] = [];
    for (let i = 0; i < E; i++) {
      if (done[i]) continue;
      for (const h of alive[i]) {
        nextOwners.push(i);
        nextHyps.push(h);
      }
    }
    if (nextHyps.length === 0 || step + 1 === o.maxNewTokens) break;
    logp = session.next(
      nextHyps.map((h) => rowOf.get(parentOf.get(h)!)!),
      nextHyps.map((h) => h.tokens[h.tokens.length - 1]),
    );
    owners = nextOwners;
    hyps = nextHyps;
  }
  return Array.from({ length: E }, (_, i) => {
    const pool: Finished[] = [...finished[i]];
    if (!done[i] || pool.length === 0)
      for (const h of alive[i]) pool.push({ tokens: h.tokens, norm: h.score / Math.max(1, h.tokens.length) });
    if (pool.length === 0) return new Int32Array(0);
    pool.sort((a, b) => b.norm - a.norm);
    return Int32Array.from(pool[0].tokens);
  });
}

function argmax(a: Float32Array, off: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (a[off + j] > a[off + best]) best = j;
  return best;
}

/** Indices of the k largest values (descending). */
function topK(a: Float32Array, off: number, n: number, k: number): number[] {
  const idx: number[] = [];
  for (let j = 0; j < n; j++) {
    const v = a[off + j];
    if (idx.length === k && v <= a[off + idx[k - 1]]) continue;
    let p = Math.min(idx.length, k - 1);
    if (idx.length < k) idx.push(j);
    while (p > 0 && a[off + idx[p - 1]] < v) {
      idx[p] = idx[p - 1];
      p--;
    }
    idx[p] = j;
  }
  return idx;
}

/** k draws without replacement from softmax((base + logp) / T) via Gumbel-top-k; keys are comparable across beams. */
function sampleTop(
  logp: Float32Array,
  off: number,
  n: number,
  base: number,
  temperature: number,
  k: number,
  rand: () => number,
): { token: number; key: number }[] {
  const keys = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    const u = Math.max(rand(), 1e-12);
    keys[j] = (base + logp[off + j]) / temperature - Math.log(-Math.log(u));
  }
  return topK(keys, 0, n, k).map((token) => ({ token, key: keys[token] }));
}
