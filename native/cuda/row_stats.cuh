// Device-side streaming row statistics (docs/logit-statistics.md §1), shared by every CUDA kernel that reduces logit rows.
// Partials are kept in base-2 units (x·log2e) so each element costs one FMA + one ex2; finalize converts back.
// Threads stream 16-byte vectors (8 × 16-bit or 4 × fp32), coalesced across the block.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "dtype.cuh"

namespace lw {
namespace cuda {

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;
constexpr float kMinExp2 = -125.0f;  // 2^-125: below it a term cannot change an fp32 sum

struct DevPartial {
  float m;     // max of scaled values, base 2 (−inf when empty)
  float s, u, w;
  float best;  // max raw value (argmax)
  int best_index;
  int greater;
  int pos_inf;
  int nan;
};

// 2^x with flush-to-zero: one MUFU.EX2 (exp2f adds denormal scaling around it). Results below 2^-126 become 0,
// which cannot change an fp32 sum that already holds a term ≥ 1.
__device__ __forceinline__ float ex2_ftz(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x));
  return y;
}

__device__ __forceinline__ DevPartial empty_partial() {
  DevPartial p;
  p.m = -INFINITY; p.s = 0.f; p.u = 0.f; p.w = 0.f;
  p.best = -INFINITY; p.best_index = 0x7fffffff; p.greater = 0; p.pos_inf = 0; p.nan = 0;
  return p;
}

__device__ __forceinline__ void rescale(DevPartial& p, float m) {
  if (p.m == m) return;
  if (p.m == -INFINITY) { p.s = 0.f; p.u = 0.f; p.w = 0.f; p.m = m; return; }
  float d = m - p.m;
  float f = exp2f(-d);
  float s0 = p.s, u0 = p.u;
  p.s = f * s0;
  p.u = f * (u0 - d * s0);
  p.w = f * (p.w - 2.f * d * u0 + d * d * s0);
  p.m = m;
}

__device__ __forceinline__ void merge(DevPartial& a, DevPartial b) {
  a.nan |= b.nan;
  a.greater += b.greater;
  a.pos_inf += b.pos_inf;
  if (b.best > a.best || (b.best == a.best && b.best_index < a.best_index)) { a.best = b.best; a.best_index = b.best_index; }
  if (b.m == -INFINITY) { if (b.s != b.s) a.s = b.s; return; }
  float m = fmaxf(a.m, b.m);
  rescale(a, m);
  rescale(b, m);
  a.s += b.s; a.u += b.u; a.w += b.w;
}

__device__ __forceinline__ DevPartial shfl_partial(const DevPartial& p, int offset) {
  DevPartial q;
  q.m = __shfl_down_sync(0xffffffffu, p.m, offset);
  q.s = __shfl_down_sync(0xffffffffu, p.s, offset);
  q.u = __shfl_down_sync(0xffffffffu, p.u, offset);
  q.w = __shfl_down_sync(0xffffffffu, p.w, offset);
  q.best = __shfl_down_sync(0xffffffffu, p.best, offset);
  q.best_index = __shfl_down_sync(0xffffffffu, p.best_index, offset);
  q.greater = __shfl_down_sync(0xffffffffu, p.greater, offset);
  q.pos_inf = __shfl_down_sync(0xffffffffu, p.pos_inf, offset);
  q.nan = __shfl_down_sync(0xffffffffu, p.nan, offset);
  return q;
}

// Block-wide merge; the result is valid in thread 0. `shared` holds blockDim.x / 32 partials.
__device__ __forceinline__ DevPartial block_merge(DevPartial p, DevPartial* shared) {
  for (int o = 16; o > 0; o >>= 1) merge(p, shfl_partial(p, o));
  int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5;
  if (lane == 0) shared[warp] = p;
  __syncthreads();
  if (warp == 0) {
    p = lane < warps ? shared[lane] : empty_partial();
    for (int o = 16; o > 0; o >>= 1) merge(p, shfl_partial(p, o));
  }
  __syncthreads();
  return p;
}

// One element, general path (head/tail elements and vectors holding +inf / all −inf).
__device__ __forceinline__ void add_element(DevPartial& p, float x, int index, float scale2, bool has_t, float t_raw) {
  if (x != x) { p.nan = 1; return; }
  if (has_t && x > t_raw) ++p.greater;
  if (x > p.best) { p.best = x; p.best_index = index; }
  if (x == INFINITY) { ++p.pos_inf; return; }
  if (x == -INFINITY) return;
  float y = x * scale2;
  if (y > p.m) rescale(p, y);
  float d = y - p.m;
  float e = exp2f(d);
  float dc = fmaxf(d, kMinExp2);
  p.s += e;
  p.u = fmaf(e, dc, p.u);
  p.w = fmaf(e * dc, dc, p.w);
}

