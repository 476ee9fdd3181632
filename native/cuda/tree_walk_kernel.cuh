// verifyTree CUDA: the walk kernel. BlockOps implements the Ops of the shared walk (core/tree_walk.h) for one
// block of a request's cluster: row passes over the block's chunk range, per-chunk results gathered through
// distributed shared memory, then the same decisions in every block. Included by tree_verify.cu only.
#pragma once
#include "processors.cuh"
#include "tree_rows.cuh"

namespace lw {
namespace cuda {
namespace tv {

// ---------------------------------------------------------------- the block's Ops for tree::walk
// Applies the logits processors of one row to each chunk a lane loads (processors.cuh): the chunk's index words
// are loaded with its values, one per lane.
template <int D>
struct RowFix {
  using Pre = ChunkWords;
  const ProcRow* r;
  int64_t words;
  __device__ Pre load(int32_t c) const { return chunk_words(*r, c, words); }
  __device__ void operator()(int32_t, const Pre& q, float* v) const {
    using L = ChunkLayout<D>;
    const int lane = threadIdx.x & 31;
#pragma unroll
    for (int k = 0; k < L::SUB; ++k) chunk_words_apply<L::E>(*r, q, k * L::WT + lane * L::E, v + k * L::E);
  }
};

// PROC: the call has logits processors (processors.cuh), applied to every value the passes load; the processed
// values are floats, so the radix select then keys them as float32 (KE) whatever the rows' dtype DT.
template <int DT, bool PROC = false>
struct BlockOps {
  using KE = Elt<PROC ? 0 : DT>;  // the select's key type
  const Params& P;
  Shared& sh;
  ChunkStat* cs;        // [nch] chunk stats of the current row
  float* pmass;         // [nch] chunk masses of p (relative to row max; multiply by kept_set.inv_sum)
  float* rmass;         // [nch] residual chunk masses
  int32_t* hist;        // [256]
  unsigned long long* hmass;  // [256]
  float* frozen_;       // [max_children]
  float* cz;            // [kCand] select candidates (logit, id), then ranked (sz, si)
  int32_t* ci;
  float* sz;
  int32_t* si;
  int64_t b;
  int32_t nch;
  int64_t V;
  int rank, ncl;   // this block's place in the request's cluster
  int32_t c0, c1;  // its chunk range
  int32_t path_at, path_end;  // this request's output slots
  // p row: the prepared target row and its kept set (the CPU's cpu::KeptSet fields)
  const void* prow = nullptr;
  KeptSet kept_set;
  // q row: q(x) = exp(z_q[x] - q_max) * q_inv_sum
  const void* qrow = nullptr;
  float q_max = 0.f, q_inv_sum = 1.f;
  int32_t n = 0;
  DeviceProcessors* proc = nullptr;  // PROC only: the block's shared copy (its tables, path counts)
  ProcRow* prp = nullptr;                  // PROC: the processors of the p row and of the q row (shared memory:
  ProcRow* prq = nullptr;                  // they stay out of the registers the passes need)

  __device__ const void* row_ptr(const void* base, int dt, int32_t g) const {
    return static_cast<const uint8_t*>(base) + static_cast<int64_t>(g) * V * elem_bytes(static_cast<DType>(dt));
  }
  __device__ const void* target_row(int32_t g) {
    const void* row = row_ptr(P.target, DT, g);
    if constexpr (PROC) set_row<DT>(prp, g, row, proc->tab_p);
    return row;
  }
  // The walk moves to row g (of dtype D): the path counts, the row's table of flagged values, then (thread 0) its
  // shared ProcRow; no thread may still read the previous ones.
  template <int D>
  __device__ void set_row(ProcRow* r, int32_t g, const void* row, float* tab) {
    __syncthreads();
    if (proc->any) {
      proc_path_counts(*proc, b, g);
      proc_fill_table<D>(*proc, b, row, tab);
    }
    if (threadIdx.x == 0) *r = proc_row(*proc, b, g, tab);
    __syncthreads();
  }
  // Value x of the p row (q row) as the walk sees it: processed under PROC.
  __device__ float zp(int64_t x) const {
    float z = Elt<DT>::load(prow, x);
    if constexpr (PROC) z = proc_value(*prp, x, z);
    return z;
  }
  __device__ uint32_t key_p(int64_t x) const {
    if constexpr (PROC) return KE::key_of(zp(x));
    else return Elt<DT>::key(prow, x);
  }
  // Chunks [c0, c1) of a row of dtype D through f(c, v), processed by r under PROC.
  template <int D, class F>
  __device__ void chunks(const void* row, const ProcRow* r, F&& f) {
    if constexpr (PROC) warp_chunks_fixed<D, 1>(row, c0, c1, V, RowFix<D>{r, proc->words}, f);  // one chunk in flight: registers
    else warp_chunks<D>(row, c0, c1, V, f);
  }

