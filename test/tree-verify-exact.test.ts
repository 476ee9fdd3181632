// Exactness of every sampling mode of verifyTree: over 10^6 trials per scenario (one native call per 10^5
// trials, keyed by tree index × 10 steps), the first two tokens of the generated sequence (emitted tokens,
// continued autoregressively from the target when fewer than two were emitted) must follow autoregressive
// sampling from the processed target exactly. χ² over cells with expected count >= 5 (the rest pooled);
// fixed seeds, so the test is deterministic; it fails below p = 1e-4 (and on any zero-probability sequence).
import { verifyTree, type DraftKind } from '../lib/tree/verify';
import { processedDistribution } from './helpers/treeReference';
import { rng } from './helpers/rng';

interface World {
  V: number;
  T: number;
  topK: number;
  topP: number;
  minP?: number;
  /** 'indep': own logits; 'p': q = processed target; 'disjoint': q lives where p = 0; 'flat': uniform. */
  q: 'indep' | 'p' | 'disjoint' | 'flat';
  salt: number;
}

/** Toy language model: logits are a hash of the context; one token per context has logit -Infinity. */
class Model {
  // Contexts are at most 4 tokens deep, so keys stay below (V + 1)^5: plain arrays are the fastest caches.
  private t: Float32Array[] = [];
  private d: Float32Array[] = [];
  private pc: Float64Array[] = [];
  private qc: Float64Array[] = [];
  constructor(readonly w: World) {}
  key(ctx: number[]): number {
    let k = 1;
    for (const x of ctx) k = k * (this.w.V + 1) + x + 1;
    return k;
  }
  private logits(k: number, salt: number): Float32Array {
    const r = rng((k * 2654435761 + salt * 97 + 13) >>> 0);
    const z = new Float32Array(this.w.V);
    for (let x = 0; x < this.w.V; x++) z[x] = 1.3 * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    z[Math.floor(r() * this.w.V)] = -Infinity;
    return z;
  }
  target(k: number): Float32Array {
    return (this.t[k] ??= this.logits(k, this.w.salt));
  }
  p(k: number): Float64Array {
    return (this.pc[k] ??= processedDistribution(this.target(k), { temperature: this.w.T, topK: this.w.topK, topP: this.w.topP, minP: this.w.minP }));
  }
  draft(k: number): Float32Array {
    let z = this.d[k];
    if (!z) {
      const p = this.p(k);
      const V = this.w.V;
      if (this.w.q === 'indep') z = this.logits(k, this.w.salt + 1000);
      else if (this.w.q === 'flat') z = new Float32Array(V);
      else if (this.w.q === 'p') z = Float32Array.from(p, (v) => (v > 0 ? Math.log(v) : -Infinity));
      else z = Float32Array.from(p, (v, x) => (v === 0 ? 0.3 * x : -Infinity));
      this.d[k] = z;
    }
    return z;
  }
  q(k: number): Float64Array {
    return (this.qc[k] ??= processedDistribution(this.draft(k), {}));
  }
}

function draw(w: ArrayLike<number>, u: number): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i];
  let x = u * s;
  let last = -1;
  for (let i = 0; i < w.length; i++) {
    if (w[i] <= 0) continue;
    last = i;
    x -= w[i];
    if (x < 0) return i;
  }
  return last;
}

/** Upper tail of χ²_k (Wilson–Hilferty). */
function chi2p(x: number, k: number): number {
  const h = 2 / (9 * k);
  const z = (Math.cbrt(x / k) - (1 - h)) / Math.sqrt(h);
  // erfc via Abramowitz–Stegun 7.1.26 is too coarse in the tail; use a continued-fraction-free bound instead:
  const t = z / Math.SQRT2;
  return t < 0 ? 1 - 0.5 * erfc(-t) : 0.5 * erfc(t);
}
function erfc(x: number): number {
  // Numerical Recipes erfcc (relative error < 1.2e-7).
  const t = 1 / (1 + 0.5 * x);
  return t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
}

