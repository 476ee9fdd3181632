// The tests' one seeded PRNG: lib/prng's mulberry32, uniform in [0, 1).
export { mulberry32 as rng } from '../../lib/runtime/prng';

/** A uniform integer in [0, n). */
export function randInt(r: () => number, n: number): number {
  return Math.floor(r() * n);
}