  __device__ void fail(int code, int32_t g) {
    if (threadIdx.x == 0 && rank == 0) atomicCAS(P.err, 0, code), P.err[1] = g;
  }

  // After each block filled a[c] for its own chunks: copy the other blocks' ranges in, so every block holds
  // the whole array. Ends with a cluster barrier (no block overwrites a before its peers have read it).
  template <class T>
  __device__ void gather(T* a) {
    LW_PROF(9);
    cluster_sync(ncl);
    if (ncl == 1) return;
    // One sweep over every chunk the block does not own (independent remote loads), owner found by stepping.
    int r = 0;
    for (int32_t c = threadIdx.x; c < nch; c += NT) {
      while (c >= range_first(nch, r + 1, ncl)) ++r;
      if (r != rank) a[c] = cluster_peer(a, r, ncl)[c];
    }
    cluster_sync(ncl);
  }

  // Row max / first argmax / bad flag over the chunk stats (filled by a pass, or copied from `pre`).
  template <int D2, bool EXP>
  __device__ ChunkStat row_stats(const void* row, const ChunkStat* pre, float it, const ProcRow* r) {
    LW_PROF(0);
    if (pre) {
      for (int32_t c = threadIdx.x; c < nch; c += NT) cs[c] = pre[c];
      __syncthreads();
    } else {
      {
        LW_PROF(10);
        if constexpr (PROC) chunk_pass<D2, EXP, 1>(row, V, c0, c1, it, cs, RowFix<D2>{r, proc->words});
        else chunk_pass<D2, EXP>(row, V, c0, c1, it, cs);
      }
      gather(cs);
    }
    float m = -INFINITY;
    int32_t arg = 0x7fffffff, bad = 0;
    for (int32_t c = threadIdx.x; c < nch; c += NT) {
      bad |= cs[c].bad;
      if (cs[c].max > m || (cs[c].max == m && cs[c].arg < arg)) { m = cs[c].max; arg = cs[c].arg; }
    }
    bad = block_or(bad, sh);
    float bm;
    arg = block_best(m, arg, sh, &bm);
    return ChunkStat{bm, 0.f, arg, bad};
  }

  // pmass[c] = mass of chunk c relative to the row max; returns Σ (fixed order).
  __device__ double chunk_masses(float m, float it) {
    double z = 0.0;
    for (int32_t c = threadIdx.x; c < nch; c += NT) {
      float v = cs[c].max == -INFINITY ? 0.f : cs[c].sum * __expf((cs[c].max - m) * it);
      pmass[c] = v;
      z += v;
    }
    return block_sum(z, sh);
  }

  __device__ int32_t argmax(int32_t g) {
    const void* row = target_row(g);
    ChunkStat a = row_stats<DT, false>(row, P.pre_t ? P.pre_t + static_cast<int64_t>(g) * nch : nullptr, 1.f, prp);
    __syncthreads();
    if (a.bad) fail(1, g);
    else if (a.max == -INFINITY) fail(2, g);
    return a.arg < V ? a.arg : 0;
  }

  __device__ void prep_p(int32_t g) {
    LW_PROF(1);
#ifdef LW_TREE_PROFILE
    if (threadIdx.x == 0 && blockIdx.x == 0) atomicAdd(&g_prof[15], 1ull);
#endif  // LW_TREE_PROFILE
    prow = target_row(g);
    const KeptRule rule = P.rules[b];
    kept_set.inv_t = 1.f / rule.temperature;
    ChunkStat a = row_stats<DT, true>(prow, P.pre_t ? P.pre_t + static_cast<int64_t>(g) * nch : nullptr, kept_set.inv_t,
                                      prp);
    if (a.bad) fail(1, g);
    else if (a.max == -INFINITY) fail(2, g);
    kept_set.max = a.max;
    kept_set.argmax = a.arg < V ? a.arg : 0;
    kept_set.pivot_logit = -INFINITY;
    kept_set.pivot_id = 0x7fffffff;
    const double Z = kept_cut(*this, rule, kept_set, V);
    kept_set.inv_sum = 1.0 / Z;
    kept_set.inv_sum_f = static_cast<float>(kept_set.inv_sum);
    __syncthreads();
  }

