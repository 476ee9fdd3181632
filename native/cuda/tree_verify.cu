// verifyTree on CUDA. One cluster of blocks per request runs the shared walk (core/tree_walk.h) with every
// thread in lockstep; each visited row is split by chunk ranges over the cluster's blocks (16-byte coalesced
// loads, per-warp partials combined in a fixed order) and the per-chunk results are gathered through
// distributed shared memory, so every block then holds the same statistics and takes the same decisions. A
// chunk's statistics do not depend on which block computed it, so results are identical for any cluster size. Small batches first reduce ALL rows in parallel
// across the GPU ("rows" path) so the walk only merges per-chunk statistics; large batches reduce only the rows
// the walk visits ("lazy" path). top-k / top-p use a radix select on the visited row (counts and fixed-point
// masses in 8-bit digits over the dtype's own monotone key), ties resolved by an ordered scan.
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
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
constexpr int NT = 256;  // 2 blocks per SM (126 registers), so clusters of a 64-request batch fit one wave
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
  int32_t ncl;             // blocks per request (a thread block cluster when > 1)
  int32_t tree_ints;       // > 0: each request's child lists are copied to shared memory
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

__host__ __device__ __forceinline__ int64_t imin64(int64_t a, int64_t b) { return a < b ? a : b; }
__host__ __device__ __forceinline__ int64_t imax64(int64_t a, int64_t b) { return a > b ? a : b; }

__device__ __forceinline__ bool nonfinite_bad(float z) { return !(z < INFINITY); }

// Stage clocks of block 0 for the GPU check's profile build (-DLW_TREE_PROFILE); nothing otherwise.
#ifdef LW_TREE_PROFILE
__device__ unsigned long long g_prof[16];
#endif
#if defined(LW_TREE_PROFILE) && defined(__CUDA_ARCH__)
struct ProfScope {
  int k;
  long long t0;
  __device__ explicit ProfScope(int k_) : k(k_), t0(clock64()) {}
  __device__ ~ProfScope() {
    if (threadIdx.x == 0 && blockIdx.x == 0) atomicAdd(&g_prof[k], static_cast<unsigned long long>(clock64() - t0));
  }
};
#define LW_PROF_CAT2(a, b) a##b
#define LW_PROF_CAT(a, b) LW_PROF_CAT2(a, b)
#define LW_PROF(k) ProfScope LW_PROF_CAT(prof_scope_, __LINE__)(k)
#else
#define LW_PROF(k)
#endif

// ---------------------------------------------------------------- cluster primitives (sm_90; one block below)
__device__ __forceinline__ void cluster_sync(int ncl) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (ncl > 1) {
    cooperative_groups::this_cluster().sync();
    return;
  }
#endif
  (void)ncl;
  __syncthreads();
}
template <class T>
__device__ __forceinline__ T* cluster_peer(T* p, int rank, int ncl) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (ncl > 1) return cooperative_groups::this_cluster().map_shared_rank(p, static_cast<unsigned>(rank));
#endif
  (void)rank;
  (void)ncl;
  return p;
}
__device__ __forceinline__ int cluster_rank(int ncl) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  if (ncl > 1) return static_cast<int>(cooperative_groups::this_cluster().block_rank());
#endif
  (void)ncl;
  return 0;
}
// First chunk of block `rank`'s range (chunks [first(r), first(r + 1)) of nch).
__host__ __device__ __forceinline__ int32_t range_first(int32_t nch, int rank, int ncl) {
  return static_cast<int32_t>(static_cast<int64_t>(nch) * rank / ncl);
}

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

// A chunk's values as one warp holds them: lane l has V = C / 32 values, v[k·E + e] = token
// c·C + k·WT + l·E + e (WT = 32·E), so every k is one coalesced 16-byte load per lane.
template <int DT>
struct ChunkLayout {
  static constexpr int E = Elt<DT>::E, WT = 32 * E, SUB = C / WT, N = C / 32;
  __device__ static int64_t token(int32_t c, int lane, int j) {
    return static_cast<int64_t>(c) * C + (j / E) * WT + lane * E + (j % E);
  }
};

__device__ __forceinline__ float warp_sum(float s) {
  for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
  return s;
}

