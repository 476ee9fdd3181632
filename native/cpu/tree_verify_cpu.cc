// CPU backend of verifyTree: requests in parallel on the pool; per request the shared walk (core/tree_walk.h)
// with lazy rows: only visited rows are converted and reduced, one row of scratch per worker.
#include <algorithm>
#include <climits>
#include <functional>
#include <cmath>
#include <string>
#include <vector>

#include "../core/error.h"
#include "../core/parallel.h"
#include "../core/processors.h"
#include "../core/row_error.h"
#include "../core/tree_paths.h"
#include "../core/tree_verify.h"
#include "../core/tree_walk.h"
#include "row_simd.h"
#include "kept_set.h"

namespace lw {
namespace {

using cpu::RowMax;
using tree::Best;
using tree::Residual;
using tree::RowKey;

struct Row {
  std::vector<float> buf;
  const float* z = nullptr;
  int32_t g = -1;
};

class CpuWalker {
 public:
  CpuWalker(const TreeVerifyArgs& a, const TreePlan& plan)
      : a_(a), plan_(plan), V_(a.target.vocab), frozen_(std::max<int32_t>(plan.max_children, 1)) {}

  void run(int64_t b, int32_t* nodes_out, int32_t* tokens_out, int32_t* count) {
    b_ = b;
    nodes_ = nodes_out;
    tokens_ = tokens_out;
    n_ = 0;
    const RowKey key = tree::request_key(a_.seed, a_.seeds, a_.step, a_.steps, b);
    tree::walk(*this, plan_.kind[b], a_.trees.offsets[b], plan_.child_start.data(), plan_.child_node.data(),
               plan_.child_token.data(), key);
    *count = n_;
  }

  // ---- Ops interface used by tree::walk ----
  int32_t argmax(int32_t g) {
    const float* z = load(target_, a_.target, g, "target");
    return static_cast<int32_t>(stats(z, g, "target").arg);
  }

  void prep_p(int32_t g) {
    pz_ = load(target_, a_.target, g, "target");
    p_ = cpu::select_kept(pz_, V_, stats(pz_, g, "target"), a_.sampling.at(b_), kept_scratch_);
  }

  float p(int32_t x) const {
    if (!p_.kept(x, pz_[x])) return 0.f;
    return p_.weight(pz_[x]) * p_.inv_sum_f;
  }
  int32_t argmax_p() const { return p_.argmax; }

  void prep_q(int32_t g) {
    qz_ = load(draft_, a_.draft, g, "draft");
    RowMax s = stats(qz_, g, "draft");
    q_max_ = s.max;
    q_inv_sum_ = static_cast<float>(1.0 / cpu::row_sum_exp(qz_, V_, q_max_, 1.0f));
  }
  float q(int32_t x) const { return std::exp(qz_[x] - q_max_) * q_inv_sum_; }

  double sum_generic(const Residual& r) const {
    double s = 0.0;
    for (int32_t x = 0; x < V_; ++x) s += value(x, r);
    return s;
  }

  // Generic residual of token x (q is only needed where p > 0: elsewhere max(p - D q, 0) = 0).
  float value(int32_t x, const Residual& r) const {
    const float px = p(x);
    return tree::generic_value(px, r.use_q && px > 0.f ? q(x) : 0.f, r);
  }

  int32_t race(const Residual& r, const RowKey& key) {
    const int32_t nch = static_cast<int32_t>((V_ + tree::kChunk - 1) / tree::kChunk);
    mass_.resize(nch);
    auto chunk_sum = [&](int32_t c) {
      const int32_t lo = c * tree::kChunk, hi = static_cast<int32_t>(std::min<int64_t>(V_, lo + tree::kChunk));
      double s = 0.0;
      for (int32_t x = lo; x < hi; ++x) s += tree::residual_value(x, value(x, r), r);
      return s;
    };
    const std::vector<double>& pmass = kept_scratch_.chunk_mass;
    for (int32_t c = 0; c < nch; ++c) mass_[c] = r.use_q ? chunk_sum(c) : pmass[c] * p_.inv_sum;
    for (int32_t i = 0; i < r.nx; ++i) {  // chunks holding special tokens: recompute exactly
      int32_t c = r.xs[i] / tree::kChunk;
      if (!r.use_q) mass_[c] = chunk_sum(c);
    }
    Best bc{0.f, INT_MAX};
    for (int32_t c = 0; c < nch; ++c) {
      float m = static_cast<float>(mass_[c]);
      if (!(m > 0.f)) continue;
      float k = m / tree::chunk_exponential(key, c);
      if (tree::better(k, c, bc)) bc = Best{k, c};
    }
    if (!(bc.key > 0.f)) return -1;
    const int32_t lo = bc.token * tree::kChunk, hi = static_cast<int32_t>(std::min<int64_t>(V_, lo + tree::kChunk));
    Best bt{0.f, INT_MAX};
    philox::Out4 bits{};
    uint32_t cached = UINT_MAX;
    for (int32_t x = lo; x < hi; ++x) {
      float v = tree::residual_value(x, value(x, r), r);
      if (!(v > 0.f)) continue;
      const uint32_t blk = static_cast<uint32_t>(x) >> 2;
      if (blk != cached) { bits = tree::sample_bits(key, blk); cached = blk; }
      float k = v / philox::exponential(bits.v[x & 3]);
      if (tree::better(k, x, bt)) bt = Best{k, x};
    }
    return bt.key > 0.f ? bt.token : -1;
  }

