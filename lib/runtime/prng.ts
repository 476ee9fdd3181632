/**
 * Small deterministic PRNGs, uniform in [0, 1), for bundled examples, demos, tests and benchmarks
 * (not for sampling: kernels use the counter-based Philox generator).
 *
 * @packageDocumentation
 */

/** A generator of uniforms in [0, 1) reproducible from `seed`. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A 32-bit linear congruential generator (Numerical Recipes constants), uniform in [0, 1): the fixed stream the
 * benchmarks use for their inputs.
 */
export function lcg(seed: number): () => number {
  let a = seed >>> 0;
  return () => (a = (Math.imul(a, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** `n` float32 logits uniform in [lo, hi) from the generator `r` (the benchmarks' inputs: `lcg(12345)`, [-8, 8)). */
export function uniformLogits(n: number, r: () => number, lo = -8, hi = 8): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = r() * (hi - lo) + lo;
  return out;
}
