// verifyTree CUDA kernels, shared pieces: sizes, the parameter block, dtype element access, cluster and block
// primitives, and the chunk streaming every row pass uses (one warp per chunk of C tokens, 16-byte loads, a
// fixed summation order so a chunk's statistics do not depend on which block or cluster size computed them).
// Included by tree_verify.cu only (one translation unit).
#pragma once
#include <cooperative_groups.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "core/dtype.h"
#include "dtype.cuh"
#include "core/tree_walk.h"
#include "kept_set.cuh"

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
  const KeptRule* rules;         // [batch] each request's knobs (core/sampling_params.h kept_rule)
  const uint32_t* keys;    // [4 × batch]: request b's RowKey k0, k1, request, step (tree::request_key)
  const ChunkStat* pre_t;  // rows path: per-row chunk stats of target (invT of the row's request) or null
  const ChunkStat* pre_q;  // ... of draft (invT = 1)
  int32_t* out;            // [total_path] nodes, then [total_path] tokens, then [batch] counts
  int32_t* err;            // [2]: error code, row
  int64_t batch;
  int32_t ncl;             // blocks per request (a thread block cluster when > 1)
  int32_t tree_ints;       // > 0: each request's child lists are copied to shared memory
};

// ---------------------------------------------------------------- element access
// The one trait set of cuda/dtype.cuh, reached by the dtype code these kernels are templated on.
template <int DT>
using Elt = ElemOfCode<DT>;

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
  static constexpr int E = Elt<DT>::kPerVec, WT = 32 * E, SUB = C / WT, N = C / 32;
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
      raw[k] = __ldg(reinterpret_cast<const uint4*>(static_cast<const uint8_t*>(row) + i * Elt<DT>::kSize));
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
      for (int e = 0; e < L::E; ++e) v[k * L::E + e] = i + e < V ? Elt<DT>::load(row, i + e) : -INFINITY;
  }
}

// Streams chunks [c0, c1) of one row through the block, one chunk per warp at a time; each warp keeps the loads
// of U chunks (U·C·bytes/32 per lane, ~4 KB per warp) in flight before it computes. f(c, v) runs for each
// chunk with this lane's values in the ChunkLayout.
// `fix` processes the values before f sees them (the logits processors, tree_walk_kernel.cuh; NoFix: nothing):
// fix.load(c) runs with the chunk's loads (what it fetches is in flight with them), fix(c, pre, v) after.
struct NoFix {
  struct Pre {};
  __device__ Pre load(int32_t) const { return {}; }
  __device__ void operator()(int32_t, const Pre&, float*) const {}
};
template <int DT, int U = Elt<DT>::kPerVec / 4, class Fix, class F>
__device__ __forceinline__ void warp_chunks_fixed(const void* row, int32_t c0, int32_t c1, int64_t V, const Fix& fix,
                                                  F&& f) {
  using L = ChunkLayout<DT>;
  using Pre = typename std::decay_t<Fix>::Pre;
  const bool vec_ok = (reinterpret_cast<uintptr_t>(row) & 15) == 0;
  const int warp = threadIdx.x >> 5;
  for (int32_t base = c0 + warp; base < c1; base += NW * U) {
    uint4 raw[U][L::SUB];
    Pre pre[U];
#pragma unroll
    for (int u = 0; u < U; ++u)
      if (base + u * NW < c1) {
        load_chunk<DT>(row, base + u * NW, V, vec_ok, raw[u]);
        pre[u] = fix.load(base + u * NW);
      }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int32_t c = base + u * NW;
      if (c >= c1) break;  // warp-uniform
      float v[L::N];
      unpack_chunk<DT>(row, c, V, vec_ok, raw[u], v);
      fix(c, pre[u], v);
      f(c, v);
    }
  }
}
template <int DT, int U = Elt<DT>::kPerVec / 4, class F>
__device__ __forceinline__ void warp_chunks(const void* row, int32_t c0, int32_t c1, int64_t V, F&& f) {
  warp_chunks_fixed<DT, U>(row, c0, c1, V, NoFix{}, f);
}

// Per-chunk statistics of chunks [c0, c1) of one row by the whole block into cs (smem).
template <int DT, bool EXP, int U = Elt<DT>::kPerVec / 4, class Fix = NoFix>
__device__ void chunk_pass(const void* row, int64_t V, int32_t c0, int32_t c1, float inv_t, ChunkStat* cs,
                           const Fix& fix = Fix{}) {
  const int lane = threadIdx.x & 31;
  warp_chunks_fixed<DT, U>(row, c0, c1, V, fix, [&](int32_t c, const float* v) {
    ChunkStat s = chunk_stat<DT, EXP>(c, v, inv_t);
    if (lane == 0) cs[c] = s;
  });
}

// E consecutive values of a row of dtype DQ starting at i (a multiple of E), -inf past V.
template <int DQ, int E>
__device__ __forceinline__ void load_run(const void* row, int64_t i, int64_t V, bool vec_ok, float* v) {
  if (vec_ok && i + E <= V) {
    if constexpr (Elt<DQ>::kSize == 4) {
#pragma unroll
      for (int j = 0; j < E; j += 4) Elt<0>::load_vec(row, i + j, v + j);
    } else if constexpr (E == 8) {
      Elt<DQ>::load_vec(row, i, v);
    } else {
      const uint2 x = *reinterpret_cast<const uint2*>(static_cast<const uint16_t*>(row) + i);
      const uint32_t w[2] = {x.x, x.y};
#pragma unroll
      for (int k = 0; k < 2; ++k) {
        v[2 * k] = Elt<DQ>::to_float(static_cast<uint16_t>(w[k] & 0xffffu));
        v[2 * k + 1] = Elt<DQ>::to_float(static_cast<uint16_t>(w[k] >> 16));
      }
    }
  } else {
#pragma unroll
    for (int k = 0; k < E; ++k) v[k] = i + k < V ? Elt<DQ>::load(row, i + k) : -INFINITY;
  }
}

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

}  // namespace tv
}  // namespace cuda
}  // namespace lw