  __device__ bool kept(int32_t x, float z) const { return kept_set.kept(x, z); }
  __device__ float p_of(int32_t x, float z) const {
    return kept(x, z) ? __expf((z - kept_set.max) * kept_set.inv_t) * kept_set.inv_sum_f : 0.f;
  }
  __device__ float p(int32_t x) const { return p_of(x, zp(x)); }
  __device__ int32_t argmax_p() const { return kept_set.argmax; }

  template <int DQ>
  __device__ float qat(int64_t x) const {
    float z = Elt<DQ>::load(qrow, x);
    if constexpr (PROC) z = proc_value(*prq, x, z);
    return z;
  }
  __device__ float qz(int64_t x) const {
    return with_dtype_code(P.dt_q, [&](auto q) { return qat<decltype(q)::value>(x); });
  }
  __device__ float q(int32_t x) const { return __expf(qz(x) - q_max) * q_inv_sum; }

  __device__ void prep_q(int32_t g) {
    qrow = row_ptr(P.draft, P.dt_q, g);
    if constexpr (PROC) with_dtype_code(P.dt_q, [&](auto q) { set_row<decltype(q)::value>(prq, g, qrow, proc->tab_q); });
    const ChunkStat* pre = P.pre_q ? P.pre_q + static_cast<int64_t>(g) * nch : nullptr;
    // The one dtype dispatch (cuda/dtype.cuh); the lambda stores into `a` rather than returning the ChunkStat.
    ChunkStat a;
    with_dtype_code(P.dt_q, [&](auto q) { a = row_stats<decltype(q)::value, true>(qrow, pre, 1.f, prq); });
    if (a.bad) fail(3, g);
    else if (a.max == -INFINITY) fail(4, g);
    q_max = a.max;
    double zq = 0.0;
    for (int32_t c = threadIdx.x; c < nch; c += NT)
      if (cs[c].max != -INFINITY) zq += cs[c].sum * __expf((cs[c].max - q_max));
    q_inv_sum = static_cast<float>(1.0 / block_sum(zq, sh));
  }

  // Σ over chunk c's tokens of the generic residual, per chunk into rmass; returns the total.
  template <int DQ>
  __device__ double residual_pass_q(const Residual& r) {
    LW_PROF(2);
    using L = ChunkLayout<DT>;
    const int lane = threadIdx.x & 31;
    const bool qvec = (reinterpret_cast<uintptr_t>(qrow) & 15) == 0;
    chunks<DT>(prow, prp, [&](int32_t c, const float* v) {
      float s = 0.f;
#pragma unroll
      for (int k = 0; k < L::SUB; ++k) {
        const int64_t i = L::token(c, lane, k * L::E);
        float qv[L::E];
        if (r.use_q) {
          load_run<DQ, L::E>(qrow, i, V, qvec, qv);
          if constexpr (PROC) proc_run<L::E>(*prq, i, V, qv);
        }
#pragma unroll
        for (int e = 0; e < L::E; ++e) {
          const int64_t x = i + e;
          if (x < V) {
            const float px = p_of(static_cast<int32_t>(x), v[k * L::E + e]);
            s += tree::generic_value(px, r.use_q && px > 0.f ? __expf(qv[e] - q_max) * q_inv_sum : 0.f, r);
          }
        }
      }
      s = warp_sum(s);
      if (lane == 0) rmass[c] = s;
    });
    gather(rmass);
    double t = 0.0;
    for (int32_t c = 0; c < nch; ++c) t += rmass[c];
    __syncthreads();
    return t;
  }
  __device__ double residual_pass(const Residual& r) {
    if (!r.use_q) return residual_pass_q<0>(r);
    return with_dtype_code(P.dt_q, [&](auto q) { return residual_pass_q<decltype(q)::value>(r); });
  }

  __device__ double sum_generic(const Residual& r) { return residual_pass(r); }

  __device__ float value(int32_t x, const Residual& r) const {
    return tree::residual_value(x, tree::generic_value(p(x), r.use_q ? q(x) : 0.f, r), r);
  }

