#include "tree_utils.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "device.h"
#include "error.h"

namespace lw {

namespace {

const double kNegInf = -std::numeric_limits<double>::infinity();

[[noreturn]] void bad_row(int64_t row, const std::string& what) {
  throw_range("target logits row " + std::to_string(row) + " " + what +
              " (logits must be finite or -inf, with at least one finite value)");
}

template <class T>
T param(const T* a, int64_t len, int64_t b, T dflt) {
  if (!a || len == 0) return dflt;
  return a[len == 1 ? 0 : b];
}

}  // namespace

void processed_probs(const void* row_data, DType dtype, int64_t vocab, int64_t row, bool greedy, double temperature,
                     int32_t top_k, double top_p, const int32_t* tokens, int64_t count, double* out,
                     RowScratch& scratch) {
  if (greedy || temperature == 0.0) {
    int64_t best = -1;
    float best_z = -std::numeric_limits<float>::infinity();
    for (int64_t x = 0; x < vocab; ++x) {
      float z = load_as_float(row_data, dtype, x);
      if (std::isnan(z) || z == std::numeric_limits<float>::infinity()) bad_row(row, "has NaN or +inf at token " + std::to_string(x));
      if (z > best_z) best_z = z, best = x;
    }
    if (best < 0) bad_row(row, "is all -inf");
    for (int64_t i = 0; i < count; ++i) out[i] = tokens[i] == best ? 1.0 : 0.0;
    return;
  }
  std::vector<double>& s = scratch.s;
  s.resize(static_cast<size_t>(vocab));
  double m = kNegInf;
  for (int64_t x = 0; x < vocab; ++x) {
    double z = load_as_float(row_data, dtype, x);
    if (std::isnan(z) || z == std::numeric_limits<double>::infinity()) bad_row(row, "has NaN or +inf at token " + std::to_string(x));
    s[x] = z / temperature;
    m = std::max(m, s[x]);
  }
  if (m == kNegInf) bad_row(row, "is all -inf");

  const bool use_k = top_k > 0 && top_k < vocab;
  const bool use_p = top_p < 1.0;
  if (!use_k && !use_p) {
    double z = 0;
    for (int64_t x = 0; x < vocab; ++x) z += std::exp(s[x] - m);
    for (int64_t i = 0; i < count; ++i) out[i] = std::exp(s[tokens[i]] - m) / z;
    return;
  }

  // The kept set is a prefix of the order (s descending, index ascending); it ends at element `last`.
  auto before = [&s](int32_t a, int32_t b) { return s[a] > s[b] || (s[a] == s[b] && a < b); };
  std::vector<int32_t>& idx = scratch.idx;
  int32_t last = 0;
  double kept_mass = 1;
  if (use_k) {
    idx.resize(static_cast<size_t>(vocab));
    for (int64_t x = 0; x < vocab; ++x) idx[x] = static_cast<int32_t>(x);
    std::nth_element(idx.begin(), idx.begin() + (top_k - 1), idx.end(), before);
    idx.resize(static_cast<size_t>(top_k));
    if (!use_p) {
      last = idx[top_k - 1];
      kept_mass = 0;
      for (int32_t x : idx) kept_mass += std::exp(s[x] - m);
    }
  } else {
    // Candidates {x : s_x >= m + log c} form a prefix of the order; shrink c until they hold top_p of the mass.
    double total = 0;
    for (int64_t x = 0; x < vocab; ++x) total += std::exp(s[x] - m);
    for (double log_c = std::log(1e-4);; log_c *= 2) {
      const double cut = log_c < -1400 ? kNegInf : m + log_c;
      idx.clear();
      double mass = 0;
      for (int64_t x = 0; x < vocab; ++x)
        if (s[x] >= cut) idx.push_back(static_cast<int32_t>(x)), mass += std::exp(s[x] - m);
      if (mass >= top_p * total || cut == kNegInf) break;
    }
  }
  if (use_p) {
    std::sort(idx.begin(), idx.end(), before);
    double total = 0;
    if (use_k) {
      for (int32_t x : idx) total += std::exp(s[x] - m);
    } else {
      for (int64_t x = 0; x < vocab; ++x) total += std::exp(s[x] - m);
    }
    double cum = 0;
    size_t r = 0;
    while (r < idx.size()) {
      cum += std::exp(s[idx[r]] - m);
      ++r;
      if (cum >= top_p * total) break;
    }
    last = idx[r - 1];
    kept_mass = cum;
  }
  const double s_last = s[last];
  for (int64_t i = 0; i < count; ++i) {
    const int32_t x = tokens[i];
    const bool kept = s[x] > s_last || (s[x] == s_last && x <= last);
    out[i] = kept ? std::exp(s[x] - m) / kept_mass : 0.0;
  }
}

void softmax_row(const void* row_data, DType dtype, int64_t vocab, int64_t row, double* out) {
  double m = kNegInf;
  for (int64_t x = 0; x < vocab; ++x) {
    const double z = load_as_float(row_data, dtype, x);
    if (std::isnan(z) || z == std::numeric_limits<double>::infinity())
      throw_range("draft logits row " + std::to_string(row) + " has NaN or +inf at token " + std::to_string(x) +
                  " (logits must be finite or -inf, with at least one finite value)");
    out[x] = z;
    m = std::max(m, z);
  }
  if (m == kNegInf) throw_range("draft logits row " + std::to_string(row) + " is all -inf");
  double s = 0;
  for (int64_t x = 0; x < vocab; ++x) s += (out[x] = std::exp(out[x] - m));
  for (int64_t x = 0; x < vocab; ++x) out[x] /= s;
}

void rrs_accept_probs(const double* p, const double* q, int64_t vocab, const int32_t* tokens, int64_t m, bool wor,
                      double* out, std::vector<double>& r, std::vector<double>& qwork) {
  r.assign(p, p + vocab);
  qwork.assign(q, q + vocab);  // without replacement: tried tokens zeroed
  double reach = 1, tried_mass = 0;
  int64_t j = 0;
  for (; j < m; ++j) {
    const int32_t x = tokens[j];
    const double rem = wor ? 1.0 - tried_mass : 1.0;
    if (wor && !(rem > 1e-12)) break;
    const double qj = qwork[x] / rem;
    const double alpha = qj > 0 ? std::min(1.0, r[x] / qj) : 0.0;
    out[j] = reach * alpha;
    reach *= 1 - alpha;
    if (j + 1 == m || !(reach > 0)) {
      ++j;
      break;
    }
    // Rejected: r <- norm(max(r - q^(j), 0)).
    double sum = 0;
    for (int64_t t = 0; t < vocab; ++t) {
      const double v = r[t] - qwork[t] / rem;
      sum += (r[t] = v > 0 ? v : 0);
    }
    if (!(sum > 1e-30)) {
      ++j;
      break;
    }
    for (int64_t t = 0; t < vocab; ++t) r[t] /= sum;
    if (wor) {
      tried_mass += q[x];
      qwork[x] = 0;
    }
  }
  for (; j < m; ++j) out[j] = 0;
}

RowParams row_params(const SamplingView& sp, int64_t b) {
  return {sp.greedy, param(sp.temperature, sp.temperature_len, b, 1.0f), param(sp.top_k, sp.top_k_len, b, 0),
          param(sp.top_p, sp.top_p_len, b, 1.0f)};
}

TreeUtilsPlan plan_tree_utils(const TreeUtilsArgs& a) {
  const TreeView& t = a.trees;
  if (t.batch < 1 || t.offsets[0] != 0) throw_range("trees.offsets must start at 0 and describe at least one tree");
  for (int64_t b = 0; b < t.batch; ++b)
    if (t.offsets[b + 1] <= t.offsets[b]) throw_range("trees.offsets must be strictly increasing");
  const int64_t nodes = t.offsets[t.batch];
  if (a.target.rows != nodes)
    throw_range("target must have one row per tree node: rows = " + std::to_string(a.target.rows) + ", nodes = " +
                std::to_string(nodes));
  const int64_t vocab = a.target.vocab;
  if (vocab < 1) throw_range("target.vocab must be >= 1");
  if (a.want_reward && !(a.eta > 0 && std::isfinite(a.eta))) throw_range("eta must be a finite number > 0");
  if (a.drafts != UtilDrafts::Deterministic && (a.draft.rows != nodes || a.draft.vocab != vocab))
    throw_range("draft must have one row per tree node and the target's vocabulary (" + std::to_string(nodes) +
                " × " + std::to_string(vocab) + "), got " + std::to_string(a.draft.rows) + " × " +
                std::to_string(a.draft.vocab));

  TreeUtilsPlan pl;
  pl.tree_of.resize(static_cast<size_t>(nodes));
  pl.child_start.assign(static_cast<size_t>(nodes) + 1, 0);
  for (int64_t b = 0; b < t.batch; ++b) {
    const int32_t o = t.offsets[b], size = t.offsets[b + 1] - o;
    if (t.parents[o] != -1) throw_range("trees.parents: the root of tree " + std::to_string(b) + " must have parent -1");
    for (int32_t i = 0; i < size; ++i) {
      pl.tree_of[o + i] = static_cast<int32_t>(b);
      if (i == 0) continue;
      const int32_t p = t.parents[o + i];
      if (p < 0 || p >= i) throw_range("trees.parents[" + std::to_string(o + i) + "] must be a local index < " + std::to_string(i));
      const int32_t tok = t.tokens[o + i];
      if (tok < 0 || tok >= vocab) throw_range("trees.tokens[" + std::to_string(o + i) + "] is outside [0, vocab)");
      ++pl.child_start[o + p + 1];
    }
  }
  for (int64_t n = 0; n < nodes; ++n) pl.child_start[n + 1] += pl.child_start[n];
  pl.child_node.resize(static_cast<size_t>(pl.child_start[nodes]));
  pl.child_tok.resize(pl.child_node.size());
  std::vector<int32_t> fill(pl.child_start.begin(), pl.child_start.end() - 1);
  for (int64_t b = 0; b < t.batch; ++b) {
    const int32_t o = t.offsets[b], size = t.offsets[b + 1] - o;
    for (int32_t i = 1; i < size; ++i) {
      const int32_t slot = fill[o + t.parents[o + i]]++;
      pl.child_node[slot] = o + i;
      pl.child_tok[slot] = t.tokens[o + i];
    }
  }
  for (int64_t n = 0; n < nodes; ++n)
    if (pl.child_start[n + 1] > pl.child_start[n]) pl.rows.push_back(static_cast<int32_t>(n));
  return pl;
}

void finish_tree_utils(const TreeUtilsArgs& a, const TreeUtilsPlan& pl, TreeUtilsResult& res) {
  const TreeView& t = a.trees;
  res.expected.assign(static_cast<size_t>(t.batch), 0.0);
  if (a.want_reward) res.reward.assign(static_cast<size_t>(t.batch), 0.0);
  std::vector<double> reach, path_sum, leaf_l;
  for (int64_t b = 0; b < t.batch; ++b) {
    const int32_t o = t.offsets[b], size = t.offsets[b + 1] - o;
    reach.assign(static_cast<size_t>(size), 1.0);
    path_sum.assign(static_cast<size_t>(size), 0.0);
    double e = 0;
    for (int32_t i = 1; i < size; ++i) {
      const int32_t p = t.parents[o + i];
      reach[i] = reach[p] * res.node_prob[o + i];
      path_sum[i] = path_sum[p] + reach[i];
      e += reach[i];
    }
    res.expected[b] = e;
    if (!a.want_reward) continue;
    // Paths end at leaves: L_i = sum over the path's non-root nodes of their reach probabilities.
    leaf_l.clear();
    double mx = kNegInf;
    for (int32_t i = 0; i < size; ++i)
      if (pl.child_start[o + i + 1] == pl.child_start[o + i]) leaf_l.push_back(a.eta * path_sum[i]), mx = std::max(mx, leaf_l.back());
    double acc = 0;
    for (double l : leaf_l) acc += std::exp(l - mx);
    res.reward[b] = (mx + std::log(acc)) / a.eta;
  }
}

const void* host_row(const LogitsView& l, int64_t row, std::vector<unsigned char>& buf) {
  const size_t bytes = static_cast<size_t>(l.vocab) * dtype_size(l.dtype);
  const void* data = static_cast<const unsigned char*>(l.mem.data) + bytes * row;
  if (!l.mem.on_device) return data;
  buf.resize(bytes);
  device::to_host(l.mem.device, buf.data(), data, bytes);
  return buf.data();
}

TreeUtilsResult tree_utils_reference(const TreeUtilsArgs& a) {
  const TreeUtilsPlan pl = plan_tree_utils(a);
  TreeUtilsResult res;
  res.node_prob.assign(pl.tree_of.size(), 1.0);
  const int64_t vocab = a.target.vocab;
  RowScratch scratch;
  std::vector<unsigned char> qbuf;
  std::vector<double> probs, p_full, q_full, r, qwork;
  std::vector<int32_t> all;
  for (int32_t n : pl.rows) {
    a.cancel.check();
    const void* row_data = host_row(a.target, n, scratch.host);
    const RowParams rp = row_params(a.sampling, pl.tree_of[n]);
    const int32_t c0 = pl.child_start[n], cnt = pl.child_start[n + 1] - c0;
    probs.resize(static_cast<size_t>(cnt));
    if (a.drafts != UtilDrafts::Deterministic && !rp.greedy && rp.temperature != 0.0) {
      if (all.empty())
        for (int32_t x = 0; x < vocab; ++x) all.push_back(x);
      p_full.resize(static_cast<size_t>(vocab));
      q_full.resize(static_cast<size_t>(vocab));
      processed_probs(row_data, a.target.dtype, vocab, n, false, rp.temperature, rp.top_k, rp.top_p, all.data(), vocab,
                      p_full.data(), scratch);
      softmax_row(host_row(a.draft, n, qbuf), a.draft.dtype, vocab, n, q_full.data());
      rrs_accept_probs(p_full.data(), q_full.data(), vocab, &pl.child_tok[c0], cnt,
                       a.drafts == UtilDrafts::WithoutReplacement, probs.data(), r, qwork);
    } else {
      processed_probs(row_data, a.target.dtype, vocab, n, rp.greedy, rp.temperature, rp.top_k, rp.top_p,
                      &pl.child_tok[c0], cnt, probs.data(), scratch);
    }
    for (int32_t j = 0; j < cnt; ++j) res.node_prob[pl.child_node[c0 + j]] = probs[j];
  }
  finish_tree_utils(a, pl, res);
  return res;
}

}  // namespace lw
