// Streaming per-row statistics of a logit row (docs/logit-statistics.md §1). A RowPartial summarises any slice of a row
// relative to its own max m: s = Σ e^(x−m), u = Σ e^(x−m)(x−m), w = Σ e^(x−m)(x−m)². Partials merge
// associatively, so a row can be split across SIMD lanes, threads or blocks. x here is already divided by T.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

namespace lw {

struct RowPartial {
  float m = -std::numeric_limits<float>::infinity();
  float s = 0.f, u = 0.f, w = 0.f;
  float best = -std::numeric_limits<float>::infinity();  // max value seen (for argmax)
  int64_t best_index = -1;                                // lowest index holding `best`
  int64_t greater = 0;                                    // #{x > target value}
  int64_t pos_inf = 0;                                    // #{x = +inf}: the row's mass sits there
  bool nan = false;
};

// Rescales b's sums to a new max m ≥ b.m: with δ = m − b.m, f = e^−δ:
// s' = f s, u' = f (u − δ s), w' = f (w − 2δ u + δ² s).
inline void rescale_partial(float& s, float& u, float& w, float from_m, float to_m) {
  if (from_m == to_m) return;
  if (from_m == -std::numeric_limits<float>::infinity()) {
    s = u = w = 0.f;
    return;
  }
  float d = to_m - from_m;
  float f = std::exp(-d);
  float s0 = s, u0 = u;
  s = f * s0;
  u = f * (u0 - d * s0);
  w = f * (w - 2.f * d * u0 + d * d * s0);
}

inline void merge_partial(RowPartial& a, const RowPartial& b) {
  a.nan = a.nan || b.nan;
  a.greater += b.greater;
  a.pos_inf += b.pos_inf;
  if (b.best > a.best || (b.best == a.best && b.best_index >= 0 && (a.best_index < 0 || b.best_index < a.best_index))) {
    a.best = b.best;
    a.best_index = b.best_index;
  }
  if (b.m == -std::numeric_limits<float>::infinity()) return;
  if (a.m == -std::numeric_limits<float>::infinity()) {
    a.m = b.m; a.s = b.s; a.u = b.u; a.w = b.w;
    return;
  }
  float m = a.m > b.m ? a.m : b.m;
  float bs = b.s, bu = b.u, bw = b.w;
  rescale_partial(a.s, a.u, a.w, a.m, m);
  rescale_partial(bs, bu, bw, b.m, m);
  a.m = m;
  a.s += bs; a.u += bu; a.w += bw;
}

struct RowStats {
  float logsumexp, entropy, varentropy, max_prob, nll;
  int32_t argmax, target_rank;
  bool nan;
  bool all_neg_inf;
};

// `target_value` = x_target / T (only used when has_target). pos_inf rows: the distribution is uniform over
// the +inf entries (the limit of softmax), so entropy = log k, maxProb = 1/k.
inline RowStats finalize_partial(const RowPartial& p, bool has_target, float target_value) {
  RowStats r{};
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  r.argmax = static_cast<int32_t>(p.best_index);
  r.target_rank = has_target ? static_cast<int32_t>(p.greater) : -1;
  r.nan = p.nan;
  r.all_neg_inf = false;
  if (p.nan) {
    r.logsumexp = r.entropy = r.varentropy = r.max_prob = r.nll = nan;
    return r;
  }
  if (p.pos_inf > 0) {
    float k = static_cast<float>(p.pos_inf);
    r.logsumexp = inf;
    r.entropy = std::log(k);
    r.varentropy = 0.f;
    r.max_prob = 1.f / k;
    r.nll = has_target ? (target_value == inf ? std::log(k) : inf) : nan;
    return r;
  }
  if (p.m == -inf || p.s <= 0.f) {
    r.all_neg_inf = true;
    r.logsumexp = -inf;
    r.entropy = r.varentropy = r.max_prob = r.nll = nan;
    return r;
  }
  float log_s = std::log(p.s);
  float mean = p.u / p.s;  // E[x − m]
  r.logsumexp = p.m + log_s;
  r.entropy = log_s - mean;
  float var = p.w / p.s - mean * mean;
  r.varentropy = var > 0.f ? var : 0.f;
  r.max_prob = std::exp(p.best - r.logsumexp);
  r.nll = has_target ? r.logsumexp - target_value : nan;
  return r;
}

}  // namespace lw