  __device__ int32_t race(const Residual& r, const RowKey& key) {
    LW_PROF(3);
    if (r.use_q) residual_pass(r);
    else {
      for (int32_t c = threadIdx.x; c < nch; c += NT) rmass[c] = static_cast<float>(pmass[c] * kept_set.inv_sum);
      __syncthreads();
    }
    // Chunks holding special tokens: exact sums with the special values, block-cooperative in a fixed order
    // (thread t sums tokens t, t + NT, ... of the chunk; warps fold by xor, then in warp order). Up to 32
    // distinct chunks are summed in one sweep so their loads overlap; more go one chunk at a time.
    {
      LW_PROF(11);
      int32_t* sc = hist;                                  // distinct special chunks (the select's scratch)
      double* wp = reinterpret_cast<double*>(hmass);       // [NW][32] warp partials
      if (threadIdx.x == 0) {
        int32_t ns = 0;
        for (int32_t i = 0; i < r.nx; ++i) {
          const int32_t c = r.xs[i] / C;
          bool seen = false;
          for (int32_t j = 0; j < ns && !seen; ++j) seen = sc[j] == c;
          if (!seen) {
            if (ns == 256) { ns = -1; break; }  // too many: one chunk at a time below
            sc[ns++] = c;
          }
        }
        sh.flag = ns;
      }
      __syncthreads();
      const int32_t ns = sh.flag;
      if (ns < 0) {
        for (int32_t i = 0; i < r.nx; ++i) {
          const int32_t c = r.xs[i] / C;
          bool seen = false;
          for (int32_t j = 0; j < i; ++j) seen |= r.xs[j] / C == c;
          if (seen) continue;
          double t = 0.0;
          for (int32_t x = c * C + threadIdx.x; x < imin64(V, static_cast<int64_t>(c + 1) * C); x += NT) t += value(x, r);
          t = block_sum(t, sh);
          if (threadIdx.x == 0) rmass[c] = static_cast<float>(t);
          __syncthreads();
        }
      }
      const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
      for (int32_t q0 = 0; q0 < ns; q0 += 32) {
        const int32_t nq = ns - q0 < 32 ? ns - q0 : 32;
        for (int32_t q = 0; q < nq; ++q) {
          const int32_t c = sc[q0 + q];
          double s = 0.0;
          for (int32_t x = c * C + threadIdx.x; x < imin64(V, static_cast<int64_t>(c + 1) * C); x += NT)
            s += value(x, r);
          for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
          if (lane == 0) wp[warp * 32 + q] = s;
        }
        __syncthreads();
        if (threadIdx.x < nq) {
          double t = 0.0;
          for (int w = 0; w < NW; ++w) t += wp[w * 32 + threadIdx.x];
          rmass[sc[q0 + threadIdx.x]] = static_cast<float>(t);
        }
        __syncthreads();
      }
    }
    float bk = 0.f;
    int32_t bc = 0x7fffffff;
    for (int32_t c = threadIdx.x; c < nch; c += NT) {
      float m = rmass[c];
      if (!(m > 0.f)) continue;
      float k = m / tree::chunk_exponential(key, c);
      if (k > bk || (k == bk && c < bc)) { bk = k; bc = c; }
    }
    float wk;
    int32_t chunk = block_best(bk, bc, sh, &wk);
    if (!(wk > 0.f)) return -1;
    LW_PROF(12);
    float tk = 0.f;
    int32_t tb = 0x7fffffff;
    const int64_t lo = static_cast<int64_t>(chunk) * C, hi = imin64(V, lo + C);
    for (int64_t x = lo + threadIdx.x; x < hi; x += NT) {
      float v = value(static_cast<int32_t>(x), r);
      if (!(v > 0.f)) continue;
      float k = v / tree::token_exponential(key, static_cast<int32_t>(x));
      if (k > tk || (k == tk && x < tb)) { tk = k; tb = static_cast<int32_t>(x); }
    }
    float best;
    int32_t y = block_best(tk, tb, sh, &best);
    return best > 0.f ? y : -1;
  }

  __device__ float* frozen() { return frozen_; }

  __device__ void emit(int32_t local, int32_t token) {
    if (threadIdx.x == 0 && rank == 0 && path_at + n < path_end) {
      P.out[path_at + n] = local;
      P.out[P.total_path + path_at + n] = token;
    }
    ++n;
  }

  // ---- top-k / top-p: pivot (kept_set.pivot_logit, kept_set.pivot_id) = the K'-th token in (logit desc, id asc) order.
  __device__ unsigned long long fixed_mass(float z) const {
    return static_cast<unsigned long long>(static_cast<double>(__expf((z - kept_set.max) * kept_set.inv_t)) * kFix);
  }

