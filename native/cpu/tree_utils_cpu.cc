// CPU kernel of the tree utilities: the processed target probability of every child token, rows in parallel.
// Reductions use the shared SIMD row helpers (float exponentials accumulated in double); top-k keeps a small
// heap (or nth_element for large k); top-p finds its cut by selection on probability mass, O(V) expected.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "core/error.h"
#include "core/parallel.h"
#include "core/tree_utils.h"
#include "row_simd.h"

namespace lw {

namespace {

const float kInfF = std::numeric_limits<float>::infinity();

struct Item {
  uint64_t key;
  double w;
};

struct Scratch {
  std::vector<unsigned char> host;
  std::vector<float> z;
  std::vector<int32_t> idx;
  std::vector<double> w;  // weight of each token
  std::vector<Item> items;
};

[[noreturn]] void bad_row(int64_t row, const std::string& what) {
  throw_range("target logits row " + std::to_string(row) + " " + what +
              " (logits must be finite or -inf, with at least one finite value)");
}

// Order of "more probable first": value descending, index ascending.
struct Before {
  const float* z;
  bool operator()(int32_t a, int32_t b) const { return z[a] > z[b] || (z[a] == z[b] && a < b); }
};

// First index in [i, n) with z > thr, or n.
int64_t next_above_scalar(const float* z, int64_t i, int64_t n, float thr) {
  while (i < n && !(z[i] > thr)) ++i;
  return i;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) int64_t next_above_avx2(const float* z, int64_t i, int64_t n, float thr) {
  const __m256 t = _mm256_set1_ps(thr);
  for (; i + 16 <= n; i += 16) {
    const int lo = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(z + i), t, _CMP_GT_OQ));
    const int hi = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(z + i + 8), t, _CMP_GT_OQ));
    const unsigned mask = static_cast<unsigned>(lo) | (static_cast<unsigned>(hi) << 8);
    if (mask) return i + __builtin_ctz(mask);
  }
  return next_above_scalar(z, i, n, thr);
}
#endif

int64_t next_above(const float* z, int64_t i, int64_t n, float thr) {
#if defined(__x86_64__)
  static const bool avx2 = __builtin_cpu_supports("avx2");
  if (avx2) return next_above_avx2(z, i, n, thr);
#endif
  return next_above_scalar(z, i, n, thr);
}

// Top-k set (unordered) into idx; returns its last element in the order.
int32_t top_k_set(const float* z, int64_t V, int32_t k, std::vector<int32_t>& idx) {
  Before before{z};
  idx.clear();
  if (k <= 1024) {
    // Heap whose front is the worst kept element; scanning in index order, a later equal value is worse.
    // Once full, only values above the current k-th can enter: skip to them with a vector scan.
    auto worse_first = [&](int32_t a, int32_t b) { return before(a, b); };
    int64_t x = 0;
    for (; x < V && static_cast<int32_t>(idx.size()) < k; ++x) {
      idx.push_back(static_cast<int32_t>(x));
      std::push_heap(idx.begin(), idx.end(), worse_first);
    }
    while ((x = next_above(z, x, V, z[idx.front()])) < V) {
      std::pop_heap(idx.begin(), idx.end(), worse_first);
      idx.back() = static_cast<int32_t>(x);
      std::push_heap(idx.begin(), idx.end(), worse_first);
      ++x;
    }
    return idx.front();
  }
  idx.resize(static_cast<size_t>(V));
  for (int32_t x = 0; x < V; ++x) idx[x] = x;
  std::nth_element(idx.begin(), idx.begin() + (k - 1), idx.end(), before);
  idx.resize(static_cast<size_t>(k));
  return idx[k - 1];
}

// Sort key of "more probable first" (value descending, index ascending) as one integer.
uint64_t order_key(float v, int32_t x) {
  if (v == 0.0f) v = 0.0f;  // -0 ties with +0, as in float comparison
  uint32_t b;
  std::memcpy(&b, &v, 4);
  const uint32_t asc = (b & 0x80000000u) ? ~b : (b | 0x80000000u);  // increasing with v
  return (static_cast<uint64_t>(~asc) << 32) | static_cast<uint32_t>(x);
}

// Smallest prefix (in the order) of the candidates whose mass reaches `need`: binary search on order
// statistics with nth_element over packed keys, so each level costs its range. Returns the prefix's last token;
// *kept = its mass.
int32_t mass_cut(const float* z, const std::vector<int32_t>& idx, const std::vector<double>& w, double need,
                 std::vector<Item>& items, double* kept) {
  items.resize(idx.size());
  for (size_t i = 0; i < idx.size(); ++i) items[i] = {order_key(z[idx[i]], idx[i]), w[idx[i]]};
  auto less = [](const Item& a, const Item& b) { return a.key < b.key; };
  size_t lo = 0, hi = items.size();
  double acc = 0;
  while (hi - lo > 1) {
    const size_t mid = lo + (hi - lo) / 2;
    std::nth_element(items.begin() + lo, items.begin() + mid, items.begin() + hi, less);
    double m1 = 0;
    for (size_t i = lo; i < mid; ++i) m1 += items[i].w;
    if (acc + m1 >= need) {
      hi = mid;
    } else {
      acc += m1;
      lo = mid;
    }
  }
  *kept = acc + items[lo].w;
  return static_cast<int32_t>(items[lo].key & 0xffffffffu);
}

