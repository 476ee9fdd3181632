// verifyTree CUDA: the lean greedy kernels (a cluster walk that only needs each visited row's first argmax, and
// the one-launch version for small batches). Included by tree_verify.cu only.
#pragma once
#include "tree_rows.cuh"

namespace lw {
namespace cuda {
namespace tv {

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
    const void* row = static_cast<const uint8_t*>(P.target) + static_cast<int64_t>(g) * V * Elt<DT>::kSize;
    Best3 t{-INFINITY, 0x7fffffff, 0};
    warp_chunks<DT, Elt<DT>::kPerVec / 2>(row, c0, c1, V, [&](int32_t c, const float* v) {
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
    const void* row = static_cast<const uint8_t*>(P.target) + r * V * Elt<DT>::kSize;
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

}  // namespace tv
}  // namespace cuda
}  // namespace lw
