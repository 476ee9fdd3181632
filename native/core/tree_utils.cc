#include "tree_utils.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "device.h"
#include "error.h"
#include "processors.h"
#include "row_error.h"

namespace lw {

namespace {

const double kNegInf = -std::numeric_limits<double>::infinity();

[[noreturn]] void bad_row(int64_t row, const std::string& what) {
  throw_range("target logits row " + std::to_string(row) + " " + what +
              " (logits must be finite or -inf, with at least one finite value)");
}

}  // namespace

void processed_probs(const void* row_data, DType dtype, int64_t vocab, int64_t row, bool greedy,
                     const SamplingRow& sr, const int32_t* tokens, int64_t count, double* out, RowScratch& scratch,
                     const RowProcessors* proc) {
  std::vector<double>& z = scratch.z;
  z.resize(static_cast<size_t>(vocab));
  double m = kNegInf;
  for (int64_t x = 0; x < vocab; ++x) {
    z[x] = load_as_float(row_data, dtype, x);
    if (std::isnan(z[x]) || z[x] == std::numeric_limits<double>::infinity())
      bad_row(row, "has NaN or +inf at token " + std::to_string(x));
    m = std::max(m, z[x]);
  }
  if (m == kNegInf) bad_row(row, "is all -inf");
  if (proc) {
    std::vector<int32_t> toks, counts;
    apply_processors(*proc->plan, *proc->trees, proc->b, row, z.data(), vocab, toks, counts);
    if (*std::max_element(z.begin(), z.end()) == kNegInf) throw_row_error("target", row, RowError::NoAllowedToken);
  }
  processed_distribution(z, sr, greedy, scratch.p);
  for (int64_t i = 0; i < count; ++i) out[i] = scratch.p[tokens[i]];
}

void softmax_row(const void* row_data, DType dtype, int64_t vocab, int64_t row, double* out,
                 const RowProcessors* proc) {
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
  if (proc) {
    std::vector<int32_t> toks, counts;
    apply_processors(*proc->plan, *proc->trees, proc->b, row, out, vocab, toks, counts);
    m = *std::max_element(out, out + vocab);
    if (m == kNegInf) throw_row_error("draft", row, RowError::NoAllowedToken);
  }
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

TreeUtilsPlan plan_tree_utils(const TreeUtilsArgs& a) {
  const TreeBatchView& t = a.trees;
  validate_offsets(t);
  const int64_t nodes = t.offsets[t.batch];
  if (a.target.rows != nodes)
    throw_range("target must have one row per tree node: rows = " + std::to_string(a.target.rows) + ", nodes = " +
                std::to_string(nodes));
  const int64_t vocab = a.target.vocab;
  if (vocab < 1) throw_range("target.vocab must be >= 1");
  if (a.want_reward && !(a.eta > 0 && std::isfinite(a.eta))) throw_range("eta must be a finite number > 0");
  if (a.drafts != DraftKind::Deterministic && (a.draft.rows != nodes || a.draft.vocab != vocab))
    throw_range("draft must have one row per tree node and the target's vocabulary (" + std::to_string(nodes) +
                " × " + std::to_string(vocab) + "), got " + std::to_string(a.draft.rows) + " × " +
                std::to_string(a.draft.vocab));
  validate_sampling(a.sampling, t.batch);
  TreeUtilsPlan pl;
  pl.tree = plan_trees(t, vocab, a.drafts == DraftKind::Iid);
  for (int64_t n = 0; n < nodes; ++n)
    if (pl.tree.child_start[n + 1] > pl.tree.child_start[n]) pl.rows.push_back(static_cast<int32_t>(n));
  pl.tree.processors = plan_processors(a.sampling.processors, t, vocab);
  if (pl.tree.processors.mask_on_device)
    throw_range("opts.allowedTokens: the tree utilities run on the host and take a Uint32Array mask, not a DeviceTensor");
  return pl;
}

void finish_tree_utils(const TreeUtilsArgs& a, const TreeUtilsPlan& pl, TreeUtilsResult& res) {
  const TreeBatchView& t = a.trees;
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
      if (pl.tree.unreachable[o + i]) res.node_prob[o + i] = 0.0;  // a placeholder (or below one): never accepted
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
      if (!pl.tree.unreachable[o + i] && pl.tree.child_start[o + i + 1] == pl.tree.child_start[o + i]) leaf_l.push_back(a.eta * path_sum[i]), mx = std::max(mx, leaf_l.back());
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
  const TreePlan& tp = pl.tree;
  TreeUtilsResult res;
  res.node_prob.assign(static_cast<size_t>(tp.nodes), 1.0);
  const int64_t vocab = a.target.vocab;
  RowScratch scratch;
  std::vector<unsigned char> qbuf;
  std::vector<double> probs, p_full, q_full, r, qwork;
  std::vector<int32_t> all;
  for (int32_t n : pl.rows) {
    a.cancel.check();
    const void* row_data = host_row(a.target, n, scratch.host);
    const int64_t b = tp.tree_of[n];
    const SamplingRow sr = a.sampling.at(b);
    const bool greedy = a.sampling.greedy_at(b);
    const RowProcessors rp{&tp.processors, &a.trees, b};
    const RowProcessors* proc = tp.processors.active ? &rp : nullptr;
    const int32_t c0 = tp.child_start[n], cnt = tp.child_start[n + 1] - c0;
    probs.resize(static_cast<size_t>(cnt));
    if (a.drafts != DraftKind::Deterministic && !greedy) {
      if (all.empty())
        for (int32_t x = 0; x < vocab; ++x) all.push_back(x);
      p_full.resize(static_cast<size_t>(vocab));
      q_full.resize(static_cast<size_t>(vocab));
      processed_probs(row_data, a.target.dtype, vocab, n, false, sr, all.data(), vocab, p_full.data(), scratch,
                      proc);
      softmax_row(host_row(a.draft, n, qbuf), a.draft.dtype, vocab, n, q_full.data(), proc);
      rrs_accept_probs(p_full.data(), q_full.data(), vocab, &tp.child_token[c0], cnt,
                       a.drafts == DraftKind::WithoutReplacement, probs.data(), r, qwork);
    } else {
      processed_probs(row_data, a.target.dtype, vocab, n, greedy, sr, &tp.child_token[c0], cnt, probs.data(),
                      scratch, proc);
    }
    for (int32_t j = 0; j < cnt; ++j) res.node_prob[tp.child_node[c0 + j]] = probs[j];
  }
  finish_tree_utils(a, pl, res);
  return res;
}

}  // namespace lw
