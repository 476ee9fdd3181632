// verifyTree on CUDA. One block per request runs the shared walk (core/tree_walk.h) with every thread in
// lockstep; each visited row is reduced cooperatively by the block (16-byte coalesced loads, per-warp partials
// combined in a fixed order, so results are deterministic). Small batches first reduce ALL rows in parallel
// across the GPU ("rows" path) so the walk only merges per-chunk statistics; large batches reduce only the rows
// the walk visits ("lazy" path). top-k / top-p use a radix select on the visited row (counts and fixed-point
// masses in 8-bit digits over the dtype's own monotone key), ties resolved by an ordered scan.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "check.cuh"
#include "core/dtype.h"
#include "core/tree_verify.h"
#include "core/tree_walk.h"
#include "tree_verify_cuda.h"

namespace lw {
namespace cuda {
namespace tv {

using tree::Best;
using tree::Residual;
using tree::RowKey;
constexpr int NT = 512;
constexpr int NW = NT / 32;
constexpr int C = tree::kChunk;
constexpr double kFix = 1099511627776.0;  // 2^40: fixed-point unit of the slow select's masses
constexpr int kCand = 2048;               // candidates of the fast top-k / top-p select

struct ChunkStat {
  float max;  // chunk max (-inf if empty)
  float sum;  // Σ exp((z - max) * invT)
  int32_t arg;
  int32_t bad;  // NaN or +Inf present
};

struct Params {
  const void* target;
  const void* draft;
  int dt_q;
  int64_t V;
  int32_t nch;
  int32_t total_path;            // Σ over requests of (depth + 1)
  const int32_t* path_off;       // [batch + 1]
  const int32_t* offsets;
  const int32_t* child_start;
  const int32_t* child_node;
  const int32_t* child_token;
  const int32_t* kind;
  const float* temperature;
  const int32_t* top_k;
  const float* top_p;
  uint32_t k0, k1, step;
  const ChunkStat* pre_t;  // rows path: per-row chunk stats of target (invT of the row's request) or null
  const ChunkStat* pre_q;  // ... of draft (invT = 1)
  int32_t* out;            // [total_path] nodes, then [total_path] tokens, then [batch] counts
  int32_t* err;            // [2]: error code, row
  int64_t batch;
};

// ---------------------------------------------------------------- element access
template <int DT>
struct Elt;
template <>
struct Elt<0> {
  static constexpr int E = 4;
  __device__ static float at(const void* r, int64_t i) { return static_cast<const float*>(r)[i]; }
  __device__ static void vec(const void* r, int64_t i, float* v) {
    float4 x = *reinterpret_cast<const float4*>(static_cast<const float*>(r) + i);
    v[0] = x.x; v[1] = x.y; v[2] = x.z; v[3] = x.w;
  }
  __device__ static void unpack(uint4 x, float* v) {
    v[0] = __uint_as_float(x.x); v[1] = __uint_as_float(x.y); v[2] = __uint_as_float(x.z); v[3] = __uint_as_float(x.w);
  }
  __device__ static uint32_t key(const void* r, int64_t i) {
    float z = at(r, i);
    uint32_t b = z == 0.f ? 0u : __float_as_uint(z);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
  }
  __device__ static float from_key(uint32_t u) {
    uint32_t b = (u & 0x80000000u) ? (u & 0x7fffffffu) : ~u;
    return __uint_as_float(b);
  }
  static constexpr int kBits = 32;
};
__device__ __forceinline__ float h2f(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
  if (exp == 0) {
    float f = man * 5.9604644775390625e-8f;  // 2^-24
    return sign ? -f : f;
  }
  uint32_t bits = exp == 0x1f ? (sign | 0x7f800000u | (man << 13)) : (sign | ((exp + 112) << 23) | (man << 13));
  return __uint_as_float(bits);
}
template <int DT>
struct Elt16 {
  static constexpr int E = 8;
  __device__ static float cvt(uint16_t h) { return DT == 2 ? __uint_as_float(static_cast<uint32_t>(h) << 16) : h2f(h); }
  __device__ static float at(const void* r, int64_t i) { return cvt(static_cast<const uint16_t*>(r)[i]); }
  __device__ static void vec(const void* r, int64_t i, float* v) {
    unpack(*reinterpret_cast<const uint4*>(static_cast<const uint16_t*>(r) + i), v);
  }
  __device__ static void unpack(uint4 x, float* v) {
    uint32_t w[4] = {x.x, x.y, x.z, x.w};
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      v[2 * k] = cvt(static_cast<uint16_t>(w[k] & 0xffffu));
      v[2 * k + 1] = cvt(static_cast<uint16_t>(w[k] >> 16));
    }
  }
  __device__ static uint32_t key(const void* r, int64_t i) {
    uint32_t h = static_cast<const uint16_t*>(r)[i];
    if ((h & 0x7fffu) == 0) h = 0;
    return (h & 0x8000u) ? (~h & 0xffffu) : (h | 0x8000u);
  }
  __device__ static float from_key(uint32_t u) {
    uint32_t h = (u & 0x8000u) ? (u & 0x7fffu) : (~u & 0xffffu);
    return cvt(static_cast<uint16_t>(h));
  }
  static constexpr int kBits = 16;
};
template <>
struct Elt<1> : Elt16<1> {};
template <>
struct Elt<2> : Elt16<2> {};

// Loads the E elements starting at i (a multiple of E); ids >= V read as -inf and are flagged invalid.
template <int DT>
__device__ __forceinline__ void load_group(const void* row, int64_t i, int64_t V, bool vec_ok, float* v) {
  constexpr int E = Elt<DT>::E;
  if (vec_ok && i + E <= V) {
    Elt<DT>::vec(row, i, v);
  } else {
#pragma unroll
    for (int k = 0; k < E; ++k) v[k] = i + k < V ? Elt<DT>::at(row, i + k) : -INFINITY;
  }
}

__host__ __device__ __forceinline__ int64_t imin64(int64_t a, int64_t b) { return a < b ? a : b; }
__host__ __device__ __forceinline__ int64_t imax64(int64_t a, int64_t b) { return a > b ? a : b; }

__device__ __forceinline__ bool nonfinite_bad(float z) { return !(z < INFINITY); }

// ---------------------------------------------------------------- block primitives (all threads call)
struct Shared {
  float f[NW];
  int32_t i[NW];
  double d[NW];
  unsigned long long u[NW];
  float bf;
  int32_t bi;
  double bd;
  int32_t flag;
};

__device__ __forceinline__ double block_sum(double v, Shared& sh) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  __syncthreads();
  if ((threadIdx.x & 31) == 0) sh.d[threadIdx.x >> 5] = v;
  __syncthreads();
  double s = 0.0;
  for (int w = 0; w < NW; ++w) s += sh.d[w];
  return s;
}

// Larger key wins, ties to the lower id; returns the winner (id) and its key in *key.
__device__ __forceinline__ int32_t block_best(float k, int32_t id, Shared& sh, float* key) {
  for (int o = 16; o > 0; o >>= 1) {
    float k2 = __shfl_xor_sync(0xffffffffu, k, o);
    int32_t i2 = __shfl_xor_sync(0xffffffffu, id, o);
    if (k2 > k || (k2 == k && i2 < id)) { k = k2; id = i2; }
  }
  __syncthreads();
  if ((threadIdx.x & 31) == 0) { sh.f[threadIdx.x >> 5] = k; sh.i[threadIdx.x >> 5] = id; }
  __syncthreads();
  float bk = sh.f[0];
  int32_t bi = sh.i[0];
  for (int w = 1; w < NW; ++w)
    if (sh.f[w] > bk || (sh.f[w] == bk && sh.i[w] < bi)) { bk = sh.f[w]; bi = sh.i[w]; }
  *key = bk;
  return bi;
}

__device__ __forceinline__ int32_t block_or(int32_t v, Shared& sh) {
  v = __any_sync(0xffffffffu, v) ? 1 : 0;
  __syncthreads();
  if ((threadIdx.x & 31) == 0) sh.i[threadIdx.x >> 5] = v;
  __syncthreads();
  int32_t r = 0;
  for (int w = 0; w < NW; ++w) r |= sh.i[w];
  return r;
}

// Warp partial of E·32 consecutive tokens (one warp, one chunk): max, first argmax, bad flag, and (EXP)
// Σ exp((z - wmax) * invT).
template <bool EXP, int E>
__device__ __forceinline__ ChunkStat warp_stat(const float* v, int64_t i0, float inv_t) {
  float m = -INFINITY;
  int32_t a = 0x7fffffff;
  int32_t bad = 0;
#pragma unroll
  for (int k = 0; k < E; ++k) {
    bad |= nonfinite_bad(v[k]) && v[k] != -INFINITY ? 1 : 0;
    if (v[k] > m) { m = v[k]; a = static_cast<int32_t>(i0 + k); }
  }
  for (int o = 16; o > 0; o >>= 1) {
    float m2 = __shfl_xor_sync(0xffffffffu, m, o);
    int32_t a2 = __shfl_xor_sync(0xffffffffu, a, o);
    if (m2 > m || (m2 == m && a2 < a)) { m = m2; a = a2; }
  }
  bad = __any_sync(0xffffffffu, bad);
  float s = 0.f;
  if (EXP && m > -INFINITY) {
#pragma unroll
    for (int k = 0; k < E; ++k) s += __expf((v[k] - m) * inv_t);
    for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  }
  return ChunkStat{m, s, a, bad};
}

__device__ __forceinline__ void merge_stat(ChunkStat& a, const ChunkStat& b, float inv_t) {
  a.bad |= b.bad;
  if (b.max == -INFINITY) return;
  if (a.max == -INFINITY) { a.max = b.max; a.sum = b.sum; a.arg = b.arg; return; }
  float m = fmaxf(a.max, b.max);
  a.sum = a.sum * __expf((a.max - m) * inv_t) + b.sum * __expf((b.max - m) * inv_t);
  if (b.max > a.max || (b.max == a.max && b.arg < a.arg)) a.arg = b.arg;
  a.max = m;
}

// Streams one row through the block: every warp step covers WT = 32·E consecutive tokens; U 16-byte loads per
// thread are issued before any arithmetic (one SM must keep ~64 KB in flight to pull ~100 GB/s).
// f(w0, i, v) runs for each warp step (w0 = the warp's first token, warp-uniform; i = this lane's first token;
// v = its E values, -inf past the end).
template <int DT, class F>
__device__ __forceinline__ void row_groups(const void* row, int64_t V, F&& f) {
  constexpr int E = Elt<DT>::E, WT = 32 * E, STEP = NT * E, U = 8;
  const bool vec_ok = (reinterpret_cast<uintptr_t>(row) & 15) == 0;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  for (int64_t base = 0; base < V; base += static_cast<int64_t>(STEP) * U) {
    uint4 raw[U];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int64_t i = base + static_cast<int64_t>(u) * STEP + static_cast<int64_t>(warp) * WT + lane * E;
      if (vec_ok && i + E <= V)
        raw[u] = __ldg(reinterpret_cast<const uint4*>(static_cast<const uint8_t*>(row) + i * (DT == 0 ? 4 : 2)));
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int64_t w0 = base + static_cast<int64_t>(u) * STEP + static_cast<int64_t>(warp) * WT;
      if (w0 >= V) break;  // warp-uniform
      const int64_t i = w0 + lane * E;
      float v[E];
      if (vec_ok && i + E <= V) Elt<DT>::unpack(raw[u], v);
      else
#pragma unroll
        for (int k = 0; k < E; ++k) v[k] = i + k < V ? Elt<DT>::at(row, i + k) : -INFINITY;
      f(w0, i, v);
    }
  }
}

