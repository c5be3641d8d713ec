// Decoding a list of examples over K ranks: the same batches as the single-thread loop (so every prediction is
// the single thread's, bit for bit: identical replicas, identical batches), handed out in order — rank 0 takes the
// next batch itself each round, every worker keeps up to two queued — and gathered by batch index. A stop is seen
// before each of rank 0's batches and while it waits for the workers; it throws CoreError 'ABORTED'.
import { throwIfAborted, yieldToEventLoop } from '../abort';
import type { DecodeOptions, EncodedExample, EvalMode, KeyphraseLM } from '../lm/contract';
import type { Replicas } from './replicas';

export interface ParallelDecodeInput {
  /** Rank 0's model (its replicas hold the same weights). */
  model: KeyphraseLM;
  /** The example set the workers hold `examples` as (same order). */
  set: string;
  examples: readonly EncodedExample[];
  batchSize: number;
  mode: EvalMode;
  options: DecodeOptions;
  signal?: AbortSignal;
  /** Names the job in the ABORTED error ('validation', 'prediction', 'decoding'). */
  what: string;
  /** After each batch: examples decoded so far (in completion order), of the total. */
  onBatch?: (done: number, total: number) => void;
}

/** Queued batches per worker: one computing, one waiting, so a worker never idles while rank 0 computes. */
const QUEUED_PER_WORKER = 2;

/** Answer ids per example, in example order. */
export async function decodeParallel(replicas: Replicas, input: ParallelDecodeInput): Promise<Int32Array[]> {
  const { examples, batchSize } = input;
  const batches = Math.ceil(examples.length / batchSize);
  const results: Int32Array[][] = new Array(batches);
  const version = replicas.version;
  const queued = new Array<number>(replicas.ranks).fill(0);
  let next = 0;
  let finished = 0;
  let done = 0;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const wakeUp = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const range = (b: number): [number, number] => [b * batchSize, Math.min(examples.length, (b + 1) * batchSize)];
  const complete = (b: number, ids: Int32Array[]) => {
    results[b] = ids;
    finished += 1;
    done += ids.length;
    input.onBatch?.(done, examples.length);
  };
  const dispatch = () => {
    for (let rank = 1; rank < replicas.ranks; rank++) {
      while (queued[rank] < QUEUED_PER_WORKER && next < batches) {
        const b = next++;
        const [start, end] = range(b);
        queued[rank] += 1;
        replicas
          .request<Int32Array[]>(rank, {
            t: 'decode',
            set: input.set,
            start,
            end,
            mode: input.mode,
            options: input.options,
            version,
          })
          .reply.then(
            (ids) => {
              queued[rank] -= 1;
              complete(b, ids);
            },
            (err: unknown) => {
              failure ??= err;
            },
          )
          .finally(wakeUp);
      }
    }
  };
  input.signal?.addEventListener('abort', wakeUp);
  try {
    while (finished < batches) {
      // Always a turn of the event loop: the workers' replies (and a stop request) are handled there.
      await yieldToEventLoop();
      throwIfAborted(input.signal, input.what);
      if (failure !== null) throw failure;
      // Rank 0 claims the next batch first (a one-batch job stays on this thread), then feeds the workers.
      const mine = next < batches ? next++ : -1;
      dispatch();
      if (mine >= 0) {
        const [start, end] = range(mine);
        const part = examples.slice(start, end).map((e) => ({ ...e, answer: new Int32Array(0) }));
        complete(mine, input.model.generate(part, input.mode, input.options));
      } else if (finished < batches) {
        await new Promise<void>((resolve) => (wake = resolve));
      }
    }
  } finally {
    input.signal?.removeEventListener('abort', wakeUp);
  }
  return results.flat();
}
