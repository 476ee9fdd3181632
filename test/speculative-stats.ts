/** χ² helpers for the speculative-decoding tests. */

/** Upper 1e-4 quantile of χ²(df) (Wilson–Hilferty; z = 3.719): a correct sampler exceeds it with p ≈ 1e-4. */
export function chi2Critical(df: number): number {
  const z = 3.719;
  const a = 2 / (9 * df);
  return df * (1 - a + z * Math.sqrt(a)) ** 3;
}

/** Goodness of fit of `counts` to probabilities `p`; cells with expected < 5 are pooled into one. */
export function chi2Fit(counts: ArrayLike<number>, p: ArrayLike<number>): { chi2: number; df: number } {
  let n = 0;
  for (let i = 0; i < counts.length; i++) n += counts[i]!;
  let chi2 = 0;
  let cells = 0;
  let poolO = 0;
  let poolE = 0;
  for (let i = 0; i < counts.length; i++) {
    const e = n * p[i]!;
    if (e < 5) {
      poolO += counts[i]!;
      poolE += e;
      continue;
    }
    chi2 += (counts[i]! - e) ** 2 / e;
    cells++;
  }
  if (poolE >= 5) {
    chi2 += (poolO - poolE) ** 2 / poolE;
    cells++;
  } else if (poolO > 3 * Math.max(poolE, 1) + 10) {
    chi2 = Infinity; // mass where the model puts (almost) none
  }
  return { chi2, df: Math.max(1, cells - 1) };
}

/** Two-sample χ² homogeneity test over the union of categories, pooling those with expected < 5. */
export function chi2TwoSample(a: Map<number, number>, b: Map<number, number>): { chi2: number; df: number } {
  let na = 0;
  let nb = 0;
  for (const v of a.values()) na += v;
  for (const v of b.values()) nb += v;
  const keys = new Set([...a.keys(), ...b.keys()]);
  let chi2 = 0;
  let cells = 0;
  let pa = 0;
  let pb = 0;
  const term = (oa: number, ob: number) => {
    const tot = oa + ob;
    const ea = (tot * na) / (na + nb);
    const eb = (tot * nb) / (na + nb);
    return (oa - ea) ** 2 / ea + (ob - eb) ** 2 / eb;
  };
  for (const k of keys) {
    const oa = a.get(k) ?? 0;
    const ob = b.get(k) ?? 0;
    if (((oa + ob) * Math.min(na, nb)) / (na + nb) < 5) {
      pa += oa;
      pb += ob;
      continue;
    }
    chi2 += term(oa, ob);
    cells++;
  }
  if (((pa + pb) * Math.min(na, nb)) / (na + nb) >= 5) {
    chi2 += term(pa, pb);
    cells++;
  }
  return { chi2, df: Math.max(1, cells - 1) };
}