// Slot of a warp step's partial: chunk-major, SUB = C / WT slots per chunk.
template <int DT>
__device__ __forceinline__ int64_t part_slot(int64_t w0) {
  constexpr int WT = 32 * Elt<DT>::E, SUB = C / WT;
  return (w0 / C) * SUB + (w0 % C) / WT;
}

// Per-chunk statistics of one row by the whole block into cs[nch] (smem). part = scratch of nch * 8 stats.
template <int DT, bool EXP>
__device__ void chunk_pass(const void* row, int64_t V, int32_t nch, float inv_t, ChunkStat* cs, ChunkStat* part) {
  constexpr int E = Elt<DT>::E, WT = 32 * E, SUB = C / WT;
  const int lane = threadIdx.x & 31;
  row_groups<DT>(row, V, [&](int64_t w0, int64_t i, const float* v) {
    ChunkStat s = warp_stat<EXP, E>(v, i, inv_t);
    if (lane == 0) part[part_slot<DT>(w0)] = s;
  });
  __syncthreads();
  for (int32_t c = threadIdx.x; c < nch; c += NT) {
    ChunkStat a{-INFINITY, 0.f, 0x7fffffff, 0};
    const int64_t lo = static_cast<int64_t>(c) * C;
    for (int k = 0; k < SUB; ++k)
      if (lo + static_cast<int64_t>(k) * WT < V) merge_stat(a, part[c * SUB + k], inv_t);
    cs[c] = a;
  }
  __syncthreads();
}