function chi2(counts: Float64Array, expect: Float64Array, n: number) {
  let stat = 0;
  let dof = -1;
  let pe = 0;
  let po = 0;
  let impossible = 0;
  for (let i = 0; i < counts.length; i++) {
    const e = expect[i] * n;
    if (expect[i] === 0) { impossible += counts[i]; continue; }
    if (e < 5) { pe += e; po += counts[i]; continue; }
    stat += ((counts[i] - e) ** 2) / e;
    dof++;
  }
  if (pe > 0) { stat += ((po - pe) ** 2) / pe; dof++; }
  return { stat, dof, p: chi2p(stat, Math.max(dof, 1)), impossible };
}

const CHAIN = [-1, 0, 1, 2];
const WIDE = [-1, 0, 0, 0, 0];
const DEEP_WIDE = [-1, 0, 0, 0, 1, 1, 2, 4, 7];

const scenarios: [string, DraftKind, number[], World][] = [
  ['deterministic deep+wide T=0.7 k=3 p=0.9', 'deterministic', DEEP_WIDE, { V: 6, T: 0.7, topK: 3, topP: 0.9, q: 'indep', salt: 1 }],
  ['deterministic chain T=1.5', 'deterministic', CHAIN, { V: 6, T: 1.5, topK: 0, topP: 1, q: 'indep', salt: 2 }],
  ['iid chain (C) T=1', 'iid', CHAIN, { V: 6, T: 1, topK: 0, topP: 1, q: 'indep', salt: 3 }],
  ['iid wide q=p (repeats) T=1.2', 'iid', WIDE, { V: 5, T: 1.2, topK: 0, topP: 1, q: 'p', salt: 4 }],
  ['iid deep+wide disjoint supports k=2', 'iid', DEEP_WIDE, { V: 6, T: 1, topK: 2, topP: 1, q: 'disjoint', salt: 5 }],
  ['iid deep+wide flat q T=1.5 k=4 p=0.97', 'iid', DEEP_WIDE, { V: 8, T: 1.5, topK: 4, topP: 0.97, q: 'flat', salt: 6 }],
  ['without-replacement deep+wide T=0.8 p=0.8', 'without-replacement', DEEP_WIDE, { V: 7, T: 0.8, topK: 0, topP: 0.8, q: 'indep', salt: 7 }],
  ['without-replacement wide q=p k=4', 'without-replacement', WIDE, { V: 6, T: 1, topK: 4, topP: 1, q: 'p', salt: 8 }],
  ['without-replacement chain T=2 k=5 p=0.9', 'without-replacement', CHAIN, { V: 6, T: 2, topK: 5, topP: 0.9, q: 'indep', salt: 9 }],
  // min-p (applied after T, before top-k / top-p): alone and combined, every draft kind.
  ['min-p deterministic wide min-p 0.3', 'deterministic', WIDE, { V: 7, T: 1, topK: 0, topP: 1, minP: 0.3, q: 'indep', salt: 10 }],
  ['min-p iid deep+wide T=0.8 min-p 0.1 k=3 p=0.9', 'iid', DEEP_WIDE, { V: 8, T: 0.8, topK: 3, topP: 0.9, minP: 0.1, q: 'indep', salt: 11 }],
  ['min-p without-replacement wide q=p min-p 0.2 p=0.8', 'without-replacement', WIDE, { V: 7, T: 1.3, topK: 0, topP: 0.8, minP: 0.2, q: 'p', salt: 12 }],
];

const TRIALS = 1_000_000;
const PER_CALL = 100_000;

