/**
 * @internal Small float64 numerics for the scaling diagnostics: special functions (χ² tail, normal quantile,
 * erf), percentiles, covariance, a symmetric eigen-solver and linear solves.
 *
 * @packageDocumentation
 */

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x), x > 0 (Lanczos, g = 7; relative error ~1e-15). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  x -= 1;
  let a = LANCZOS[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** ln of the regularised upper incomplete gamma Q(s, x) = Γ(s, x)/Γ(s) (series below s+1, Lentz fraction above). */
export function lnGammaQ(s: number, x: number): number {
  if (x <= 0) return 0;
  const lnPre = s * Math.log(x) - x - lnGamma(s);
  if (x < s + 1) {
    let term = 1 / s;
    let sum = term;
    for (let n = 1; n < 10000; n++) {
      term *= x / (s + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-17) break;
    }
    const p = Math.exp(lnPre) * sum;
    return Math.log1p(-Math.min(p, 1));
  }
  const tiny = 1e-300;
  let b = x + 1 - s;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10000; i++) {
    const an = -i * (i - s);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return lnPre + Math.log(h);
}

/** P(X > x) for X ~ χ²(df). */
export function chiSquareSf(x: number, df: number): number {
  if (!(x > 0)) return 1;
  return Math.exp(lnGammaQ(df / 2, x / 2));
}

/** erf(x) (Taylor series for |x| < 3, continued fraction of erfc beyond; ~1e-15). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 3) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    const v = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -v : v;
  }
  // erfc(x) = exp(-x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
  let f = ax;
  for (let n = 60; n >= 1; n--) f = ax + n / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x < 0 ? erfc - 1 : 1 - erfc;
}

/** Standard normal quantile Φ⁻¹(p) (Acklam's rational approximation refined by one Halley step; ~1e-15). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) return p === 0 ? -Infinity : p === 1 ? Infinity : NaN;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  let x: number;
  if (p < 0.02425) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p > 1 - 0.02425) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  }
  const e = 0.5 * (1 + erf(x / Math.SQRT2)) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** Percentile of finite values at q ∈ [0, 1], linear interpolation between order statistics (numpy's default). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** The finite entries of `x`, sorted ascending. */
export function finiteSorted(x: ArrayLike<number>): Float64Array {
  const v: number[] = [];
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]!)) v.push(x[i]!);
  return Float64Array.from(v).sort();
}

/** Mean and sample standard deviation (n − 1) of the finite entries. */
export function meanSd(x: ArrayLike<number>): { mean: number; sd: number; n: number } {
  let n = 0;
  let m = 0;
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!Number.isFinite(v)) continue;
    n++;
    const d = v - m;
    m += d / n;
    s += d * (v - m);
  }
  return { mean: n ? m : NaN, sd: n > 1 ? Math.sqrt(s / (n - 1)) : NaN, n };
}

/** Sample covariance (n − 1) of the columns `cols` over the rows where every column is finite; row-major k×k. */
export function covariance(cols: readonly ArrayLike<number>[]): { cov: Float64Array; rows: number } {
  const k = cols.length;
  const n = k ? cols[0]!.length : 0;
  const ok: number[] = [];
  for (let i = 0; i < n; i++) if (cols.every((c) => Number.isFinite(c[i]!))) ok.push(i);
  const mean = cols.map((c) => ok.reduce((s, i) => s + c[i]!, 0) / ok.length);
  const cov = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    for (let b = a; b < k; b++) {
      let s = 0;
      for (const i of ok) s += (cols[a]![i]! - mean[a]!) * (cols[b]![i]! - mean[b]!);
      cov[a * k + b] = cov[b * k + a] = s / (ok.length - 1);
    }
  }
  return { cov, rows: ok.length };
}

/** Solves A x = b (A row-major n×n) by Gaussian elimination with partial pivoting; undefined if singular. */
export function solve(A: ArrayLike<number>, b: ArrayLike<number>, n: number): Float64Array | undefined {
  const M = Float64Array.from(A);
  const x = Float64Array.from(b);
  for (let col = 0; col < n; col++) {
    let piv = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(M[r * n + col]!) > Math.abs(M[piv * n + col]!)) piv = r;
    if (M[piv * n + col] === 0 || !Number.isFinite(M[piv * n + col]!)) return undefined;
    if (piv !== col) {
      for (let j = 0; j < n; j++) [M[col * n + j], M[piv * n + j]] = [M[piv * n + j]!, M[col * n + j]!];
      [x[col], x[piv]] = [x[piv]!, x[col]!];
    }
    for (let r = col + 1; r < n; r++) {
      const f = M[r * n + col]! / M[col * n + col]!;
      if (f === 0) continue;
      for (let j = col; j < n; j++) M[r * n + j]! -= f * M[col * n + j]!;
      x[r]! -= f * x[col]!;
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r]!;
    for (let j = r + 1; j < n; j++) s -= M[r * n + j]! * x[j]!;
    x[r] = s / M[r * n + r]!;
  }
  return x;
}

/** Eigenvalues of a symmetric matrix (row-major n×n), ascending (cyclic Jacobi). */
export function symmetricEigenvalues(S: ArrayLike<number>, n: number): Float64Array {
  const A = Float64Array.from(S);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q]! ** 2;
    if (off < 1e-300) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q]!;
        if (apq === 0) continue;
        const theta = (A[q * n + q]! - A[p * n + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p]!;
          const akq = A[k * n + q]!;
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k]!;
          const aqk = A[q * n + k]!;
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
      }
    }
  }
  const ev = new Float64Array(n);
  for (let i = 0; i < n; i++) ev[i] = A[i * n + i]!;
  return ev.sort();
}

/**
 * @internal Golden-section search for a minimum of f on [lo, hi] while `more(lo, hi)` holds (at most 200
 * steps); returns the final bracket.
 */
export function goldenSection(f: (x: number) => number, lo: number, hi: number, more: (lo: number, hi: number) => boolean): [number, number] {
  const g = (Math.sqrt(5) - 1) / 2;
  let c = hi - g * (hi - lo);
  let d = lo + g * (hi - lo);
  let fc = f(c);
  let fd = f(d);
  for (let i = 0; i < 200 && more(lo, hi); i++) {
    if (fc < fd) {
      hi = d;
      d = c;
      fd = fc;
      c = hi - g * (hi - lo);
      fc = f(c);
    } else {
      lo = c;
      c = d;
      fc = fd;
      d = lo + g * (hi - lo);
      fd = f(d);
    }
  }
  return [lo, hi];
}