// Sums per-warp-step float partials (wpart, chunk-major) into out[nch].
template <int DT>
__device__ void sum_parts(const float* wpart, int64_t V, int32_t nch, float* out) {
  constexpr int WT = 32 * Elt<DT>::E, SUB = C / WT;
  __syncthreads();
  for (int32_t c = threadIdx.x; c < nch; c += NT) {
    float a = 0.f;
    const int64_t lo = static_cast<int64_t>(c) * C;
    for (int k = 0; k < SUB; ++k)
      if (lo + static_cast<int64_t>(k) * WT < V) a += wpart[c * SUB + k];
    out[c] = a;
  }
  __syncthreads();
}

// ---------------------------------------------------------------- the block's Ops for tree::walk
template <int DT>
struct BlockOps {
  const Params& P;
  Shared& sh;
  ChunkStat* cs;        // [nch] chunk stats of the current row
  ChunkStat* part;      // [nch * 8]
  float* pmass;         // [nch] chunk masses of p (relative to row max; multiply by inv_z)
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
  // p row
  const void* prow = nullptr;
  float pm = 0.f, inv_t = 1.f, inv_z = 1.f, tau = -INFINITY;
  int32_t parg = 0, xtau = 0x7fffffff;
  double inv_zd = 1.0;
  // q row
  const void* qrow = nullptr;
  float qm = 0.f, inv_zq = 1.f;
  int32_t n = 0;

  __device__ const void* row_ptr(const void* base, int dt, int32_t g) const {
    return static_cast<const uint8_t*>(base) + static_cast<int64_t>(g) * V * (dt == 0 ? 4 : 2);
  }
  __device__ void fail(int code, int32_t g) {
    if (threadIdx.x == 0) atomicCAS(P.err, 0, code), P.err[1] = g;
  }