describe('verifyTree sampling is exact (χ², 10^6 trials per scenario)', () => {
  test.each(scenarios)('%s', async (_name, drafts, shape, w) => {
    const m = new Model(w);
    const V = w.V;
    const n = shape.length;
    const r = rng(w.salt * 7919);
    const joint = new Float64Array(V * V);
    let accepted = 0;
    let genMs = 0;
    let callMs = 0;
    for (let step = 0; step < TRIALS / PER_CALL; step++) {
      const tokens = new Int32Array(PER_CALL * n);
      const parents = new Int32Array(PER_CALL * n);
      const offsets = new Int32Array(PER_CALL + 1);
      const tz = new Float32Array(PER_CALL * n * V);
      const qz = drafts === 'deterministic' ? undefined : new Float32Array(PER_CALL * n * V);
      const keys = new Float64Array(n);
      const scratch = new Float64Array(V);
      const t0 = Date.now();
      // Deterministic drafts: one fixed tree per call is a legitimate drafter (its choice may depend only on the
      // context, which is the same root for every trial), so build one request and replicate it.
      const built = drafts === 'deterministic' ? 1 : PER_CALL;
      for (let b = 0; b < built; b++) {
        const o = b * n;
        offsets[b + 1] = o + n;
        for (let i = 0; i < n; i++) {
          const par = shape[i];
          parents[o + i] = par;
          if (i === 0) {
            keys[0] = 1;
          } else {
            let tok: number;
            if (drafts === 'deterministic') {
              for (;;) {
                tok = Math.floor(r() * V);
                let clash = false;
                for (let c = 1; c < i; c++) if (shape[c] === par && tokens[o + c] === tok) clash = true;
                if (!clash) break;
              }
            } else {
              scratch.set(m.q(keys[par]));
              if (drafts === 'without-replacement') for (let c = 1; c < i; c++) if (shape[c] === par) scratch[tokens[o + c]] = 0;
              tok = draw(scratch, r());
            }
            tokens[o + i] = tok;
            keys[i] = keys[par] * (V + 1) + tok + 1;
          }
          const zt = m.target(keys[i]);
          for (let x = 0; x < V; x++) tz[(o + i) * V + x] = zt[x];
          if (qz) {
            const zq = m.draft(keys[i]);
            for (let x = 0; x < V; x++) qz[(o + i) * V + x] = zq[x];
          }
        }
      }
      for (let have = built; have < PER_CALL; have *= 2) {
        const copy = Math.min(have, PER_CALL - have);
        tokens.copyWithin(have * n, 0, copy * n);
        parents.copyWithin(have * n, 0, copy * n);
        tz.copyWithin(have * n * V, 0, copy * n * V);
      }
      for (let b = built; b < PER_CALL; b++) offsets[b + 1] = (b + 1) * n;
      genMs += Date.now() - t0;
      const t1 = Date.now();
      const res = await verifyTree({ tokens, parents, offsets }, { data: tz, rows: PER_CALL * n, vocab: V }, {
        mode: 'sample', drafts, draft: qz && { data: qz, rows: PER_CALL * n, vocab: V },
        temperature: w.T, topK: w.topK, topP: w.topP, minP: w.minP, seed: 1000 + w.salt, step,
      });
      callMs += Date.now() - t1;
      for (let b = 0; b < PER_CALL; b++) {
        const s = res.tokenOffsets[b];
        accepted += res.acceptedLength[b];
        const t1 = res.tokens[s];
        const t2 = res.tokenOffsets[b + 1] - s >= 2 ? res.tokens[s + 1] : draw(m.p(m.key([t1])), r());
        joint[t1 * V + t2]++;
      }
    }
    const expectJoint = new Float64Array(V * V);
    const expectFirst = new Float64Array(V);
    const first = new Float64Array(V);
    const p0 = m.p(m.key([]));
    for (let a = 0; a < V; a++) {
      expectFirst[a] = p0[a];
      const pa = m.p(m.key([a]));
      for (let b = 0; b < V; b++) {
        expectJoint[a * V + b] = p0[a] * pa[b];
        first[a] += joint[a * V + b];
      }
    }
    const c1 = chi2(first, expectFirst, TRIALS);
    const c2 = chi2(joint, expectJoint, TRIALS);
    console.log(`${_name}: E[accepted] ${(accepted / TRIALS).toFixed(3)}; first token χ²=${c1.stat.toFixed(1)} ` +
      `dof ${c1.dof} p=${c1.p.toFixed(3)}; first two χ²=${c2.stat.toFixed(1)} dof ${c2.dof} p=${c2.p.toFixed(3)} ` +
      `(build ${genMs} ms, native ${callMs} ms)`);
    expect(c1.impossible + c2.impossible).toBe(0);
    expect(c1.p).toBeGreaterThan(1e-4);
    expect(c2.p).toBeGreaterThan(1e-4);
  });
});
