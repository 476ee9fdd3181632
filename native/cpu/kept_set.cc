#include "kept_set.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <functional>

#include "../core/tree_walk.h"

namespace lw {
namespace cpu {

namespace {

constexpr double kMargin = 1e-5;   // relative slack of the bisection's masses (float weights, any order)
constexpr int64_t kCompact = 4096;  // bracket size from which the bisection works on a copy of the bracket
constexpr int64_t kRank = 64;       // bracket size that is ranked directly

// Top-p alone without ranking the row: the last token of the shortest prefix, in the order (logit desc, id asc),
// whose running mass reaches P·Z, where w[i] = exp((z[i] - m) * inv_t) and Z = Σ w. Bisection on the logit
// value brackets the crossing using whole-row masses (vectorised); only the few tokens left in the bracket are
// ranked, and the running mass is then summed exactly as the definition says (everything above the bracket,
// then the bracket in order). Returns false when the bracket cannot be confirmed (masses within rounding of
// P·Z); the caller then ranks the whole row.
bool top_p_pivot(const float* z, const float* w, int64_t V, float m, float inv_t, double P, double Z, KeptScratch& s,
                 float* pivot_logit, int32_t* pivot_id) {
  const double target = P * Z;
  // Invariants: mass(z >= lo) >= target (lo = -inf: the whole row), mass(z >= hi) = mhi < target.
  float lo = -INFINITY, hi = std::nextafter(m, INFINITY);
  int64_t nlo = V, nhi = 0;
  double mhi = 0.0;
  // The arrays the masses are taken over: the whole row, then (once the bracket is small) a copy of the bracket,
  // with the count and mass of what lies above it kept aside.
  const float* zs = z;
  const float* ws = w;
  int64_t n = V, above_n = 0;
  double above_m = 0.0;
  bool compacted = false;
  auto compact = [&] {
    s.bracket_ids.clear();
    row_indices_at_least(z, V, lo, &s.bracket_ids);
    s.bracket_z.clear();
    s.bracket_w.clear();
    size_t k = 0;
    for (int32_t x : s.bracket_ids)
      if (z[x] < hi) {
        s.bracket_ids[k++] = x;
        s.bracket_z.push_back(z[x]);
        s.bracket_w.push_back(w[x]);
      }
    s.bracket_ids.resize(k);
    zs = s.bracket_z.data();
    ws = s.bracket_w.data();
    n = static_cast<int64_t>(k);
    above_n = nhi;
    above_m = mhi;
    compacted = true;
  };
  for (int it = 0; it < 64 && nlo - nhi > kRank; ++it) {
    if (!compacted && nlo - nhi <= kCompact) compact();
    const float mid = lo == -INFINITY ? m - 20.f / inv_t : 0.5f * lo + 0.5f * hi;
    if (!(mid > lo && mid < hi)) break;
    const MassCount mc = row_mass_at_least(zs, ws, n, mid);
    const double S = above_m + mc.mass;
    if (S >= target * (1.0 + kMargin)) {
      lo = mid;
      nlo = above_n + mc.count;
    } else if (S < target * (1.0 - kMargin)) {
      hi = mid;
      nhi = above_n + mc.count;
      mhi = S;
    } else {
      break;  // the crossing is within rounding of mid's mass: rank the whole bracket
    }
  }
  if (!compacted) compact();
  // Rank the bracket [lo, hi) and run the mass down it, starting from the mass above it.
  size_t k = 0;
  for (int32_t x : s.bracket_ids)
    if (z[x] >= lo && z[x] < hi) s.bracket_ids[k++] = x;
  s.bracket_ids.resize(k);
  std::sort(s.bracket_ids.begin(), s.bracket_ids.end(), [z](int32_t a, int32_t b) { return z[a] > z[b] || (z[a] == z[b] && a < b); });
  double cum = mhi;
  if (cum >= target) return false;
  for (int32_t x : s.bracket_ids) {
    cum += w[x];
    if (cum >= target) {
      *pivot_logit = z[x];
      *pivot_id = x;
      return true;
    }
  }
  return false;
}


// Fast path: the K0-th largest chunk max bounds the pivot from below, so the few tokens at or above it hold the
// whole kept prefix (same idea as the CUDA kernel). False when that does not hold. Z_all: Σ of every weight,
// used when K == V.
bool select_fast(const float* z, int64_t V, int64_t K, double P, double Z_all, KeptSet& k, KeptScratch& s) {
  const int64_t nch = (V + tree::kChunk - 1) / tree::kChunk;
  const int64_t K0 = K < V ? K : std::min<int64_t>(nch, 32);
  if (K0 > nch) return false;
  s.chunk_max.resize(nch);
  for (int64_t c = 0; c < nch; ++c)
    s.chunk_max[c] = row_max(z + c * tree::kChunk, std::min<int64_t>(tree::kChunk, V - c * tree::kChunk)).max;
  std::nth_element(s.chunk_max.begin(), s.chunk_max.begin() + (K0 - 1), s.chunk_max.end(), std::greater<float>());
  const float tlo = s.chunk_max[K0 - 1];
  if (tlo == -INFINITY) return false;
  std::vector<int32_t>& idx = s.ids;
  idx.clear();
  row_indices_at_least(z, V, tlo, &idx);
  std::sort(idx.begin(), idx.end(), [z](int32_t a, int32_t b) { return z[a] > z[b] || (z[a] == z[b] && a < b); });
  auto w = [&k, z](int32_t x) { return std::exp(static_cast<double>((z[x] - k.max) * k.inv_t)); };
  const int64_t n = static_cast<int64_t>(idx.size());
  const int64_t kk = K < V ? std::min<int64_t>(K, n) : n;
  int64_t piv = kk - 1;
  if (P < 1.0) {
    double ZK = 0.0;
    if (K < V) for (int64_t i = 0; i < kk; ++i) ZK += w(idx[i]);
    else ZK = Z_all;  // == row_sum_exp(z, V, max, inv_t)
    double cum = 0.0;
    bool found = false;
    for (int64_t i = 0; i < kk; ++i) {
      cum += w(idx[i]);
      if (cum >= P * ZK) { piv = i; found = true; break; }
    }
    if (!found && K == V) return false;
  }
  k.pivot_logit = z[idx[piv]];
  k.pivot_id = idx[piv];
  s.kept_prefix = piv + 1;
  return true;
}

// Top-k (K < V) then top-p (P < 1) pivot in the order (logit desc, id asc).
void select_pivot(const float* z, int64_t V, int64_t K, double P, KeptSet& k, KeptScratch& s) {
  // Top-p alone (P < 1 here): the weights and their sum Z serve both the fast path and the bisection.
  double Z = 0.0;
  if (K == V) {
    s.w.resize(V);
    Z = row_weights(z, V, k.max, k.inv_t, s.w.data());
  }
  if (select_fast(z, V, K, P, Z, k, s)) return;
  if (K == V && top_p_pivot(z, s.w.data(), V, k.max, k.inv_t, P, Z, s, &k.pivot_logit, &k.pivot_id)) return;
  std::vector<int32_t>& idx = s.ids;
  idx.resize(V);
  for (int32_t i = 0; i < V; ++i) idx[i] = i;
  auto before = [z](int32_t x, int32_t y) { return z[x] > z[y] || (z[x] == z[y] && x < y); };
  auto w = [&k, z](int32_t x) { return std::exp(static_cast<double>((z[x] - k.max) * k.inv_t)); };
  if (K < V) std::nth_element(idx.begin(), idx.begin() + (K - 1), idx.end(), before);
  double ZK = 0.0;
  for (int64_t i = 0; i < K; ++i) ZK += w(idx[i]);
  int32_t pivot = idx[K - 1];
  if (P < 1.0) {
    const double target = P * ZK;
    double cum = 0.0;
    int64_t done = 0, chunk = 64;
    bool found = false;
    while (done < K && !found) {
      int64_t c = std::min(chunk, K - done);
      std::nth_element(idx.begin() + done, idx.begin() + done + (c - 1), idx.begin() + K, before);
      std::sort(idx.begin() + done, idx.begin() + done + c, before);
      for (int64_t i = done; i < done + c; ++i) {
        cum += w(idx[i]);
        if (cum >= target) { pivot = idx[i]; found = true; break; }
      }
      done += c;
      chunk *= 2;
    }
    if (!found) pivot = idx[K - 1];
  }
  k.pivot_logit = z[pivot];
  k.pivot_id = pivot;
}

int64_t count_at_least(const float* z, int64_t V, float t) {
  int64_t n = 0;
  for (int64_t x = 0; x < V; ++x) n += z[x] >= t;
  return n;
}

}  // namespace

KeptSet select_kept(const float* z, int64_t V, const RowMax& stats, const SamplingRow& row, KeptScratch& s) {
  KeptSet k;
  k.max = stats.max;
  k.argmax = static_cast<int32_t>(stats.arg);
  k.inv_t = 1.0f / row.temperature;
  int64_t K = (row.top_k > 0 && row.top_k < V) ? row.top_k : V;
  const double P = row.top_p;
  // min-p keeps the prefix z >= max + offset: it only lowers the count that top-k keeps.
  bool min_p_cut = false;
  float min_p_logit = -INFINITY;
  if (row.min_p > 0.f) {
    min_p_logit = k.max + min_p_offset(row.temperature, row.min_p);
    const int64_t n = count_at_least(z, V, min_p_logit);
    if (n < K) K = n, min_p_cut = true;
  }
  k.filtered = K < V || P < 1.0;
  s.kept_prefix = -1;
  if (min_p_cut && !(P < 1.0)) {
    k.pivot_logit = min_p_logit;  // every token at or above the threshold, whatever its id
  } else if (k.filtered) {
    select_pivot(z, V, K, P, k, s);
  }
  // Mass of every chunk relative to the row max (the sampler's first stage); Z is their sum.
  const int64_t nch = (V + tree::kChunk - 1) / tree::kChunk;
  std::vector<double>& mass = s.chunk_mass;
  mass.resize(nch);
  if (k.filtered) {
    // Only the few tokens at or above the pivot can be kept; each chunk still sums in increasing id order.
    std::fill(mass.begin(), mass.end(), 0.0);
    if (s.kept_prefix >= 0) {
      // The fast selection ranked them already: the same set, put back in id order (the same sums).
      s.ids.resize(static_cast<size_t>(s.kept_prefix));
      std::sort(s.ids.begin(), s.ids.end());
    } else {
      s.ids.clear();
      row_indices_at_least(z, V, k.pivot_logit, &s.ids);
    }
    for (int32_t x : s.ids)
      if (k.kept(x, z[x])) mass[x / tree::kChunk] += std::exp((z[x] - k.max) * k.inv_t);
  } else {
    for (int64_t c = 0; c < nch; ++c) {
      const int64_t lo = c * tree::kChunk;
      mass[c] = row_sum_exp(z + lo, std::min<int64_t>(tree::kChunk, V - lo), k.max, k.inv_t);
    }
  }
  double Z = 0.0;
  for (int64_t c = 0; c < nch; ++c) Z += mass[c];
  k.inv_sum_f = static_cast<float>(1.0 / Z);
  k.inv_sum = 1.0 / Z;
  return k;
}

}  // namespace cpu
}  // namespace lw
