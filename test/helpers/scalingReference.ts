// Plain float64 reference of the scaling objectives (docs/scaling-laws.md), written directly from the formulas.
export type Theta = readonly number[];

export function chinchillaLogPred(th: Theta, N: number, D: number): number {
  const t = [th[0]! - th[3]! * Math.log(N), th[1]! - th[4]! * Math.log(D), th[2]!];
  const m = Math.max(...t);
  return m + Math.log(t.reduce((s, x) => s + Math.exp(x - m), 0));
}

export function huber(z: number, delta: number): number {
  const a = Math.abs(z);
  return a <= delta ? 0.5 * z * z : delta * (a - 0.5 * delta);
}

/** Σ Huber_δ(log L̂ − log L). */
export function huberObjective(th: Theta, N: Float64Array, D: Float64Array, L: Float64Array, delta = 1e-3): number {
  let f = 0;
  for (let i = 0; i < N.length; i++) f += huber(chinchillaLogPred(th, N[i]!, D[i]!) - Math.log(L[i]!), delta);
  return f;
}

/** Σ Huber_δ(r/e^σ) + n(ln Z(δ) + σ), Z(δ) = √(2π)(1 − 2Φ̄(δ)) + 2e^(−δ²/2)/δ (Φ̄ by numeric integration). */
export function huberLikelihood(th: Theta, N: Float64Array, D: Float64Array, L: Float64Array, delta = 1e-3): number {
  const sigma = th[5]!;
  // 1 − 2Φ̄(δ) = ∫_{−δ}^{δ} φ; Simpson on a fine grid is exact to ~1e-15 for small δ.
  const steps = 1000;
  let integral = 0;
  for (let k = 0; k <= steps; k++) {
    const x = -delta + (2 * delta * k) / steps;
    const w = k === 0 || k === steps ? 1 : k % 2 ? 4 : 2;
    integral += (w * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
  }
  integral *= (2 * delta) / steps / 3;
  const logZ = Math.log(Math.sqrt(2 * Math.PI) * integral + (2 * Math.exp(-0.5 * delta * delta)) / delta);
  let f = 0;
  for (let i = 0; i < N.length; i++) {
    f += huber((chinchillaLogPred(th, N[i]!, D[i]!) - Math.log(L[i]!)) / Math.exp(sigma), delta) + logZ + sigma;
  }
  return f;
}

/** Deterministic normal draws (mulberry32 + Box–Muller). */
export function normals(seed: number, n: number): Float64Array {
  let s = seed >>> 0;
  const u = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}
