/** Float64 reference of logitStats (docs/logit-statistics.md §1), for tests only. */
import type { RefDType } from './logits';
import { toFloat } from './xl3mReference';

export interface RefStats {
  logsumexp: Float64Array;
  entropy: Float64Array;
  varentropy: Float64Array;
  maxProb: Float64Array;
  argmax: Int32Array;
  nll: Float64Array;
  targetRank: Int32Array;
  nanRow: Uint8Array;
}

/** Straightforward two-pass float64 computation, one row at a time. */
export function refLogitStats(
  data: Float32Array | Uint16Array,
  dtype: RefDType,
  rows: number,
  vocab: number,
  targets?: Int32Array,
  temperature = 1,
): RefStats {
  const out: RefStats = {
    logsumexp: new Float64Array(rows),
    entropy: new Float64Array(rows),
    varentropy: new Float64Array(rows),
    maxProb: new Float64Array(rows),
    argmax: new Int32Array(rows),
    nll: new Float64Array(rows),
    targetRank: new Int32Array(rows),
    nanRow: new Uint8Array(rows),
  };
  const x = new Float64Array(vocab);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    let arg = 0;
    let nan = false;
    for (let v = 0; v < vocab; v++) {
      const raw = toFloat(data, dtype, r * vocab + v);
      x[v] = raw / temperature;
      if (Number.isNaN(raw)) nan = true;
      if (x[v] > m) {
        m = x[v];
        arg = v;
      }
    }
    out.argmax[r] = arg;
    if (targets) {
      let g = 0;
      for (let v = 0; v < vocab; v++) if (x[v] > x[targets[r]!]!) g++;
      out.targetRank[r] = g;
    }
    if (nan) {
      out.nanRow[r] = 1;
      out.logsumexp[r] = out.entropy[r] = out.varentropy[r] = out.maxProb[r] = out.nll[r] = NaN;
      continue;
    }
    let s = 0;
    let u = 0;
    let w = 0;
    for (let v = 0; v < vocab; v++) {
      if (x[v] === -Infinity) continue;
      const d = x[v]! - m;
      const e = Math.exp(d);
      s += e;
      u += e * d;
      w += e * d * d;
    }
    const lse = m + Math.log(s);
    out.logsumexp[r] = lse;
    out.entropy[r] = Math.log(s) - u / s;
    out.varentropy[r] = Math.max(0, w / s - (u / s) ** 2);
    out.maxProb[r] = 1 / s;
    out.nll[r] = targets ? lse - x[targets[r]!]! : NaN;
  }
  return out;
}
