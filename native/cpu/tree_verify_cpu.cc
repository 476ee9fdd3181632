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
#include "../core/row_error.h"
#include "../core/tree_paths.h"
#include "../core/tree_verify.h"
#include "../core/tree_walk.h"
#include "row_simd.h"
#include "top_p_cpu.h"

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
    RowMax s = stats(pz_, g, "target");
    pm_ = s.max;
    parg_ = static_cast<int32_t>(s.arg);
    inv_t_ = 1.0f / a_.temperature[b_];
    tau_ = -INFINITY;
    xtau_ = INT_MAX;
    const int32_t k = a_.top_k[b_];
    const int64_t K = (k > 0 && k < V_) ? k : V_;
    const double P = a_.top_p[b_];
    filtered_ = K < V_ || P < 1.0;
    if (filtered_) select_kept(K, P);
    // Mass of every chunk relative to the row max (the sampler's first stage); Z is their sum.
    const int64_t nch = (V_ + tree::kChunk - 1) / tree::kChunk;
    pmass_.resize(nch);
    if (filtered_) {
      // Only the few tokens at or above the pivot can be kept; each chunk still sums in increasing id order.
      std::fill(pmass_.begin(), pmass_.end(), 0.0);
      idx_.clear();
      cpu::row_indices_at_least(pz_, V_, tau_, &idx_);
      for (int32_t x : idx_)
        if (kept(x)) pmass_[x / tree::kChunk] += std::exp((pz_[x] - pm_) * inv_t_);
    } else {
      for (int64_t c = 0; c < nch; ++c) {
        const int64_t lo = c * tree::kChunk;
        pmass_[c] = cpu::row_sum_exp(pz_ + lo, std::min<int64_t>(tree::kChunk, V_ - lo), pm_, inv_t_);
      }
    }
    double Z = 0.0;
    for (int64_t c = 0; c < nch; ++c) Z += pmass_[c];
    inv_z_ = static_cast<float>(1.0 / Z);
    inv_zd_ = 1.0 / Z;
  }

  bool kept(int32_t x) const {
    float z = pz_[x];
    return z > tau_ || (z == tau_ && x <= xtau_);
  }

  float p(int32_t x) const {
    if (!kept(x)) return 0.f;
    return std::exp((pz_[x] - pm_) * inv_t_) * inv_z_;
  }
  int32_t argmax_p() const { return parg_; }

  void prep_q(int32_t g) {
    qz_ = load(draft_, a_.draft, g, "draft");
    RowMax s = stats(qz_, g, "draft");
    qm_ = s.max;
    inv_zq_ = static_cast<float>(1.0 / cpu::row_sum_exp(qz_, V_, qm_, 1.0f));
  }
  float q(int32_t x) const { return std::exp(qz_[x] - qm_) * inv_zq_; }

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
    for (int32_t c = 0; c < nch; ++c) mass_[c] = r.use_q ? chunk_sum(c) : pmass_[c] * inv_zd_;
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
  const float* load(Row& row, const LogitsView& l, int32_t g, const char*) {
    if (row.g == g) return row.z;
    const char* base = static_cast<const char*>(l.mem.data) + static_cast<size_t>(g) * V_ * dtype_size(l.dtype);
    if (l.dtype == DType::F32) {
      row.z = reinterpret_cast<const float*>(base);
    } else {
      row.buf.resize(V_);
      cpu::row_to_float(base, l.dtype, V_, row.buf.data());
      row.z = row.buf.data();
    }
    row.g = g;
    return row.z;
  }

  RowMax stats(const float* z, int32_t g, const char* name) const {
    RowMax s = cpu::row_max(z, V_);
    if (s.nonfinite) throw_row_error(name, g, RowError::NonFinite);
    if (s.max == -INFINITY) throw_row_error(name, g, RowError::NoFiniteLogit);
    return s;
  }

  // Fast path of select_kept: the K0-th largest chunk max bounds the pivot from below, so the few tokens at or
  // above it hold the whole kept prefix (same idea as the CUDA kernel). False when that does not hold.
  // Z_all: Σ of every weight, used when K == V.
  bool select_fast(int64_t K, double P, double Z_all) {
    const int64_t nch = (V_ + tree::kChunk - 1) / tree::kChunk;
    const int64_t K0 = K < V_ ? K : std::min<int64_t>(nch, 32);
    if (K0 > nch) return false;
    cmax_.resize(nch);
    for (int64_t c = 0; c < nch; ++c)
      cmax_[c] = cpu::row_max(pz_ + c * tree::kChunk, std::min<int64_t>(tree::kChunk, V_ - c * tree::kChunk)).max;
    std::nth_element(cmax_.begin(), cmax_.begin() + (K0 - 1), cmax_.end(), std::greater<float>());
    const float tlo = cmax_[K0 - 1];
    if (tlo == -INFINITY) return false;
    idx_.clear();
    cpu::row_indices_at_least(pz_, V_, tlo, &idx_);
    const float* z = pz_;
    std::sort(idx_.begin(), idx_.end(), [z](int32_t a, int32_t b) { return z[a] > z[b] || (z[a] == z[b] && a < b); });
    auto w = [this](int32_t x) { return std::exp(static_cast<double>((pz_[x] - pm_) * inv_t_)); };
    const int64_t n = static_cast<int64_t>(idx_.size());
    const int64_t kk = K < V_ ? std::min<int64_t>(K, n) : n;
    int64_t piv = kk - 1;
    if (P < 1.0) {
      double ZK = 0.0;
      if (K < V_) for (int64_t i = 0; i < kk; ++i) ZK += w(idx_[i]);
      else ZK = Z_all;  // == row_sum_exp(pz_, V_, pm_, inv_t_)
      double cum = 0.0;
      bool found = false;
      for (int64_t i = 0; i < kk; ++i) {
        cum += w(idx_[i]);
        if (cum >= P * ZK) { piv = i; found = true; break; }
      }
      if (!found && K == V_) return false;
    }
    tau_ = z[idx_[piv]];
    xtau_ = idx_[piv];
    return true;
  }

  // Top-k then top-p kept set as a pivot (tau_, xtau_) in the order (logit desc, id asc).
  void select_kept(int64_t K, double P) {
    // Top-p alone (P < 1 here): the weights and their sum Z serve both the fast path and the bisection.
    double Z = 0.0;
    if (K == V_) {
      wbuf_.resize(V_);
      Z = cpu::row_weights(pz_, V_, pm_, inv_t_, wbuf_.data());
    }
    if (select_fast(K, P, Z)) return;
    if (K == V_) {
      cpu::TopPPivot pv;
      if (cpu::top_p_pivot(pz_, wbuf_.data(), V_, pm_, inv_t_, P, Z, top_p_, &pv)) {
        tau_ = pv.tau;
        xtau_ = pv.x;
        return;
      }
    }
    idx_.resize(V_);
    for (int32_t i = 0; i < V_; ++i) idx_[i] = i;
    const float* z = pz_;
    auto before = [z](int32_t x, int32_t y) { return z[x] > z[y] || (z[x] == z[y] && x < y); };
    auto w = [this](int32_t x) { return std::exp(static_cast<double>((pz_[x] - pm_) * inv_t_)); };
    if (K < V_) std::nth_element(idx_.begin(), idx_.begin() + (K - 1), idx_.end(), before);
    double ZK = 0.0;
    for (int64_t i = 0; i < K; ++i) ZK += w(idx_[i]);
    int32_t pivot = idx_[K - 1];
    if (P < 1.0) {
      const double target = P * ZK;
      double cum = 0.0;
      int64_t done = 0, chunk = 64;
      bool found = false;
      while (done < K && !found) {
        int64_t c = std::min(chunk, K - done);
        std::nth_element(idx_.begin() + done, idx_.begin() + done + (c - 1), idx_.begin() + K, before);
        std::sort(idx_.begin() + done, idx_.begin() + done + c, before);
        for (int64_t i = done; i < done + c; ++i) {
          cum += w(idx_[i]);
          if (cum >= target) { pivot = idx_[i]; found = true; break; }
        }
        done += c;
        chunk *= 2;
      }
      if (!found) pivot = idx_[K - 1];
    }
    tau_ = z[pivot];
    xtau_ = pivot;
  }

  const TreeVerifyArgs& a_;
  const TreePlan& plan_;
  const int64_t V_;
  int64_t b_ = 0;
  Row target_, draft_;
  std::vector<float> frozen_;
  std::vector<int32_t> idx_;
  std::vector<double> pmass_, mass_;
  std::vector<float> cmax_, wbuf_;
  cpu::TopPScratch top_p_;
  bool filtered_ = false;
  double inv_zd_ = 1.0;
  const float* pz_ = nullptr;
  float pm_ = 0.f, inv_t_ = 1.f, inv_z_ = 1.f, tau_ = -INFINITY;
  int32_t parg_ = 0, xtau_ = INT_MAX;
  const float* qz_ = nullptr;
  float qm_ = 0.f, inv_zq_ = 1.f;
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