// A vector of N values whose max and min are known. NaN elements poison s through ex2 (detected at finalize);
// vectors holding ±inf take the element path, so d is always finite here and needs no clamp.
template <int N>
__device__ __forceinline__ void add_vector(DevPartial& p, const float (&x)[N], float vmax, float vmin, int index0,
                                           float scale2, bool has_t, float t_raw) {
  if (vmax != vmax) { p.nan = 1; return; }  // all NaN
  if (vmax == INFINITY || vmin == -INFINITY) {
#pragma unroll
    for (int i = 0; i < N; ++i) add_element(p, x[i], index0 + i, scale2, has_t, t_raw);
    return;
  }
  if (vmax > p.best) {
    int k = 0;
#pragma unroll
    for (int i = N - 1; i >= 0; --i) if (x[i] == vmax) k = i;
    p.best = vmax;
    p.best_index = index0 + k;
  }
  float vm = vmax * scale2;
  if (vm > p.m) rescale(p, vm);
  const float m = p.m;
  float s = p.s, u = p.u, w = p.w;
#pragma unroll
  for (int i = 0; i < N; ++i) {
    float d = fmaf(x[i], scale2, -m);
    float e = ex2_ftz(d);
    float ed = e * d;
    s += e;
    u += ed;
    w = fmaf(ed, d, w);
    if (has_t) p.greater += x[i] > t_raw;
  }
  p.s = s; p.u = u; p.w = w;
}

