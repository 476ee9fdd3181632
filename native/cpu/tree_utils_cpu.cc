// CPU kernel of the tree utilities: the processed target probability of every child token, rows in parallel.
// The kept set is verifyTree's (cpu/kept_set.h), so both keep the same tokens; the reported probabilities use
// double weights over it (float exponentials would cost ~1e-6 relative at large logit gaps).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "core/processors.h"
#include "core/row_error.h"
#include "core/tree_utils.h"
#include "kept_set.h"
#include "row_simd.h"

namespace lw {

namespace {

const float kInfF = std::numeric_limits<float>::infinity();

struct Scratch {
  std::vector<unsigned char> host;
  std::vector<float> z;
  cpu::KeptScratch kept;
  std::vector<int32_t> toks, counts;  // processors: path tokens
};

[[noreturn]] void bad_row(int64_t row, const std::string& what) {
  throw_range("target logits row " + std::to_string(row) + " " + what +
              " (logits must be finite or -inf, with at least one finite value)");
}

void row_probs(const float* z, int64_t V, int64_t row, bool greedy, const SamplingRow& sr, const int32_t* tokens,
               int64_t count, double* out, Scratch& sc, bool processed) {
  const cpu::RowMax mx = cpu::row_max(z, V);
  if (mx.nonfinite) {
    for (int64_t x = 0; x < V; ++x)
      if (!(z[x] < kInfF)) bad_row(row, "has NaN or +inf at token " + std::to_string(x));
  }
  if (mx.max == -kInfF) {
    if (processed) throw_row_error("target", row, RowError::NoAllowedToken);
    bad_row(row, "is all -inf");
  }
  if (greedy) {
    for (int64_t i = 0; i < count; ++i) out[i] = tokens[i] == mx.arg ? 1.0 : 0.0;
    return;
  }
  const cpu::KeptSet k = cpu::select_kept(z, V, mx, sr, sc.kept);
  const float m = k.max;
  const double inv_t = 1.0 / sr.temperature;
  auto weight = [&](int32_t x) { return std::exp((static_cast<double>(z[x]) - m) * inv_t); };
  double inv_mass = k.inv_sum;
  if (k.filtered) {
    // The kept tokens are the few select_kept left in sc.kept.ids: their mass in double.
    double mass = 0.0;
    for (int32_t x : sc.kept.ids)
      if (k.kept(x, z[x])) mass += weight(x);
    inv_mass = 1.0 / mass;
  }
  for (int64_t i = 0; i < count; ++i) {
    const int32_t x = tokens[i];
    out[i] = k.kept(x, z[x]) ? weight(x) * inv_mass : 0.0;
  }
}

}  // namespace

TreeUtilsResult tree_utils(const TreeUtilsArgs& a) {
  const TreeUtilsPlan pl = plan_tree_utils(a);
  TreeUtilsResult res;
  const TreePlan& tp = pl.tree;
  res.node_prob.assign(static_cast<size_t>(tp.nodes), 1.0);
  const int64_t V = a.target.vocab;
  const bool with_q = a.drafts != DraftKind::Deterministic;
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
      const int64_t b = tp.tree_of[n];
      const RowProcessors rp{&tp.processors, &a.trees, b};
      const RowProcessors* proc = tp.processors.active ? &rp : nullptr;
      if (a.target.dtype != DType::F32 || proc) {
        sc.z.resize(static_cast<size_t>(V));
        if (a.target.dtype == DType::F32) std::copy_n(z, V, sc.z.data());
        else cpu::row_to_float(data, a.target.dtype, V, sc.z.data());
        if (proc) apply_processors(tp.processors, a.trees, b, n, sc.z.data(), V, sc.toks, sc.counts);
        z = sc.z.data();
      }
      const SamplingRow sr = a.sampling.at(b);
      const bool greedy = a.sampling.greedy_at(b);
      const int32_t c0 = tp.child_start[n], cnt = tp.child_start[n + 1] - c0;
      probs.resize(static_cast<size_t>(cnt));
      if (with_q && !greedy) {
        p_full.resize(static_cast<size_t>(V));
        q_full.resize(static_cast<size_t>(V));
        row_probs(z, V, n, false, sr, all.data(), V, p_full.data(), sc, proc != nullptr);
        softmax_row(host_row(a.draft, n, qbuf), a.draft.dtype, V, n, q_full.data(), proc);
        rrs_accept_probs(p_full.data(), q_full.data(), V, &tp.child_token[c0], cnt,
                         a.drafts == DraftKind::WithoutReplacement, probs.data(), r, qwork);
      } else {
        row_probs(z, V, n, greedy, sr, &tp.child_token[c0], cnt, probs.data(), sc, proc != nullptr);
      }
      for (int32_t j = 0; j < cnt; ++j) res.node_prob[tp.child_node[c0 + j]] = probs[j];
    }
  });
  finish_tree_utils(a, pl, res);
  return res;
}

}  // namespace lw