  // One radix level over tokens whose key matches `prefix` on the bits above `shift + 8`. Each thread keeps kHist
  // loads in flight (the pass is latency-bound otherwise); a token's mass comes from its key (exact: the key is the
  // value's bits).
  static constexpr int kHist = 8;
  __device__ void histogram(uint32_t prefix, int shift, bool with_mass) {
    for (int i = threadIdx.x; i < 256; i += NT) { hist[i] = 0; hmass[i] = 0ull; }
    __syncthreads();
    const int top = shift + 8;
    const int lane = threadIdx.x & 31;
    for (int64_t base = threadIdx.x - lane; base < V; base += kHist * NT) {  // warp-uniform
      uint32_t u[kHist];
#pragma unroll
      for (int h = 0; h < kHist; ++h) {
        const int64_t x = base + h * NT + lane;
        u[h] = x < V ? key_p(x) : 0u;
      }
#pragma unroll
      for (int h = 0; h < kHist; ++h) {
        const int64_t x = base + h * NT + lane;
        int bin = -1;
        unsigned long long m = 0ull;
        if (x < V && (top >= 32 || (u[h] >> top) == (prefix >> top))) {
          bin = static_cast<int>((u[h] >> shift) & 255);
          if (with_mass) m = fixed_mass(KE::from_key(u[h]));
        }
        hist_add(bin, m, with_mass);
      }
    }
    __syncthreads();
  }
  // Adds each lane's (bin, mass) (bin < 0: none). A flat row puts most of a warp in a few bins, where per-lane
  // atomics serialise: the lanes of a bin add once, for up to 4 bins; the rest add alone. Integer sums: the result
  // does not depend on the grouping.
  __device__ void hist_add(int bin, unsigned long long m, bool with_mass) {
    const int lane = threadIdx.x & 31;
    unsigned todo = __ballot_sync(0xffffffffu, bin >= 0);
    for (int round = 0; todo && round < 4; ++round) {
      const int lead = __ffs(todo) - 1;
      const int lb = __shfl_sync(0xffffffffu, bin, lead);
      const unsigned peers = __ballot_sync(0xffffffffu, bin == lb);
      unsigned long long sm = bin == lb ? m : 0ull;
      if (with_mass)
        for (int o = 16; o > 0; o >>= 1) sm += __shfl_xor_sync(0xffffffffu, sm, o);
      if (lane == lead) {
        atomicAdd(&hist[lb], __popc(peers));
        if (with_mass) atomicAdd(&hmass[lb], sm);
      }
      todo &= ~peers;
    }
    if ((todo >> lane) & 1u) {
      atomicAdd(&hist[bin], 1);
      if (with_mass) atomicAdd(&hmass[bin], m);
    }
  }

  // Index of the j-th (1-based) lowest id whose key is `u`: tiles of kHist · NT tokens, thread t holding tokens
  // [t·kHist, t·kHist + kHist) of a tile, its hits ranked by a block scan.
  __device__ int32_t nth_tie(uint32_t u, int64_t j) {
    int64_t seen = 0;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int64_t base = 0; base < V; base += kHist * NT) {
      const int64_t x0 = base + static_cast<int64_t>(threadIdx.x) * kHist;
      unsigned hits = 0;
#pragma unroll
      for (int h = 0; h < kHist; ++h)
        if (x0 + h < V && key_p(x0 + h) == u) hits |= 1u << h;
      int32_t c = __popc(hits), incl = c;
      for (int o = 1; o < 32; o <<= 1) {
        const int32_t y = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= o) incl += y;
      }
      __syncthreads();
      if (lane == 31) sh.i[warp] = incl;
      __syncthreads();
      int64_t before = seen + incl - c, total = seen;
      for (int w = 0; w < NW; ++w) {
        if (w < warp) before += sh.i[w];
        total += sh.i[w];
      }
      if (hits && before < j && j <= before + c) {
        int64_t k = j - before;  // the k-th hit of this thread
        unsigned h = hits;
        while (--k > 0) h &= h - 1u;
        sh.bi = static_cast<int32_t>(x0 + __ffs(h) - 1);
      }
      __syncthreads();
      if (total >= j) return sh.bi;
      seen = total;
    }
    return static_cast<int32_t>(V - 1);
  }

