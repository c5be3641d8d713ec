// The seeding of Alea (Johannes Baagøe's generator, as the seedrandom package implements it), which
// tf.randomUniform(shape, min, max, dtype, seed) draws from: the native dropout kernel (models/tf/native-matmul.ts)
// continues the same stream in C++ from this state, so its masks equal tf's bit for bit (test/tf/native-dropout.test.ts).
// Written out rather than imported: seedrandom is only tfjs-core's dependency, not ours.

/** Alea's state after seeding: three fractions in [0, 1) and a carry (an integer below 2,091,639). */
export interface AleaState {
  s0: number;
  s1: number;
  s2: number;
  c: number;
}

function mash(): (data: string) => number {
  let n = 0xefc8249d;
  return (data) => {
    for (let i = 0; i < data.length; i++) {
      n += data.charCodeAt(i);
      let h = 0.02519603282416938 * n;
      n = h >>> 0;
      h -= n;
      h *= n;
      n = h >>> 0;
      h -= n;
      n += h * 0x100000000;
    }
    return (n >>> 0) * 2.3283064365386963e-10;
  };
}

/** The state seedrandom.alea(String(seed)) starts from (tf.randomUniform turns a numeric seed into its string). */
export function aleaState(seed: number | string): AleaState {
  const m = mash();
  const key = String(seed);
  let s0 = m(' ');
  let s1 = m(' ');
  let s2 = m(' ');
  s0 -= m(key);
  if (s0 < 0) s0 += 1;
  s1 -= m(key);
  if (s1 < 0) s1 += 1;
  s2 -= m(key);
  if (s2 < 0) s2 += 1;
  return { s0, s1, s2, c: 1 };
}

/** The generator itself (in JS: the reference the native loop is tested against). */
export function aleaNext(st: AleaState): number {
  const t = 2091639 * st.s0 + st.c * 2.3283064365386963e-10;
  st.s0 = st.s1;
  st.s1 = st.s2;
  st.c = t | 0;
  st.s2 = t - st.c;
  return st.s2;
}