  // Row max / first argmax / bad flag over the chunk stats (filled by a pass, or copied from `pre`).
  template <int D2, bool EXP>
  __device__ ChunkStat row_stats(const void* row, const ChunkStat* pre, float it) {
    if (pre) {
      for (int32_t c = threadIdx.x; c < nch; c += NT) cs[c] = pre[c];
      __syncthreads();
    } else {
      chunk_pass<D2, EXP>(row, V, nch, it, cs, part);
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
    const void* row = row_ptr(P.target, DT, g);
    ChunkStat a = row_stats<DT, false>(row, P.pre_t ? P.pre_t + static_cast<int64_t>(g) * nch : nullptr, 1.f);
    __syncthreads();
    if (a.bad) fail(1, g);
    else if (a.max == -INFINITY) fail(2, g);
    return a.arg < V ? a.arg : 0;
  }

  __device__ void prep_p(int32_t g) {
    prow = row_ptr(P.target, DT, g);
    inv_t = 1.f / P.temperature[b];
    ChunkStat a = row_stats<DT, true>(prow, P.pre_t ? P.pre_t + static_cast<int64_t>(g) * nch : nullptr, inv_t);
    if (a.bad) fail(1, g);
    else if (a.max == -INFINITY) fail(2, g);
    pm = a.max;
    parg = a.arg < V ? a.arg : 0;
    tau = -INFINITY;
    xtau = 0x7fffffff;
    const int32_t k = P.top_k[b];
    const int64_t K = (k > 0 && k < V) ? k : V;
    const float Pp = P.top_p[b];
    double Z;
    if (K < V || Pp < 1.f) {
      Z = select_kept(K, Pp);
    } else {
      Z = chunk_masses(pm, inv_t);
    }
    inv_zd = 1.0 / Z;
    inv_z = static_cast<float>(inv_zd);
    __syncthreads();
  }

  __device__ bool kept(int32_t x, float z) const { return z > tau || (z == tau && x <= xtau); }
  __device__ float p_of(int32_t x, float z) const {
    return kept(x, z) ? __expf((z - pm) * inv_t) * inv_z : 0.f;
  }
  __device__ float p(int32_t x) const { return p_of(x, Elt<DT>::at(prow, x)); }
  __device__ int32_t argmax_p() const { return parg; }

  template <int DQ>
  __device__ float qat(int64_t x) const { return Elt<DQ>::at(qrow, x); }
  __device__ float qz(int64_t x) const {
    return P.dt_q == 0 ? qat<0>(x) : P.dt_q == 1 ? qat<1>(x) : qat<2>(x);
  }
  __device__ float q(int32_t x) const { return __expf(qz(x) - qm) * inv_zq; }

  __device__ void prep_q(int32_t g) {
    qrow = row_ptr(P.draft, P.dt_q, g);
    const ChunkStat* pre = P.pre_q ? P.pre_q + static_cast<int64_t>(g) * nch : nullptr;
    ChunkStat a = P.dt_q == 0 ? row_stats<0, true>(qrow, pre, 1.f)
                 : P.dt_q == 1 ? row_stats<1, true>(qrow, pre, 1.f)
                               : row_stats<2, true>(qrow, pre, 1.f);
    if (a.bad) fail(3, g);
    else if (a.max == -INFINITY) fail(4, g);
    qm = a.max;
    double zq = 0.0;
    for (int32_t c = threadIdx.x; c < nch; c += NT)
      if (cs[c].max != -INFINITY) zq += cs[c].sum * __expf((cs[c].max - qm));
    inv_zq = static_cast<float>(1.0 / block_sum(zq, sh));
  }

  // Σ over chunk c's tokens of the generic residual, per chunk into rmass; returns the total.
  __device__ double residual_pass(const Residual& r) {
    constexpr int E = Elt<DT>::E;
    const int lane = threadIdx.x & 31;
    float* wpart = reinterpret_cast<float*>(part);
    row_groups<DT>(prow, V, [&](int64_t w0, int64_t i, const float* v) {
      float s = 0.f;
#pragma unroll
      for (int k = 0; k < E; ++k) {
        const int64_t x = i + k;
        if (x < V) {
          const float px = p_of(static_cast<int32_t>(x), v[k]);
          s += tree::generic_value(px, r.use_q && px > 0.f ? q(static_cast<int32_t>(x)) : 0.f, r);
        }
      }
      for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
      if (lane == 0) wpart[part_slot<DT>(w0)] = s;
    });
    sum_parts<DT>(wpart, V, nch, rmass);
    double t = 0.0;
    for (int32_t c = 0; c < nch; ++c) t += rmass[c];
    __syncthreads();
    return t;
  }

  __device__ double sum_generic(const Residual& r) { return residual_pass(r); }

  __device__ float value(int32_t x, const Residual& r) const {
    return tree::residual_value(x, tree::generic_value(p(x), r.use_q ? q(x) : 0.f, r), r);
  }

  __device__ int32_t race(const Residual& r, const RowKey& key) {
    if (r.use_q) residual_pass(r);
    else {
      for (int32_t c = threadIdx.x; c < nch; c += NT) rmass[c] = static_cast<float>(pmass[c] * inv_zd);
      __syncthreads();
    }
    // Chunks holding special tokens: exact sums with the special values (block-cooperative, fixed order).
    for (int32_t i = 0; i < r.nx; ++i) {
      const int32_t c = r.xs[i] / C;
      bool seen = false;
      for (int32_t j = 0; j < i; ++j) seen |= r.xs[j] / C == c;
      if (seen) continue;
      double s = 0.0;
      for (int32_t x = c * C + threadIdx.x; x < imin64(V, static_cast<int64_t>(c + 1) * C); x += NT) s += value(x, r);
      s = block_sum(s, sh);
      if (threadIdx.x == 0) rmass[c] = static_cast<float>(s);
      __syncthreads();
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
    const int32_t at = P.path_off[b];
    if (threadIdx.x == 0 && at + n < P.path_off[b + 1]) {
      P.out[at + n] = local;
      P.out[P.total_path + at + n] = token;
    }
    ++n;
  }

  // ---- top-k / top-p: pivot (tau, xtau) = the K'-th token in (logit desc, id asc) order.
  __device__ unsigned long long fixed_mass(float z) const {
    return static_cast<unsigned long long>(static_cast<double>(__expf((z - pm) * inv_t)) * kFix);
  }

  // One radix level over tokens whose key matches `prefix` on the bits above `shift + 8`.
  __device__ void histogram(uint32_t prefix, int shift, bool with_mass) {
    for (int i = threadIdx.x; i < 256; i += NT) { hist[i] = 0; hmass[i] = 0ull; }
    __syncthreads();
    const int top = shift + 8;
    for (int64_t x = threadIdx.x; x < V; x += NT) {
      uint32_t u = Elt<DT>::key(prow, x);
      if (top < 32 && (u >> top) != (prefix >> top)) continue;
      int bin = (u >> shift) & 255;
      atomicAdd(&hist[bin], 1);
      if (with_mass) atomicAdd(&hmass[bin], fixed_mass(Elt<DT>::at(prow, x)));
    }
    __syncthreads();
  }

  // Index of the j-th (1-based) lowest id whose key is `u`.
  __device__ int32_t nth_tie(uint32_t u, int64_t j) {
    int64_t seen = 0;
    for (int64_t base = 0; base < V; base += NT) {
      int64_t x = base + threadIdx.x;
      int hit = x < V && Elt<DT>::key(prow, x) == u;
      unsigned bal = __ballot_sync(0xffffffffu, hit);
      __syncthreads();
      if ((threadIdx.x & 31) == 0) sh.i[threadIdx.x >> 5] = __popc(bal);
      __syncthreads();
      int64_t before = seen;
      for (int w = 0; w < (threadIdx.x >> 5); ++w) before += sh.i[w];
      before += __popc(bal & ((1u << (threadIdx.x & 31)) - 1u));
      int64_t total = seen;
      for (int w = 0; w < NW; ++w) total += sh.i[w];
      if (hit && before + 1 == j) sh.bi = static_cast<int32_t>(x);
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
    for (int shift = Elt<DT>::kBits - 8; shift >= 0; shift -= 8) {
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

  __device__ double w_of(float z) const { return static_cast<double>(__expf((z - pm) * inv_t)); }

  // Fast path: the K0-th largest chunk max bounds the pivot from below, so the tokens above it (few, for
  // realistic rows) hold the whole kept prefix: collect them, rank them, cut by count and by mass. Returns
  // false (nothing changed) when the candidates overflow or do not reach the top-p mass.
  __device__ bool select_fast(int64_t K, float Pp, double* Zout) {
    __syncthreads();
    const int64_t K0 = K < V ? K : imin64(nch, 32);
    if (K0 > nch) return false;
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
    row_groups<DT>(prow, V, [&](int64_t, int64_t i, const float* v) {
#pragma unroll
      for (int k = 0; k < Elt<DT>::E; ++k)
        if (v[k] >= tlo && i + k < V) {
          int slot = atomicAdd(&sh.flag, 1);
          if (slot < kCand) { cz[slot] = v[k]; ci[slot] = static_cast<int32_t>(i + k); }
        }
    });
    __syncthreads();
    const int n = sh.flag;
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
          if (cs[c].max != -INFINITY) Zk += cs[c].sum * __expf((cs[c].max - pm) * inv_t);
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
    tau = sh.bf;
    xtau = sh.bi;
    *Zout = sh.bd;
    __syncthreads();
    return true;
  }

  // Returns Z = mass of the kept set (relative to the row max) and fills pmass.
  __device__ double select_kept(int64_t K, float Pp) {
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
      histogram(0, Elt<DT>::kBits - 8, true);  // total mass
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
    xtau = nth_tie(ukey, j);
    tau = Elt<DT>::from_key(ukey);
    kept_mass();
    double Z = 0.0;
    for (int32_t c = threadIdx.x; c < nch; c += NT) Z += pmass[c];
    return block_sum(Z, sh);
  }

  // pmass[c] = Σ_{x in c, kept} exp((z - pm) * inv_t).
  __device__ void kept_mass() {
    constexpr int E = Elt<DT>::E;
    const int lane = threadIdx.x & 31;
    float* wpart = reinterpret_cast<float*>(part);
    row_groups<DT>(prow, V, [&](int64_t w0, int64_t i, const float* v) {
      float s = 0.f;
#pragma unroll
      for (int k = 0; k < E; ++k)
        if (i + k < V && kept(static_cast<int32_t>(i + k), v[k])) s += __expf((v[k] - pm) * inv_t);
      for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
      if (lane == 0) wpart[part_slot<DT>(w0)] = s;
    });
    sum_parts<DT>(wpart, V, nch, pmass);
  }
};

// Dynamic shared memory layout of the walk kernel.
__host__ __device__ inline size_t walk_smem(int32_t nch, int32_t max_children) {
  return static_cast<size_t>(nch) * (sizeof(ChunkStat) * 9 + 2 * sizeof(float)) + 256 * (4 + 8) +
         static_cast<size_t>(kCand) * 16 + static_cast<size_t>(max_children + 1) * sizeof(float) + 64;
}

template <int DT>
__global__ void __launch_bounds__(NT) walk_kernel(Params P, int32_t max_children) {
  extern __shared__ __align__(16) unsigned char smem[];
  __shared__ Shared sh;
  const int32_t nch = P.nch;
  unsigned long long* hmass = reinterpret_cast<unsigned long long*>(smem);
  ChunkStat* cs = reinterpret_cast<ChunkStat*>(smem + 256 * 8);
  ChunkStat* part = cs + nch;
  float* pmass = reinterpret_cast<float*>(part + static_cast<size_t>(nch) * 8);
  float* rmass = pmass + nch;
  int32_t* hist = reinterpret_cast<int32_t*>(rmass + nch);
  float* cz = reinterpret_cast<float*>(hist + 256);
  int32_t* ci = reinterpret_cast<int32_t*>(cz + kCand);
  float* sz = reinterpret_cast<float*>(ci + kCand);
  int32_t* si = reinterpret_cast<int32_t*>(sz + kCand);
  float* frozen = reinterpret_cast<float*>(si + kCand);
  const int64_t b = blockIdx.x;
  BlockOps<DT> ops{P, sh, cs, part, pmass, rmass, hist, hmass, frozen, cz, ci, sz, si, b, nch, P.V};
  RowKey key{P.k0, P.k1, static_cast<uint32_t>(b), P.step, 0};
  tree::walk(ops, P.kind[b], P.offsets[b], P.child_start, P.child_node, P.child_token, key);
  if (threadIdx.x == 0) P.out[2 * P.total_path + b] = ops.n;
  (void)max_children;
}

// Rows path: chunk stats of every row (grid: chunk groups × rows), one warp per (row, chunk sub-slice).
template <int DT>
__global__ void __launch_bounds__(256) rows_kernel(const void* data, int64_t V, int32_t nch, const float* inv_t_row,
                                                   ChunkStat* out) {
  constexpr int E = Elt<DT>::E, WT = 32 * E, SUB = C / WT;
  const int64_t r = blockIdx.y;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int32_t c = blockIdx.x * 8 + warp;  // 8 warps per block, one chunk each
  if (c >= nch) return;
  const void* row = static_cast<const uint8_t*>(data) + r * V * (DT == 0 ? 4 : 2);
  const bool vec_ok = (reinterpret_cast<uintptr_t>(row) & 15) == 0;
  const float it = inv_t_row ? inv_t_row[r] : 1.f;
  float v[SUB][E];
#pragma unroll
  for (int k = 0; k < SUB; ++k) {
    int64_t i = static_cast<int64_t>(c) * C + k * WT + lane * E;
    if (i < V) load_group<DT>(row, i, V, vec_ok, v[k]);
    else
#pragma unroll
      for (int e = 0; e < E; ++e) v[k][e] = -INFINITY;
  }
  ChunkStat a{-INFINITY, 0.f, 0x7fffffff, 0};
#pragma unroll
  for (int k = 0; k < SUB; ++k) {
    int64_t i0 = static_cast<int64_t>(c) * C + k * WT;
    if (i0 >= V) break;
    merge_stat(a, warp_stat<true, E>(v[k], i0 + lane * E, it), it);
  }
  if (lane == 0) out[r * nch + c] = a;
}

}  // namespace tv

// ------------------------------------------------------------------------------------------------ host side
namespace {

using namespace tv;

template <typename T>
void put(std::vector<int32_t>& buf, size_t at, const T* src, size_t n) {
  std::memcpy(buf.data() + at, src, n * sizeof(T));
}

}  // namespace

struct TreeVerifyCuda::Impl {
  Params P{};
  int dt_t = 0;
  int32_t max_children = 0;
  int64_t rows = 0;
  bool rows_path = false;
  size_t smem = 0;
  int64_t batch = 0;
  std::vector<int32_t> host_out;
  Scratch staging_t, staging_q, plan_dev, out_dev, pre_dev;
  std::vector<float> inv_t_row;
  const float* inv_t_dev = nullptr;
  std::vector<int32_t> path_off_host;
};

static bool choose_rows_path(const TreeVerifyArgs& a, const TreePlan& plan) {
  if (const char* e = std::getenv("LENGTHWISE_TREE_PATH")) {
    if (std::strcmp(e, "rows") == 0) return true;
    if (std::strcmp(e, "lazy") == 0) return false;
  }
  // Reducing every row costs rows × bytes at full-GPU bandwidth (~3 TB/s); the lazy walk costs about
  // (depth + 1) visited rows at one SM's bandwidth (~0.1 TB/s), in parallel over requests.
  const int64_t visited = std::min<int64_t>(plan.max_depth + 1, 8);
  return plan.nodes < 30 * visited && a.trees.batch <= 64;
}

TreeVerifyCuda::TreeVerifyCuda(const TreeVerifyArgs& a, const TreePlan& plan) : impl_(new Impl) {
  Impl& m = *impl_;
  const int dev = a.target.mem.on_device ? a.target.mem.device : 0;
  check(cudaSetDevice(dev), "cudaSetDevice");
  const int64_t V = a.target.vocab, B = a.trees.batch, N = plan.nodes;
  m.batch = B;
  m.rows = N;
  m.dt_t = static_cast<int>(a.target.dtype);
  m.max_children = plan.max_children;
  Params& P = m.P;
  P.V = V;
  P.nch = static_cast<int32_t>((V + C - 1) / C);
  P.total_path = plan.path_offset[B];
  P.batch = B;
  P.k0 = static_cast<uint32_t>(a.seed);
  P.k1 = static_cast<uint32_t>(a.seed >> 32);
  P.step = a.step;
  P.target = device_input(a.target.mem.data, a.target.mem.on_device,
                          static_cast<size_t>(N * V * dtype_size(a.target.dtype)), m.staging_t);
  const bool need_q = a.draft.rows > 0 && a.mode == VerifyMode::Sample && a.drafts != DraftKind::Deterministic;
  if (need_q) {
    P.draft = device_input(a.draft.mem.data, a.draft.mem.on_device,
                           static_cast<size_t>(N * V * dtype_size(a.draft.dtype)), m.staging_q);
    P.dt_q = static_cast<int>(a.draft.dtype);
  }
  // One upload for the plan: offsets, child lists, kinds, per-request parameters, per-row 1/T.
  std::vector<float> T(B, 1.f), Pp(B, 1.f);
  std::vector<int32_t> K(B, 0);
  for (int64_t b = 0; b < B; ++b) {
    if (a.mode == VerifyMode::Sample) {
      T[b] = a.temperature[b] > 0.f ? a.temperature[b] : 1.f;
      K[b] = a.top_k[b];
      Pp[b] = a.top_p[b];
    }
  }
  m.rows_path = choose_rows_path(a, plan);
  m.inv_t_row.assign(N, 1.f);
  for (int64_t b = 0; b < B; ++b)
    for (int32_t g = a.trees.offsets[b]; g < a.trees.offsets[b + 1]; ++g) m.inv_t_row[g] = 1.f / T[b];
  const size_t nC = plan.child_node.size();
  const size_t o_off = 0, o_cs = o_off + B + 1, o_cn = o_cs + N + 1, o_ct = o_cn + nC, o_kind = o_ct + nC,
               o_T = o_kind + B, o_K = o_T + B, o_P = o_K + B, o_it = o_P + B, o_po = o_it + N,
               total = o_po + B + 1;
  std::vector<int32_t> buf(total);
  put(buf, o_off, a.trees.offsets, B + 1);
  put(buf, o_cs, plan.child_start.data(), N + 1);
  if (nC) put(buf, o_cn, plan.child_node.data(), nC);
  if (nC) put(buf, o_ct, plan.child_token.data(), nC);
  put(buf, o_kind, plan.kind.data(), B);
  put(buf, o_T, T.data(), B);
  put(buf, o_K, K.data(), B);
  put(buf, o_P, Pp.data(), B);
  put(buf, o_it, m.inv_t_row.data(), N);
  put(buf, o_po, plan.path_offset.data(), B + 1);
  m.plan_dev.reset(total * 4);
  check(cudaMemcpyAsync(m.plan_dev.as<void>(), buf.data(), total * 4, cudaMemcpyHostToDevice, cudaStreamPerThread),
        "cudaMemcpyAsync plan");
  const int32_t* d = m.plan_dev.as<int32_t>();
  P.offsets = d + o_off;
  P.child_start = d + o_cs;
  P.child_node = d + o_cn;
  P.child_token = d + o_ct;
  P.kind = d + o_kind;
  P.temperature = reinterpret_cast<const float*>(d + o_T);
  P.top_k = d + o_K;
  P.top_p = reinterpret_cast<const float*>(d + o_P);
  m.inv_t_dev = reinterpret_cast<const float*>(d + o_it);
  P.path_off = d + o_po;
  m.path_off_host = plan.path_offset;
  const size_t out_n = 2 * static_cast<size_t>(P.total_path) + B + 2;
  m.out_dev.reset(out_n * 4);
  P.out = m.out_dev.as<int32_t>();
  P.err = P.out + 2 * static_cast<size_t>(P.total_path) + B;
  m.host_out.resize(out_n);
  if (m.rows_path) {
    const size_t per = static_cast<size_t>(P.nch) * sizeof(ChunkStat);
    m.pre_dev.reset(per * N * (need_q ? 2 : 1));
    P.pre_t = m.pre_dev.as<ChunkStat>();
    if (need_q) P.pre_q = P.pre_t + static_cast<size_t>(P.nch) * N;
  }
  m.smem = walk_smem(P.nch, plan.max_children);
  if (m.smem > 48 * 1024) {
    auto set = [&](auto kern) {
      check(cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(m.smem)),
            "cudaFuncSetAttribute (vocabulary too large for shared memory)");
    };
    if (m.dt_t == 0) set(walk_kernel<0>);
    else if (m.dt_t == 1) set(walk_kernel<1>);
    else set(walk_kernel<2>);
  }
}

TreeVerifyCuda::~TreeVerifyCuda() = default;

template <int DT>
static void launch_rows(const void* data, int64_t V, int32_t nch, int64_t rows, const float* inv_t, ChunkStat* out) {
  for (int64_t r0 = 0; r0 < rows; r0 += 65535) {
    const int64_t n = std::min<int64_t>(65535, rows - r0);
    dim3 grid(static_cast<unsigned>((nch + 7) / 8), static_cast<unsigned>(n));
    rows_kernel<DT><<<grid, 256, 0, cudaStreamPerThread>>>(
        static_cast<const uint8_t*>(data) + r0 * V * (DT == 0 ? 4 : 2), V, nch, inv_t ? inv_t + r0 : nullptr,
        out + r0 * nch);
  }
  check(cudaGetLastError(), "verifyTree rows kernel launch");
}

void TreeVerifyCuda::enqueue() {
  Impl& m = *impl_;
  Params& P = m.P;
  check(cudaMemsetAsync(P.err, 0, 8, cudaStreamPerThread), "cudaMemsetAsync");
  if (m.rows_path) {
    const float* it = m.inv_t_dev;
    ChunkStat* pt = const_cast<ChunkStat*>(P.pre_t);
    if (m.dt_t == 0) launch_rows<0>(P.target, P.V, P.nch, m.rows, it, pt);
    else if (m.dt_t == 1) launch_rows<1>(P.target, P.V, P.nch, m.rows, it, pt);
    else launch_rows<2>(P.target, P.V, P.nch, m.rows, it, pt);
    if (P.pre_q) {
      ChunkStat* pq = const_cast<ChunkStat*>(P.pre_q);
      if (P.dt_q == 0) launch_rows<0>(P.draft, P.V, P.nch, m.rows, nullptr, pq);
      else if (P.dt_q == 1) launch_rows<1>(P.draft, P.V, P.nch, m.rows, nullptr, pq);
      else launch_rows<2>(P.draft, P.V, P.nch, m.rows, nullptr, pq);
    }
  }
  dim3 grid(static_cast<unsigned>(m.batch));
  if (m.dt_t == 0) walk_kernel<0><<<grid, NT, m.smem, cudaStreamPerThread>>>(P, m.max_children);
  else if (m.dt_t == 1) walk_kernel<1><<<grid, NT, m.smem, cudaStreamPerThread>>>(P, m.max_children);
  else walk_kernel<2><<<grid, NT, m.smem, cudaStreamPerThread>>>(P, m.max_children);
  check(cudaGetLastError(), "verifyTree walk kernel launch");
}

bool TreeVerifyCuda::rows_path() const { return impl_->rows_path; }

TreeVerifyResult TreeVerifyCuda::finish() {
  Impl& m = *impl_;
  Params& P = m.P;
  check(cudaMemcpyAsync(m.host_out.data(), P.out, m.host_out.size() * 4, cudaMemcpyDeviceToHost, cudaStreamPerThread),
        "cudaMemcpyAsync results");
  check(cudaStreamSynchronize(cudaStreamPerThread), "verifyTree");
  const int32_t* h = m.host_out.data();
  const int32_t* err = h + 2 * static_cast<size_t>(P.total_path) + m.batch;
  if (err[0]) {
    const char* name = err[0] <= 2 ? "target" : "draft";
    const bool nan = err[0] == 1 || err[0] == 3;
    throw_range(std::string(name) + " row " + std::to_string(err[1]) +
                (nan ? " contains NaN or +Infinity (logits must be finite or -Infinity)" : " has no finite logit"));
  }
  TreeVerifyResult r;
  const int64_t B = m.batch;
  r.accepted_length.resize(B);
  r.token_offsets.assign(B + 1, 0);
  const int32_t* cnt = h + 2 * static_cast<size_t>(P.total_path);
  const std::vector<int32_t>& po = m.path_off_host;
  for (int64_t b = 0; b < B; ++b) {
    int32_t n = std::min(cnt[b], po[b + 1] - po[b]);
    r.accepted_length[b] = n - 1;
    r.token_offsets[b + 1] = r.token_offsets[b] + n;
  }
  r.accepted_nodes.resize(r.token_offsets[B]);
  r.tokens.resize(r.token_offsets[B]);
  for (int64_t b = 0; b < B; ++b) {
    const int32_t n = r.token_offsets[b + 1] - r.token_offsets[b];
    std::copy(h + po[b], h + po[b] + n, r.accepted_nodes.begin() + r.token_offsets[b]);
    std::copy(h + P.total_path + po[b], h + P.total_path + po[b] + n, r.tokens.begin() + r.token_offsets[b]);
  }
  return r;
}

}  // namespace cuda

TreeVerifyResult verify_tree_cuda(const TreeVerifyArgs& a, const TreePlan& plan) {
  cuda::TreeVerifyCuda run(a, plan);
  run.enqueue();
  return run.finish();
}

}  // namespace lw