// Statistics of one chunk by one warp: max, first argmax, bad flag, and (EXP) Σ exp((z - max) * invT).
// The summation order is fixed by the layout, so a chunk's statistics do not depend on who computes them.
template <int DT, bool EXP>
__device__ __forceinline__ ChunkStat chunk_stat(int32_t c, const float* v, float inv_t) {
  using L = ChunkLayout<DT>;
  const int lane = threadIdx.x & 31;
  // Four independent running maxima (ILP); merged by (value, lower token), which is the first argmax.
  constexpr int A = 4;
  float mk[A];
  int32_t ak[A];
  int32_t bad = 0;
#pragma unroll
  for (int k = 0; k < A; ++k) { mk[k] = -INFINITY; ak[k] = 0x7fffffff; }
#pragma unroll
  for (int j = 0; j < L::N; ++j) {
    if (!EXP) bad |= nonfinite_bad(v[j]) && v[j] != -INFINITY ? 1 : 0;
    if (v[j] > mk[j % A]) { mk[j % A] = v[j]; ak[j % A] = static_cast<int32_t>(L::token(c, lane, j)); }
  }
  float m = mk[0];
  int32_t a = ak[0];
#pragma unroll
  for (int k = 1; k < A; ++k)
    if (mk[k] > m || (mk[k] == m && ak[k] < a)) { m = mk[k]; a = ak[k]; }
  for (int o = 16; o > 0; o >>= 1) {
    float m2 = __shfl_xor_sync(0xffffffffu, m, o);
    int32_t a2 = __shfl_xor_sync(0xffffffffu, a, o);
    if (m2 > m || (m2 == m && a2 < a)) { m = m2; a = a2; }
  }
  float s = 0.f;
  if (EXP && m > -INFINITY) {
    float sk[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
    for (int j = 0; j < L::N; ++j) sk[j % 4] += __expf((v[j] - m) * inv_t);
    s = warp_sum((sk[0] + sk[1]) + (sk[2] + sk[3]));
    // A NaN makes its exp NaN; a +inf makes the max +inf (and inf - inf NaN): the sum finds both.
    bad = s != s || m == INFINITY ? 1 : 0;
    if (bad) s = 0.f;
  } else {
    if (EXP)
#pragma unroll
      for (int j = 0; j < L::N; ++j) bad |= nonfinite_bad(v[j]) && v[j] != -INFINITY ? 1 : 0;
    bad = __any_sync(0xffffffffu, bad);
  }
  return ChunkStat{m, s, a, bad};
}

// Raw 16-byte words of one chunk for this lane (SUB of them; tokens past V are fixed up by unpack_chunk).
template <int DT>
__device__ __forceinline__ void load_chunk(const void* row, int32_t c, int64_t V, bool vec_ok, uint4* raw) {
  using L = ChunkLayout<DT>;
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int k = 0; k < L::SUB; ++k) {
    const int64_t i = static_cast<int64_t>(c) * C + k * L::WT + lane * L::E;
    if (vec_ok && i + L::E <= V)
      raw[k] = __ldg(reinterpret_cast<const uint4*>(static_cast<const uint8_t*>(row) + i * (DT == 0 ? 4 : 2)));
  }
}
template <int DT>
__device__ __forceinline__ void unpack_chunk(const void* row, int32_t c, int64_t V, bool vec_ok, const uint4* raw,
                                             float* v) {
  using L = ChunkLayout<DT>;
  const int lane = threadIdx.x & 31;
#pragma unroll
  for (int k = 0; k < L::SUB; ++k) {
    const int64_t i = static_cast<int64_t>(c) * C + k * L::WT + lane * L::E;
    if (vec_ok && i + L::E <= V) Elt<DT>::unpack(raw[k], v + k * L::E);
    else
#pragma unroll
      for (int e = 0; e < L::E; ++e) v[k * L::E + e] = i + e < V ? Elt<DT>::at(row, i + e) : -INFINITY;
  }
}