  // Radix descent: by count (rank `need`, 1-based) or by mass (first prefix reaching `target`).
  // Returns the pivot key; *above_n / *above_m = count / mass strictly above it; *tie_n / *tie_m of the key.
  __device__ uint32_t descend(bool by_mass, int64_t need, unsigned long long target, int64_t* above_n,
                              unsigned long long* above_m, int64_t* tie_n, unsigned long long* tie_m) {
    uint32_t prefix = 0;
    int64_t an = 0;
    unsigned long long am = 0;
    int64_t bn = 0;
    unsigned long long bm = 0;
    for (int shift = KE::kKeyBits - 8; shift >= 0; shift -= 8) {
      histogram(prefix, shift, true);
      if (threadIdx.x == 0) {
        int bin = 0;
        for (int k = 255; k >= 0; --k) {
          bool stop = by_mass ? am + hmass[k] >= target : an + hist[k] >= need;
          if (stop || k == 0) { bin = k; break; }
          an += hist[k];
          am += hmass[k];
        }
        // a bin with nothing in it can only be chosen at k == 0 when rounding left the target unreached
        sh.bi = bin;
        sh.u[0] = am;
        sh.u[1] = static_cast<unsigned long long>(an);
        sh.u[2] = hmass[bin];
        sh.u[3] = static_cast<unsigned long long>(hist[bin]);
      }
      __syncthreads();
      prefix |= static_cast<uint32_t>(sh.bi) << shift;
      am = sh.u[0];
      an = static_cast<int64_t>(sh.u[1]);
      bm = sh.u[2];
      bn = static_cast<int64_t>(sh.u[3]);
      __syncthreads();
    }
    *above_n = an;
    *above_m = am;
    *tie_n = bn;
    *tie_m = bm;
    return prefix;
  }

  __device__ double w_of(float z) const { return static_cast<double>(__expf((z - kept_set.max) * kept_set.inv_t)); }

  // Every block collected the candidates of its own range into cz/ci (count in sh.flag, cluster barrier
  // passed): concatenate all blocks' lists into cz/ci. Returns the total (> kCand: overflow, lists untouched).
  __device__ int gather_candidates() {
    if (ncl == 1) return sh.flag;
    int64_t total = 0;
    for (int r = 0; r < ncl; ++r) total += *cluster_peer(&sh.flag, r, ncl);
    if (total <= kCand) {
      int at = 0;
      for (int r = 0; r < ncl; ++r) {
        const int cr = *cluster_peer(&sh.flag, r, ncl);
        const float* zr = cluster_peer(cz, r, ncl);
        const int32_t* ir = cluster_peer(ci, r, ncl);
        for (int i = threadIdx.x; i < cr; i += NT) { sz[at + i] = zr[i]; si[at + i] = ir[i]; }
        at += cr;
      }
    }
    cluster_sync(ncl);
    if (total > kCand) return kCand + 1;
    for (int i = threadIdx.x; i < total; i += NT) { cz[i] = sz[i]; ci[i] = si[i]; }
    __syncthreads();
    return static_cast<int>(total);
  }

