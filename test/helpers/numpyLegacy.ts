/**
 * numpy's legacy global generator (`np.random.seed(s)`: MT19937 seeded by init_genrand) and `np.random.choice(a,
 * size, replace=True)` (`randint(0, len(a))`: masked rejection on 32-bit draws), to reproduce a notebook's
 * resamples exactly.
 */
export class LegacyRandomState {
  private mt = new Uint32Array(624);
  private i = 624;

  constructor(seed: number) {
    this.mt[0] = seed >>> 0;
    for (let k = 1; k < 624; k++) {
      const prev = this.mt[k - 1]! ^ (this.mt[k - 1]! >>> 30);
      // 1812433253 * prev + k, mod 2^32
      this.mt[k] = (Math.imul(1812433253, prev) + k) >>> 0;
    }
  }

  nextUint32(): number {
    if (this.i >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = (this.mt[k]! & 0x80000000) | (this.mt[(k + 1) % 624]! & 0x7fffffff);
        let v = this.mt[(k + 397) % 624]! ^ (y >>> 1);
        if (y & 1) v ^= 0x9908b0df;
        this.mt[k] = v >>> 0;
      }
      this.i = 0;
    }
    let y = this.mt[this.i++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Uniform integer in [0, n) as legacy `randint(0, n)` draws it (n ≤ 2^32). */
  randint(n: number): number {
    const rng = n - 1;
    if (rng === 0) return 0;
    let mask = rng;
    mask |= mask >>> 1;
    mask |= mask >>> 2;
    mask |= mask >>> 4;
    mask |= mask >>> 8;
    mask |= mask >>> 16;
    for (;;) {
      const v = (this.nextUint32() & mask) >>> 0;
      if (v <= rng) return v;
    }
  }

  /** `choice(a, size, replace=True)`. */
  choice(a: readonly number[], size: number): Int32Array {
    const out = new Int32Array(size);
    for (let k = 0; k < size; k++) out[k] = a[this.randint(a.length)]!;
    return out;
  }
}