// Streams chunks [c0, c1) of one row through the block, one chunk per warp at a time; each warp keeps the loads
// of U chunks (U·C·bytes/32 per lane, ~4 KB per warp) in flight before it computes. f(c, v) runs for each
// chunk with this lane's values in the ChunkLayout.
template <int DT, int U = (DT == 0 ? 1 : 2), class F>
__device__ __forceinline__ void warp_chunks(const void* row, int32_t c0, int32_t c1, int64_t V, F&& f) {
  using L = ChunkLayout<DT>;
  const bool vec_ok = (reinterpret_cast<uintptr_t>(row) & 15) == 0;
  const int warp = threadIdx.x >> 5;
  for (int32_t base = c0 + warp; base < c1; base += NW * U) {
    uint4 raw[U][L::SUB];
#pragma unroll
    for (int u = 0; u < U; ++u)
      if (base + u * NW < c1) load_chunk<DT>(row, base + u * NW, V, vec_ok, raw[u]);
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int32_t c = base + u * NW;
      if (c >= c1) break;  // warp-uniform
      float v[L::N];
      unpack_chunk<DT>(row, c, V, vec_ok, raw[u], v);
      f(c, v);
    }
  }
}

// Per-chunk statistics of chunks [c0, c1) of one row by the whole block into cs (smem).
template <int DT, bool EXP>
__device__ void chunk_pass(const void* row, int64_t V, int32_t c0, int32_t c1, float inv_t, ChunkStat* cs) {
  const int lane = threadIdx.x & 31;
  warp_chunks<DT>(row, c0, c1, V, [&](int32_t c, const float* v) {
    ChunkStat s = chunk_stat<DT, EXP>(c, v, inv_t);
    if (lane == 0) cs[c] = s;
  });
}

// E consecutive values of a row of dtype DQ starting at i (a multiple of E), -inf past V.
template <int DQ, int E>
__device__ __forceinline__ void load_run(const void* row, int64_t i, int64_t V, bool vec_ok, float* v) {
  if (vec_ok && i + E <= V) {
    if constexpr (DQ == 0) {
#pragma unroll
      for (int j = 0; j < E; j += 4) Elt<0>::vec(row, i + j, v + j);
    } else if constexpr (E == 8) {
      Elt<DQ>::vec(row, i, v);
    } else {
      const uint2 x = *reinterpret_cast<const uint2*>(static_cast<const uint16_t*>(row) + i);
      const uint32_t w[2] = {x.x, x.y};
#pragma unroll
      for (int k = 0; k < 2; ++k) {
        v[2 * k] = Elt<DQ>::cvt(static_cast<uint16_t>(w[k] & 0xffffu));
        v[2 * k + 1] = Elt<DQ>::cvt(static_cast<uint16_t>(w[k] >> 16));
      }
    }
  } else {
#pragma unroll
    for (int k = 0; k < E; ++k) v[k] = i + k < V ? Elt<DQ>::at(row, i + k) : -INFINITY;
  }
}