  // Fast path: the K0-th largest chunk max bounds the pivot from below, so the tokens above it (few, for
  // realistic rows) hold the whole kept prefix: collect them, rank them, cut by count and by mass. Returns
  // false (nothing changed) when the candidates overflow or do not reach the top-p mass.
  __device__ bool select_fast(int64_t K, float Pp, double* Zout) {
    LW_PROF(4);
    __syncthreads();
    const int64_t K0 = K < V ? K : imin64(nch, 32);
    if (K0 > nch) return false;
#ifdef LW_TREE_PROFILE
    long long pt0 = clock64();
#endif
    for (int32_t c = threadIdx.x; c < nch; c += NT) {
      const float v = cs[c].max;
      int32_t gt = 0, ge = 0;
      for (int32_t d = 0; d < nch; ++d) { gt += cs[d].max > v; ge += cs[d].max >= v; }
      if (gt < K0 && K0 <= ge) sh.bf = v;  // all writers write the same value
    }
    if (threadIdx.x == 0) sh.flag = 0;
    __syncthreads();
    const float tlo = sh.bf;
    if (tlo == -INFINITY) return false;
    chunks<DT>(prow, prp, [&](int32_t c, const float* v) {
      const int lane = threadIdx.x & 31;
#pragma unroll
      for (int j = 0; j < ChunkLayout<DT>::N; ++j)
        if (v[j] >= tlo) {  // -inf past V never passes: tlo > -inf
          int slot = atomicAdd(&sh.flag, 1);
          if (slot < kCand) { cz[slot] = v[j]; ci[slot] = static_cast<int32_t>(ChunkLayout<DT>::token(c, lane, j)); }
        }
    });
    cluster_sync(ncl);
    const int n = gather_candidates();
#ifdef LW_TREE_PROFILE
    if (threadIdx.x == 0 && blockIdx.x == 0) atomicAdd(&g_prof[8], static_cast<unsigned long long>(clock64() - pt0));
#endif
    if (n > kCand) return false;
    for (int i = threadIdx.x; i < n; i += NT) {
      int r = 0;
      const float zi = cz[i];
      const int32_t xi = ci[i];
      for (int j = 0; j < n; ++j) r += cz[j] > zi || (cz[j] == zi && ci[j] < xi);
      sz[r] = zi;
      si[r] = xi;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
      int ok = 1;
      const int kk = static_cast<int>(K < V ? imin64(K, n) : n);
      int piv = kk - 1;
      double Zk = 0.0;
      if (K < V) {
        for (int r = 0; r < kk; ++r) Zk += w_of(sz[r]);
      } else {
        for (int32_t c = 0; c < nch; ++c)
          if (cs[c].max != -INFINITY) Zk += cs[c].sum * __expf((cs[c].max - kept_set.max) * kept_set.inv_t);
      }
      double Z = Zk;
      if (Pp < 1.f) {
        const double target = static_cast<double>(Pp) * Zk;
        double cum = 0.0;
        bool found = false;
        for (int r = 0; r < kk; ++r) {
          cum += w_of(sz[r]);
          if (cum >= target) { piv = r; found = true; break; }
        }
        if (!found && K == V) ok = 0;
        Z = found ? cum : Zk;
      }
      if (ok) {
        sh.bf = sz[piv];
        sh.bi = si[piv];
        sh.bd = Z;
        for (int32_t c = 0; c < nch; ++c) pmass[c] = 0.f;
        for (int r = 0; r <= piv; ++r) pmass[si[r] / C] += static_cast<float>(w_of(sz[r]));
      }
      sh.flag = ok;
    }
    __syncthreads();
    if (!sh.flag) return false;
    kept_set.pivot_logit = sh.bf;
    kept_set.pivot_id = sh.bi;
    *Zout = sh.bd;
    __syncthreads();
    return true;
  }

  // Returns Z = mass of the kept set (relative to the row max) and fills pmass.
  __device__ double select_kept(int64_t K, float Pp) {
    LW_PROF(5);
    double Zf;
    if (select_fast(K, Pp, &Zf)) return Zf;
    int64_t an, tn;
    unsigned long long am, tm;
    uint32_t ukey;
    int64_t j;  // rank of the pivot among its ties
    unsigned long long zk;
    if (K < V) {
      ukey = descend(false, K, 0, &an, &am, &tn, &tm);
      j = K - an;
      zk = am + (tn > 0 ? (tm / static_cast<unsigned long long>(tn)) * static_cast<unsigned long long>(j) : 0);
    } else {
      ukey = 0;
      an = V;
      j = 0;
      zk = 0;
      histogram(0, KE::kKeyBits - 8, true);  // total mass
      for (int k = 0; k < 256; ++k) zk += hmass[k];
      __syncthreads();
    }
    if (Pp < 1.f) {
      const unsigned long long target =
          static_cast<unsigned long long>(static_cast<double>(Pp) * static_cast<double>(zk));
      int64_t an2, tn2;
      unsigned long long am2, tm2;
      uint32_t u2 = descend(true, 0, target, &an2, &am2, &tn2, &tm2);
      int64_t c = 1;
      if (tn2 > 0) {
        const unsigned long long each = tm2 / static_cast<unsigned long long>(tn2);
        if (each > 0 && target > am2) c = static_cast<int64_t>((target - am2 + each - 1) / each);
        c = imax64(1, imin64(c, tn2));
      }
      if (an2 + c < an + j || K == V) { ukey = u2; j = c; an = an2; }
    }
    if (j < 1) j = 1;
    kept_set.pivot_id = nth_tie(ukey, j);
    kept_set.pivot_logit = KE::from_key(ukey);
    return kept_mass_sum();
  }

  // kept_mass, then Σ over the chunks.
  __device__ double kept_mass_sum() {
    kept_mass();
    double Z = 0.0;
    for (int32_t c = threadIdx.x; c < nch; c += NT) Z += pmass[c];
    return block_sum(Z, sh);
  }

  // Number of tokens with logit >= t in the whole row (every block of the cluster counts alike).
  __device__ int64_t count_at_least(float t) {
    double n = 0.0;
    for (int64_t x = threadIdx.x; x < V; x += NT) n += zp(x) >= t ? 1.0 : 0.0;
    return static_cast<int64_t>(block_sum(n, sh));
  }