  float* frozen() { return frozen_.data(); }
  void emit(int32_t local, int32_t token) {
    nodes_[n_] = local;
    tokens_[n_] = token;
    ++n_;
  }

 private:
  // Row g as float (converted when not float32), with the request's logits processors applied when the call
  // has any (then always into the row's own buffer; the caller's memory is never written).
  const float* load(Row& row, const LogitsView& l, int32_t g, const char*) {
    if (row.g == g) return row.z;
    const char* base = static_cast<const char*>(l.mem.data) + static_cast<size_t>(g) * V_ * dtype_size(l.dtype);
    const ProcessorPlan& pp = plan_.processors;
    if (l.dtype == DType::F32 && !pp.active) {
      row.z = reinterpret_cast<const float*>(base);
    } else {
      row.buf.resize(V_);
      if (l.dtype == DType::F32) std::copy_n(reinterpret_cast<const float*>(base), V_, row.buf.data());
      else cpu::row_to_float(base, l.dtype, V_, row.buf.data());
      if (pp.active) apply_processors(pp, a_.trees, b_, g, row.buf.data(), V_, path_toks_, path_counts_);
      row.z = row.buf.data();
    }
    row.g = g;
    return row.z;
  }

  RowMax stats(const float* z, int32_t g, const char* name) const {
    RowMax s = cpu::row_max(z, V_);
    if (s.nonfinite) throw_row_error(name, g, RowError::NonFinite);
    if (s.max == -INFINITY)
      throw_row_error(name, g, plan_.processors.active ? RowError::NoAllowedToken : RowError::NoFiniteLogit);
    return s;
  }

  const TreeVerifyArgs& a_;
  const TreePlan& plan_;
  const int64_t V_;
  int64_t b_ = 0;
  Row target_, draft_;
  std::vector<float> frozen_;
  std::vector<double> mass_;    // race: residual mass per chunk
  const float* pz_ = nullptr;   // target row of the prepared node
  cpu::KeptSet p_;              // its processed distribution
  cpu::KeptScratch kept_scratch_;
  const float* qz_ = nullptr;   // draft row: q(x) = exp(qz_[x] - q_max_) * q_inv_sum_
  float q_max_ = 0.f, q_inv_sum_ = 1.f;
  std::vector<int32_t> path_toks_, path_counts_;  // processors: the path tokens of the loaded row
  int32_t* nodes_ = nullptr;
  int32_t* tokens_ = nullptr;
  int32_t n_ = 0;
};

}  // namespace

TreeVerifyResult verify_tree_cpu(const TreeVerifyArgs& a, const TreePlan& plan) {
  const TuningScope tuning(a.tuning);  // the call's SIMD cap, seen by every pool thread it uses
  const int64_t B = a.trees.batch;
  const int32_t* at = plan.path_offset.data();
  std::vector<int32_t> nodes(at[B]), tokens(at[B]), count(B);
  // Big rows cost ~V work per visited node; small ones are cheap enough to batch many requests per task.
  const size_t grain = std::max<size_t>(1, static_cast<size_t>(16384 / std::max<int64_t>(1, a.target.vocab)));
  parallel_for(static_cast<size_t>(B), grain, [&](size_t lo, size_t hi) {
    CpuWalker w(a, plan);
    for (size_t b = lo; b < hi; ++b) {
      if ((b & 63) == 0) a.cancel.check();
      w.run(static_cast<int64_t>(b), &nodes[at[b]], &tokens[at[b]], &count[b]);
    }
  });
  return compact_paths(nodes.data(), tokens.data(), count.data(), plan.path_offset, B);
}

}  // namespace lw