// ---------------------------------------------------------------- the block's Ops for tree::walk
template <int DT>
struct BlockOps {
  const Params& P;
  Shared& sh;
  ChunkStat* cs;        // [nch] chunk stats of the current row
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
  int rank, ncl;   // this block's place in the request's cluster
  int32_t c0, c1;  // its chunk range
  int32_t path_at, path_end;  // this request's output slots
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
  __device__ ChunkStat row_stats(const void* row, const ChunkStat* pre, float it) {
    LW_PROF(0);
    if (pre) {
      for (int32_t c = threadIdx.x; c < nch; c += NT) cs[c] = pre[c];
      __syncthreads();
    } else {
      {
        LW_PROF(10);
        chunk_pass<D2, EXP>(row, V, c0, c1, it, cs);
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
    const void* row = row_ptr(P.target, DT, g);
    ChunkStat a = row_stats<DT, false>(row, P.pre_t ? P.pre_t + static_cast<int64_t>(g) * nch : nullptr, 1.f);
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
  template <int DQ>
  __device__ double residual_pass_q(const Residual& r) {
    LW_PROF(2);
    using L = ChunkLayout<DT>;
    const int lane = threadIdx.x & 31;
    const bool qvec = (reinterpret_cast<uintptr_t>(qrow) & 15) == 0;
    warp_chunks<DT>(prow, c0, c1, V, [&](int32_t c, const float* v) {
      float s = 0.f;
#pragma unroll
      for (int k = 0; k < L::SUB; ++k) {
        const int64_t i = L::token(c, lane, k * L::E);
        float qv[L::E];
        if (r.use_q) load_run<DQ, L::E>(qrow, i, V, qvec, qv);
#pragma unroll
        for (int e = 0; e < L::E; ++e) {
          const int64_t x = i + e;
          if (x < V) {
            const float px = p_of(static_cast<int32_t>(x), v[k * L::E + e]);
            s += tree::generic_value(px, r.use_q && px > 0.f ? __expf(qv[e] - qm) * inv_zq : 0.f, r);
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
    return P.dt_q == 0 ? residual_pass_q<0>(r) : P.dt_q == 1 ? residual_pass_q<1>(r) : residual_pass_q<2>(r);
  }

  __device__ double sum_generic(const Residual& r) { return residual_pass(r); }

  __device__ float value(int32_t x, const Residual& r) const {
    return tree::residual_value(x, tree::generic_value(p(x), r.use_q ? q(x) : 0.f, r), r);
  }

  __device__ int32_t race(const Residual& r, const RowKey& key) {
    LW_PROF(3);
    if (r.use_q) residual_pass(r);
    else {
      for (int32_t c = threadIdx.x; c < nch; c += NT) rmass[c] = static_cast<float>(pmass[c] * inv_zd);
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
    warp_chunks<DT>(prow, c0, c1, V, [&](int32_t c, const float* v) {
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
    LW_PROF(6);
    using L = ChunkLayout<DT>;
    const int lane = threadIdx.x & 31;
    warp_chunks<DT>(prow, c0, c1, V, [&](int32_t c, const float* v) {
      float s = 0.f;
#pragma unroll
      for (int j = 0; j < L::N; ++j)
        if (kept(static_cast<int32_t>(L::token(c, lane, j)), v[j])) s += __expf((v[j] - pm) * inv_t);
      s = warp_sum(s);
      if (lane == 0) pmass[c] = s;
    });
    gather(pmass);
  }
};

// A request's child lists. The walks read them at every node, so the kernels copy them to shared memory
// (stage_child_lists) when they fit; the pointers are then offset so that global node / child indices address
// the copies.
struct ChildLists {
  const int32_t* start;
  const int32_t* node;
  const int32_t* token;
};
__device__ ChildLists stage_child_lists(const Params& P, int64_t b, int32_t* dst) {
  ChildLists l{P.child_start, P.child_node, P.child_token};
  if (P.tree_ints <= 0) return l;
  const int32_t root = P.offsets[b], nn = P.offsets[b + 1] - root;
  const int32_t e0 = P.child_start[root], e1 = P.child_start[root + nn];
  int32_t* cs = dst;
  int32_t* cn = cs + nn + 1;
  int32_t* ct = cn + (e1 - e0);
  for (int32_t i = threadIdx.x; i <= nn; i += NT) cs[i] = P.child_start[root + i];
  for (int32_t i = threadIdx.x; i < e1 - e0; i += NT) {
    cn[i] = P.child_node[e0 + i];
    ct[i] = P.child_token[e0 + i];
  }
  __syncthreads();
  return ChildLists{cs - root, cn - e0, ct - e0};
}

// Dynamic shared memory layout of the walk kernel; tree_ints = room for one request's child lists (0: they are
// read from global memory).
__host__ __device__ inline size_t walk_smem(int32_t nch, int32_t max_children, int32_t tree_ints) {
  return static_cast<size_t>(nch) * (sizeof(ChunkStat) + 2 * sizeof(float)) + 256 * (4 + 8) +
         static_cast<size_t>(kCand) * 16 + static_cast<size_t>(max_children + 1) * sizeof(float) +
         static_cast<size_t>(tree_ints) * sizeof(int32_t) + 64;
}

template <int DT>
__global__ void __launch_bounds__(NT, 2) walk_kernel(Params P, int32_t max_children) {
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
  BlockOps<DT> ops{P, sh, cs, pmass, rmass, hist, hmass, frozen, cz, ci, sz, si, b, nch, P.V, rank, ncl,
                   range_first(nch, rank, ncl), range_first(nch, rank + 1, ncl), P.path_off[b], P.path_off[b + 1]};
  RowKey key{P.k0, P.k1, static_cast<uint32_t>(b), P.step, 0};
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

// Greedy walks only need each visited row's first argmax, so they get a lean kernel: a cluster of blocks per
// request, each block reducing its chunk range to one (max, argmax, bad) that the cluster exchanges through
// distributed shared memory; ties go to the lower token, so the result equals the generic walk's.
struct Best3 {
  float m;
  int32_t a;
  int32_t bad;
};
__device__ __forceinline__ void best_merge(Best3& x, const Best3& y) {
  x.bad |= y.bad;
  if (y.m > x.m || (y.m == x.m && y.a < x.a)) { x.m = y.m; x.a = y.a; }
}

template <int DT>
__global__ void __launch_bounds__(NT, 2) greedy_kernel(Params P, int32_t max_children) {
  (void)max_children;  // same parameters as walk_kernel
  using L = ChunkLayout<DT>;
  __shared__ Best3 warp_best[NW];
  __shared__ Best3 block_best_s;  // read by the cluster's other blocks
  __shared__ int32_t next_child;
  const int ncl = P.ncl;
  const int64_t b = blockIdx.x / ncl;
  const int rank = cluster_rank(ncl);
  const int32_t c0 = range_first(P.nch, rank, ncl), c1 = range_first(P.nch, rank + 1, ncl);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int32_t root = P.offsets[b], at = P.path_off[b], end = P.path_off[b + 1];
  const int64_t V = P.V;
  extern __shared__ __align__(16) unsigned char tree_smem[];
  const ChildLists lists = stage_child_lists(P, b, reinterpret_cast<int32_t*>(tree_smem));
  int32_t g = root, n = 0;
  for (;;) {
    const void* row = static_cast<const uint8_t*>(P.target) + static_cast<int64_t>(g) * V * (DT == 0 ? 4 : 2);
    Best3 t{-INFINITY, 0x7fffffff, 0};
    warp_chunks<DT, DT == 0 ? 2 : 4>(row, c0, c1, V, [&](int32_t c, const float* v) {
#pragma unroll
      for (int j = 0; j < L::N; ++j) {  // tokens rise with j and with c: strict > keeps the first maximum
        t.bad |= nonfinite_bad(v[j]) && v[j] != -INFINITY ? 1 : 0;
        if (v[j] > t.m) { t.m = v[j]; t.a = static_cast<int32_t>(L::token(c, lane, j)); }
      }
    });
    for (int o = 16; o > 0; o >>= 1) {
      Best3 y{__shfl_xor_sync(0xffffffffu, t.m, o), __shfl_xor_sync(0xffffffffu, t.a, o),
              __shfl_xor_sync(0xffffffffu, t.bad, o)};
      best_merge(t, y);
    }
    if (lane == 0) warp_best[warp] = t;
    __syncthreads();
    if (threadIdx.x == 0) {
      Best3 r = warp_best[0];
      for (int w = 1; w < NW; ++w) best_merge(r, warp_best[w]);
      block_best_s = r;
    }
    cluster_sync(ncl);
    Best3 r = *cluster_peer(&block_best_s, 0, ncl);
    for (int k = 1; k < ncl; ++k) best_merge(r, *cluster_peer(&block_best_s, k, ncl));
    if (threadIdx.x == 0) next_child = 0x7fffffff;
    cluster_sync(ncl);  // peers have read block_best_s; next_child reset is visible
    if (r.bad || r.m == -INFINITY) {
      if (threadIdx.x == 0 && rank == 0) atomicCAS(P.err, 0, r.bad ? 1 : 2), P.err[1] = g;
      r.a = 0;
    }
    const int32_t y = r.a < V ? r.a : 0;
    const int32_t cb = lists.start[g], ce = lists.start[g + 1];
    for (int32_t i = cb + threadIdx.x; i < ce; i += NT)
      if (lists.token[i] == y) atomicMin(&next_child, i);
    if (threadIdx.x == 0 && rank == 0 && at + n < end) {
      P.out[at + n] = g - root;
      P.out[P.total_path + at + n] = y;
    }
    ++n;
    __syncthreads();
    const int32_t nx = next_child;
    if (nx == 0x7fffffff || r.bad || r.m == -INFINITY) break;
    g = lists.node[nx];
  }
  if (threadIdx.x == 0 && rank == 0) P.out[2 * P.total_path + b] = n;
  cluster_sync(ncl);
}

// Greedy for small batches in one launch: every (row, chunk) warp folds its first argmax into the row's 64-bit
// key (monotone value key << 32 | ~token, so atomicMax keeps the larger value, then the lower token); the last
// block to finish walks every request over those keys. row_key / row_bad / the ticket start zeroed.
__device__ __forceinline__ uint32_t value_key(float z) {
  const uint32_t u = __float_as_uint(z);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ float key_value(uint32_t k) {
  return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
}

template <int DT>
__global__ void __launch_bounds__(256) greedy_rows_kernel(Params P, unsigned long long* row_key, int32_t* row_bad,
                                                          unsigned* ticket) {
  using L = ChunkLayout<DT>;
  const int64_t V = P.V;
  const int64_t r = blockIdx.y;
  const int32_t c = blockIdx.x * 8 + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (c < P.nch) {
    const void* row = static_cast<const uint8_t*>(P.target) + r * V * (DT == 0 ? 4 : 2);
    const bool vec_ok = (reinterpret_cast<uintptr_t>(row) & 15) == 0;
    uint4 raw[L::SUB];
    float v[L::N];
    load_chunk<DT>(row, c, V, vec_ok, raw);
    unpack_chunk<DT>(row, c, V, vec_ok, raw, v);
    const ChunkStat st = chunk_stat<DT, false>(c, v, 1.f);
    if (lane == 0) {
      atomicMax(&row_key[r], (static_cast<unsigned long long>(value_key(st.max)) << 32) |
                                 (0xffffffffu - static_cast<uint32_t>(st.arg)));
      if (st.bad) atomicOr(&row_bad[r], 1);
    }
  }
  __shared__ bool last;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) last = atomicAdd(ticket, 1u) == gridDim.x * gridDim.y - 1;
  __syncthreads();
  if (!last) return;
  __threadfence();
  for (int64_t b = threadIdx.x; b < P.batch; b += blockDim.x) {
    const int32_t root = P.offsets[b], at = P.path_off[b], end = P.path_off[b + 1];
    int32_t g = root, n = 0;
    for (;;) {
      const unsigned long long k = __ldcg(&row_key[g]);
      const float m = key_value(static_cast<uint32_t>(k >> 32));
      int32_t y = static_cast<int32_t>(0xffffffffu - static_cast<uint32_t>(k & 0xffffffffu));
      const bool bad = __ldcg(&row_bad[g]) != 0;
      if (bad || m == -INFINITY) {
        atomicCAS(P.err, 0, bad ? 1 : 2);
        P.err[1] = g;
        y = 0;
      }
      if (y >= V) y = 0;
      if (at + n < end) {
        P.out[at + n] = g - root;
        P.out[P.total_path + at + n] = y;
      }
      ++n;
      int32_t next = -1;
      for (int32_t i = P.child_start[g]; i < P.child_start[g + 1]; ++i)
        if (P.child_token[i] == y) { next = P.child_node[i]; break; }
      if (next < 0 || bad || m == -INFINITY) break;
      g = next;
    }
    P.out[2 * P.total_path + b] = n;
  }
}

// Rows path: chunk stats of every row (grid: chunk groups × rows), one warp per (row, chunk).
template <int DT>
__global__ void __launch_bounds__(256) rows_kernel(const void* data, int64_t V, int32_t nch, const float* inv_t_row,
                                                   ChunkStat* out) {
  using L = ChunkLayout<DT>;
  const int64_t r = blockIdx.y;
  const int32_t c = blockIdx.x * 8 + (threadIdx.x >> 5);  // 8 warps per block, one chunk each
  if (c >= nch) return;
  const void* row = static_cast<const uint8_t*>(data) + r * V * (DT == 0 ? 4 : 2);
  const bool vec_ok = (reinterpret_cast<uintptr_t>(row) & 15) == 0;
  const float it = inv_t_row ? inv_t_row[r] : 1.f;
  uint4 raw[L::SUB];
  float v[L::N];
  load_chunk<DT>(row, c, V, vec_ok, raw);
  unpack_chunk<DT>(row, c, V, vec_ok, raw, v);
  ChunkStat a = chunk_stat<DT, true>(c, v, it);
  if ((threadIdx.x & 31) == 0) out[r * nch + c] = a;
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
  bool greedy = false;  // the lean greedy kernel instead of the generic walk
  bool greedy_rows = false;  // small greedy batch: one launch reduces every row, then walks
  const void* fn = nullptr;
  size_t zero_bytes = 8;
  unsigned* ticket = nullptr;
  unsigned long long* row_key = nullptr;
  int32_t* row_bad = nullptr;
};

static void set_attributes(const void* fn, size_t smem, bool large_clusters) {
  if (smem > 48 * 1024)
    check(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)),
          "cudaFuncSetAttribute (vocabulary too large for shared memory)");
  if (large_clusters)
    check(cudaFuncSetAttribute(fn, cudaFuncAttributeNonPortableClusterSizeAllowed, 1),
          "cudaFuncSetAttribute (cluster size)");
}

static cudaLaunchConfig_t cluster_config(int64_t blocks, size_t smem, int ncl, cudaLaunchAttribute* attr) {
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = dim3(static_cast<unsigned>(blocks));
  cfg.blockDim = dim3(NT);
  cfg.dynamicSmemBytes = smem;
  cfg.stream = cudaStreamPerThread;
  attr->id = cudaLaunchAttributeClusterDimension;
  attr->val.clusterDim.x = static_cast<unsigned>(ncl);
  attr->val.clusterDim.y = 1;
  attr->val.clusterDim.z = 1;
  cfg.attrs = attr;
  cfg.numAttrs = ncl > 1 ? 1 : 0;
  return cfg;
}

// How many clusters of each size (2, 4, 8, 16 blocks) of kernel fn can be resident at once.
static std::array<int, 5> resident_clusters(const void* fn, int dev, size_t smem) {
  static std::mutex mu;
  static std::map<std::tuple<const void*, int, size_t>, std::array<int, 5>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find({fn, dev, smem});
  if (it != cache.end()) return it->second;
  std::array<int, 5> n{};
  for (int k = 1; k <= 4; ++k) {
    cudaLaunchAttribute attr;
    cudaLaunchConfig_t cfg = cluster_config(1 << k, smem, 1 << k, &attr);
    int c = 0;
    if (cudaOccupancyMaxActiveClusters(&c, fn, &cfg) != cudaSuccess) {
      cudaGetLastError();  // clear: this size is not supported here
      c = 0;
    }
    n[k] = c;
  }
  cache[{fn, dev, smem}] = n;
  return n;
}

// Blocks per request: the largest cluster (up to 8) whose clusters for the whole batch are (nearly) resident
// in one wave, so each visited row is streamed by that many SMs; 1 before sm_90. LENGTHWISE_TREE_CLUSTER
// forces a size (up to 16).
static int choose_cluster(const void* fn, int dev, size_t smem, int64_t batch) {
  int major = 0;
  check(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev), "cudaDeviceGetAttribute");
  if (major < 9) return 1;
  set_attributes(fn, smem, true);
  const std::array<int, 5> n = resident_clusters(fn, dev, smem);
  if (const char* e = std::getenv("LENGTHWISE_TREE_CLUSTER")) {
    const int want = std::atoi(e);
    for (int k = 4; k >= 1; --k)
      if ((1 << k) <= want && n[k] > 0) return 1 << k;
    return 1;
  }
  // Larger clusters than 8 measured slower (the per-row barriers grow, the slices shrink); a batch that needs a
  // few more clusters than are resident still gains from the larger size.
  for (int k = 3; k >= 1; --k)
    if (static_cast<int64_t>(n[k]) * 10 >= batch * 9) return 1 << k;
  return 1;
}

static const void* walk_fn(int dt) {
  return dt == 0 ? reinterpret_cast<const void*>(walk_kernel<0>)
       : dt == 1 ? reinterpret_cast<const void*>(walk_kernel<1>)
                 : reinterpret_cast<const void*>(walk_kernel<2>);
}
static const void* greedy_fn(int dt) {
  return dt == 0 ? reinterpret_cast<const void*>(greedy_kernel<0>)
       : dt == 1 ? reinterpret_cast<const void*>(greedy_kernel<1>)
                 : reinterpret_cast<const void*>(greedy_kernel<2>);
}

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
  m.greedy_rows = a.mode == VerifyMode::Greedy && m.rows_path && N <= 65535;
  // greedy rows path: after err (zeroed together): a ticket, then per-row keys (8-byte aligned) and bad flags
  const size_t extra = m.greedy_rows ? 2 + 2 * static_cast<size_t>(N) + N : 0;
  m.out_dev.reset((out_n + extra) * 4);
  P.out = m.out_dev.as<int32_t>();
  P.err = P.out + 2 * static_cast<size_t>(P.total_path) + B;
  m.host_out.resize(out_n);
  m.zero_bytes = 8;
  if (m.greedy_rows) {
    int32_t* tail = P.err + 2;
    m.ticket = reinterpret_cast<unsigned*>(tail);
    const uintptr_t k = (reinterpret_cast<uintptr_t>(tail + 1) + 7) & ~uintptr_t(7);
    m.row_key = reinterpret_cast<unsigned long long*>(k);
    m.row_bad = reinterpret_cast<int32_t*>(m.row_key + N);
    m.zero_bytes = static_cast<size_t>(reinterpret_cast<uint8_t*>(m.row_bad + N) - reinterpret_cast<uint8_t*>(P.err));
  } else if (m.rows_path) {
    const size_t per = static_cast<size_t>(P.nch) * sizeof(ChunkStat);
    m.pre_dev.reset(per * N * (need_q ? 2 : 1));
    P.pre_t = m.pre_dev.as<ChunkStat>();
    if (need_q) P.pre_q = P.pre_t + static_cast<size_t>(P.nch) * N;
  }
  int32_t tree_ints = 0;
  for (int64_t b = 0; b < B; ++b) {
    const int32_t nn = a.trees.offsets[b + 1] - a.trees.offsets[b];
    tree_ints = std::max(tree_ints, 3 * nn + 1);  // child_start (nn + 1) + child_node, child_token (nn - 1 each)
  }
  P.tree_ints = tree_ints * 4 <= 16 * 1024 ? tree_ints : 0;
  m.greedy = a.mode == VerifyMode::Greedy && !m.rows_path;
  m.smem = m.greedy ? static_cast<size_t>(P.tree_ints) * sizeof(int32_t)
                     : walk_smem(P.nch, plan.max_children, P.tree_ints);
  m.fn = m.greedy ? greedy_fn(m.dt_t) : walk_fn(m.dt_t);
  set_attributes(m.fn, m.smem, false);
  P.ncl = choose_cluster(m.fn, dev, m.smem, B);
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
  check(cudaMemsetAsync(P.err, 0, m.zero_bytes, cudaStreamPerThread), "cudaMemsetAsync");
  if (m.greedy_rows) {
    dim3 grid(static_cast<unsigned>((P.nch + 7) / 8), static_cast<unsigned>(m.rows));
    if (m.dt_t == 0) greedy_rows_kernel<0><<<grid, 256, 0, cudaStreamPerThread>>>(P, m.row_key, m.row_bad, m.ticket);
    else if (m.dt_t == 1) greedy_rows_kernel<1><<<grid, 256, 0, cudaStreamPerThread>>>(P, m.row_key, m.row_bad, m.ticket);
    else greedy_rows_kernel<2><<<grid, 256, 0, cudaStreamPerThread>>>(P, m.row_key, m.row_bad, m.ticket);
    check(cudaGetLastError(), "verifyTree greedy rows kernel launch");
    return;
  }
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
  cudaLaunchAttribute attr;
  cudaLaunchConfig_t cfg = cluster_config(m.batch * P.ncl, m.smem, P.ncl, &attr);
  void* args[] = {&P, &m.max_children};
  check(cudaLaunchKernelExC(&cfg, m.fn, args), "verifyTree walk kernel launch");
}

bool TreeVerifyCuda::rows_path() const { return impl_->rows_path; }

#ifdef LW_TREE_PROFILE
void tree_profile(unsigned long long* out, bool reset) {
  check(cudaMemcpyFromSymbol(out, tv::g_prof, sizeof(tv::g_prof)), "profile");
  if (reset) {
    unsigned long long z[16] = {};
    check(cudaMemcpyToSymbol(tv::g_prof, z, sizeof(z)), "profile");
  }
}
#endif
int TreeVerifyCuda::cluster() const { return impl_->greedy_rows ? 1 : impl_->P.ncl; }

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