void row_probs(const float* z, int64_t V, int64_t row, const RowParams& rp, const int32_t* tokens, int64_t count,
               double* out, Scratch& sc) {
  const cpu::RowMax mx = cpu::row_max(z, V);
  if (mx.nonfinite) {
    for (int64_t x = 0; x < V; ++x)
      if (!(z[x] < kInfF)) bad_row(row, "has NaN or +inf at token " + std::to_string(x));
  }
  if (mx.max == -kInfF) bad_row(row, "is all -inf");
  if (rp.greedy || rp.temperature == 0.0) {
    for (int64_t i = 0; i < count; ++i) out[i] = tokens[i] == mx.arg ? 1.0 : 0.0;
    return;
  }
  const float m = mx.max;
  const double inv_t = 1.0 / rp.temperature;
  auto weight = [&](int32_t x) { return std::exp((static_cast<double>(z[x]) - m) * inv_t); };
  const bool use_k = rp.top_k > 0 && rp.top_k < V;
  const bool use_p = rp.top_p < 1.0;
  if (!use_k && !use_p) {
    const double total = cpu::row_sum_exp(z, V, m, static_cast<float>(inv_t));
    for (int64_t i = 0; i < count; ++i) out[i] = weight(tokens[i]) / total;
    return;
  }
  std::vector<int32_t>& idx = sc.idx;
  std::vector<double>& w = sc.w;
  w.resize(static_cast<size_t>(V));
  int32_t last;
  double kept_mass = 0;
  if (use_k) {
    last = top_k_set(z, V, rp.top_k, idx);
    for (int32_t x : idx) kept_mass += (w[x] = weight(x));
    if (use_p) last = mass_cut(z, idx, w, rp.top_p * kept_mass, sc.items, &kept_mass);
  } else {
    // Candidates {x : (z_x − m)/T >= log c} are a prefix of the order; widen c until they hold top_p of the mass.
    const double total = cpu::row_sum_exp(z, V, m, static_cast<float>(inv_t));
    const double need = rp.top_p * total;
    for (double log_c = std::log(1e-4);; log_c *= 2) {
      const bool all = log_c < -1400;
      const float cut = all ? -kInfF : static_cast<float>(m + log_c * rp.temperature);
      idx.clear();
      double mass = 0;
      for (int32_t x = 0; x < V; ++x)
        if (z[x] >= cut) idx.push_back(x), mass += (w[x] = weight(x));
      if (mass >= need || all) break;
    }
    last = mass_cut(z, idx, w, need, sc.items, &kept_mass);
  }
  const float z_last = z[last];
  for (int64_t i = 0; i < count; ++i) {
    const int32_t x = tokens[i];
    const bool kept = z[x] > z_last || (z[x] == z_last && x <= last);
    out[i] = kept ? weight(x) / kept_mass : 0.0;
  }
}

}  // namespace

TreeUtilsResult tree_utils(const TreeUtilsArgs& a) {
  const TreeUtilsPlan pl = plan_tree_utils(a);
  TreeUtilsResult res;
  res.node_prob.assign(pl.tree_of.size(), 1.0);
  const int64_t V = a.target.vocab;
  const bool with_q = a.drafts != UtilDrafts::Deterministic;
  std::vector<int32_t> all;
  if (with_q)
    for (int32_t x = 0; x < V; ++x) all.push_back(x);
  const size_t grain = std::max<size_t>(1, static_cast<size_t>(65536 / V));
  parallel_for(pl.rows.size(), grain, [&](size_t lo, size_t hi) {
    Scratch sc;
    std::vector<unsigned char> qbuf;
    std::vector<double> probs, p_full, q_full, r, qwork;
    for (size_t i = lo; i < hi; ++i) {
      a.cancel.check();
      const int32_t n = pl.rows[i];
      const void* data = host_row(a.target, n, sc.host);
      const float* z = static_cast<const float*>(data);
      if (a.target.dtype != DType::F32) {
        sc.z.resize(static_cast<size_t>(V));
        cpu::row_to_float(data, a.target.dtype, V, sc.z.data());
        z = sc.z.data();
      }
      const RowParams rp = row_params(a.sampling, pl.tree_of[n]);
      const int32_t c0 = pl.child_start[n], cnt = pl.child_start[n + 1] - c0;
      probs.resize(static_cast<size_t>(cnt));
      if (with_q && !rp.greedy && rp.temperature != 0.0) {
        p_full.resize(static_cast<size_t>(V));
        q_full.resize(static_cast<size_t>(V));
        row_probs(z, V, n, rp, all.data(), V, p_full.data(), sc);
        softmax_row(host_row(a.draft, n, qbuf), a.draft.dtype, V, n, q_full.data());
        rrs_accept_probs(p_full.data(), q_full.data(), V, &pl.child_tok[c0], cnt,
                         a.drafts == UtilDrafts::WithoutReplacement, probs.data(), r, qwork);
      } else {
        row_probs(z, V, n, rp, &pl.child_tok[c0], cnt, probs.data(), sc);
      }
      for (int32_t j = 0; j < cnt; ++j) res.node_prob[pl.child_node[c0 + j]] = probs[j];
    }
  });
  finish_tree_utils(a, pl, res);
  return res;
}

}  // namespace lw