  // pmass[c] = Σ_{x in c, kept} exp((z - kept_set.max) * kept_set.inv_t).
  __device__ void kept_mass() {
    LW_PROF(6);
    using L = ChunkLayout<DT>;
    const int lane = threadIdx.x & 31;
    chunks<DT>(prow, prp, [&](int32_t c, const float* v) {
      float s = 0.f;
#pragma unroll
      for (int j = 0; j < L::N; ++j)
        if (kept(static_cast<int32_t>(L::token(c, lane, j)), v[j])) s += __expf((v[j] - kept_set.max) * kept_set.inv_t);
      s = warp_sum(s);
      if (lane == 0) pmass[c] = s;
    });
    gather(pmass);
  }
};

// Dynamic shared memory layout of the walk kernel; tree_ints = room for one request's child lists (0: they are
// read from global memory).
__host__ __device__ inline size_t walk_smem(int32_t nch, int32_t max_children, int32_t tree_ints) {
  return static_cast<size_t>(nch) * (sizeof(ChunkStat) + 2 * sizeof(float)) + 256 * (4 + 8) +
         static_cast<size_t>(kCand) * 16 + static_cast<size_t>(max_children + 1) * sizeof(float) +
         static_cast<size_t>(tree_ints) * sizeof(int32_t) + 64;
}

template <int DT, bool PROC = false>
__global__ void __launch_bounds__(NT, 2) walk_kernel(Params P, int32_t max_children, DeviceProcessors pr) {
  extern __shared__ __align__(16) unsigned char smem[];
  __shared__ Shared sh;
  const int32_t nch = P.nch;
  unsigned long long* hmass = reinterpret_cast<unsigned long long*>(smem);
  ChunkStat* cs = reinterpret_cast<ChunkStat*>(smem + 256 * 8);
  float* pmass = reinterpret_cast<float*>(cs + nch);
  float* rmass = pmass + nch;
  int32_t* hist = reinterpret_cast<int32_t*>(rmass + nch);
  float* cz = reinterpret_cast<float*>(hist + 256);
  int32_t* ci = reinterpret_cast<int32_t*>(cz + kCand);
  float* sz = reinterpret_cast<float*>(ci + kCand);
  int32_t* si = reinterpret_cast<int32_t*>(sz + kCand);
  float* frozen = reinterpret_cast<float*>(si + kCand);
  const int ncl = P.ncl;
  const int64_t b = blockIdx.x / ncl;
  const int rank = cluster_rank(ncl);
  BlockOps<DT, PROC> ops{P, sh, cs, pmass, rmass, hist, hmass, frozen, cz, ci, sz, si, b, nch, P.V, rank, ncl,
                         range_first(nch, rank, ncl), range_first(nch, rank + 1, ncl), P.path_off[b], P.path_off[b + 1]};
  if constexpr (PROC) {
    // The call's processors and the two rows' views in shared memory (a kernel parameter whose address is taken
    // would be copied to the stack).
    __shared__ DeviceProcessors spr;
    __shared__ ProcRow rows[2];
    if (threadIdx.x == 0) {
      spr = pr;
      // The block's tables: after the child lists in shared memory when they fit, else its global slice.
      float* t = pr.tables ? pr.tables + static_cast<int64_t>(blockIdx.x) * 3 * pr.stride
                           : reinterpret_cast<float*>(frozen + max_children + 1) + (P.tree_ints > 0 ? P.tree_ints : 0);
      spr.tab_p = t;
      spr.tab_q = t + pr.stride;
      spr.pc = reinterpret_cast<int32_t*>(t + 2 * pr.stride);
      spr.at_g = -1;
    }
    __syncthreads();
    ops.proc = &spr;
    ops.prp = &rows[0];
    ops.prq = &rows[1];
  }
  (void)pr;
  const uint32_t* kb = P.keys + 4 * b;
  RowKey key{kb[0], kb[1], kb[2], kb[3], 0};
  const int32_t root = P.offsets[b];
  const ChildLists lists = stage_child_lists(P, b, reinterpret_cast<int32_t*>(frozen + max_children + 1));
  {
    LW_PROF(7);
    tree::walk(ops, P.kind[b], root, lists.start, lists.node, lists.token, key);
  }
  if (threadIdx.x == 0 && rank == 0) P.out[2 * P.total_path + b] = ops.n;
  cluster_sync(ncl);  // no block leaves while a peer could still read its shared memory
  (void)max_children;
}

}  // namespace tv
}  // namespace cuda
}  // namespace lw