__device__ __forceinline__ uint4 load_streaming(const uint4* p) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}
// The same with the L2 fetching 256-byte granules from DRAM (sm_80+ prefetch-size hint).
__device__ __forceinline__ uint4 load_streaming_l2(const uint4* p) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.L2::256B.v4.u32 {%0,%1,%2,%3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

template <typename T, bool HAS_T>
__device__ __forceinline__ void add_raw(DevPartial& p, uint4 raw, int index0, float scale2, float t_raw) {
  using E = Elem<T>;
  float x[E::kPerVec];
  float mx, mn;
  E::unpack(raw, x);
  E::max_min(raw, x, mx, mn);
  add_vector<E::kPerVec>(p, x, mx, mn, index0, scale2, HAS_T, t_raw);
}

// How a thread streams its vectors (walk_slice): U loads per batch; PIPE: the next batch's U loads are issued
// before the current batch is processed (2U in flight while waiting, U while computing); L2: the 256-byte
// L2 prefetch hint. Every variant visits a thread's vectors in the same order, so results are bit-identical.
template <int U_ = 4, bool PIPE_ = false, bool L2_ = false>
struct Stream {
  static constexpr int U = U_;
  static constexpr bool PIPE = PIPE_;
  static constexpr bool L2 = L2_;
};
using StreamDefault = Stream<>;

// Walks this thread's share of row[lo, hi): scalar head/tail around 16-byte aligned vectors, vectors strided by
// the block with S::U loads in flight per thread, all in index order (so strict '>' updates keep the first
// maximum). on_vector(uint4 raw, int index0) and on_element(float x, int index) do the accumulating.
template <typename T, class S = StreamDefault, class OnVector, class OnElement>
__device__ __forceinline__ void walk_slice(const void* row, int64_t lo, int64_t hi, OnVector&& on_vector,
                                           OnElement&& on_element) {
  using E = Elem<T>;
  constexpr int V = E::kPerVec;
  constexpr int U = S::U;
  const uintptr_t base = reinterpret_cast<uintptr_t>(row);
  int64_t a = lo;
  if (base % E::kSize == 0) {
    while (a < hi && ((base + a * E::kSize) & 15u)) ++a;
  } else {
    a = hi;  // misaligned elements: no vector path
  }
  const int64_t nvec = (hi - a) / V;
  const int64_t b = a + nvec * V;
  for (int64_t i = lo + threadIdx.x; i < a; i += blockDim.x) on_element(E::load(row, i), (int)i);
  const uint4* vec = reinterpret_cast<const uint4*>(base + a * E::kSize);
  const int stride = blockDim.x;
  auto ld = [](const uint4* q) { return S::L2 ? load_streaming_l2(q) : load_streaming(q); };
  int64_t v = threadIdx.x;
  if constexpr (!S::PIPE) {
    for (; v + (U - 1) * stride < nvec; v += U * stride) {
      uint4 r[U];
#pragma unroll
      for (int j = 0; j < U; ++j) r[j] = ld(vec + v + j * stride);
#pragma unroll
      for (int j = 0; j < U; ++j) on_vector(r[j], (int)(a + (v + j * stride) * V));
    }
  } else {
    // Two register batches in turn: batch B's loads are issued before batch A is processed.
    uint4 ra[U], rb[U];
    const int64_t full = U * static_cast<int64_t>(stride);
    auto fill = [&](uint4 (&r)[U], int64_t at) {
#pragma unroll
      for (int j = 0; j < U; ++j) r[j] = ld(vec + at + j * stride);
    };
    auto drain = [&](const uint4 (&r)[U], int64_t at) {
#pragma unroll
      for (int j = 0; j < U; ++j) on_vector(r[j], (int)(a + (at + j * stride) * V));
    };
    if (v + (U - 1) * stride < nvec) fill(ra, v);
    for (; v + (U - 1) * stride < nvec;) {
      const bool next_b = v + full + (U - 1) * stride < nvec;
      if (next_b) fill(rb, v + full);
      drain(ra, v);
      v += full;
      if (!next_b) break;
      const bool next_a = v + full + (U - 1) * stride < nvec;
      if (next_a) fill(ra, v + full);
      drain(rb, v);
      v += full;
      if (!next_a) break;
    }
  }
  for (; v < nvec; v += stride) on_vector(ld(vec + v), (int)(a + v * V));
  for (int64_t i = b + threadIdx.x; i < hi; i += blockDim.x) on_element(E::load(row, i), (int)i);
}

// This thread's full statistics over row[lo, hi). scale2 = log2e / T; t_raw = raw target value.
template <typename T, bool HAS_T, class S = StreamDefault>
__device__ __forceinline__ DevPartial thread_slice(const void* row, int64_t lo, int64_t hi, float scale2, float t_raw) {
  DevPartial p = empty_partial();
  walk_slice<T, S>(
      row, lo, hi, [&](uint4 raw, int index0) { add_raw<T, HAS_T>(p, raw, index0, scale2, t_raw); },
      [&](float x, int index) { add_element(p, x, index, scale2, HAS_T, t_raw); });
  return p;
}

struct DevRowStats {
  float logsumexp, entropy, varentropy, max_prob, nll;
  int argmax, target_rank, flags;  // flags: 1 = NaN row, 2 = all −inf row
};

// Converts a merged base-2 partial to natural units. inv_t = 1/T; t_raw = raw target value.
__device__ __forceinline__ DevRowStats finalize(const DevPartial& p, bool has_t, float t_raw, float inv_t) {
  DevRowStats r;
  r.argmax = p.best_index == 0x7fffffff ? 0 : p.best_index;
  r.target_rank = has_t ? p.greater : -1;
  r.flags = 0;
  const float nan = __int_as_float(0x7fc00000);
  if (p.nan || p.s != p.s) {
    r.flags = 1;
    r.logsumexp = r.entropy = r.varentropy = r.max_prob = r.nll = nan;
    return r;
  }
  if (p.pos_inf > 0) {
    float k = (float)p.pos_inf;
    r.logsumexp = INFINITY; r.entropy = logf(k); r.varentropy = 0.f; r.max_prob = 1.f / k;
    r.nll = has_t ? (t_raw == INFINITY ? logf(k) : INFINITY) : nan;
    return r;
  }
  if (p.m == -INFINITY || !(p.s > 0.f)) {
    r.flags = 2;
    r.logsumexp = -INFINITY;
    r.entropy = r.varentropy = r.max_prob = r.nll = nan;
    return r;
  }
  float log2s = log2f(p.s);
  float mean2 = p.u / p.s;
  r.logsumexp = (p.m + log2s) * kLn2;
  r.entropy = (log2s - mean2) * kLn2;
  float var2 = p.w / p.s - mean2 * mean2;
  r.varentropy = var2 > 0.f ? var2 * kLn2 * kLn2 : 0.f;
  r.max_prob = exp2f(p.best * inv_t * kLog2e - p.m - log2s);
  r.nll = has_t ? r.logsumexp - t_raw * inv_t : nan;
  return r;
}

}  // namespace cuda
}  // namespace lw
