// logitStats CUDA kernels (one pass over each row, rows split across blocks when there are too few rows to fill
// the GPU; partials merged by a second tiny kernel). Included by logit_stats.cu and by bench/gpu-floors.cu, which
// times the stream variants against a read-only floor on the device.
#pragma once
#include "row_stats.cuh"

namespace lw {
namespace cuda {
namespace ls {

// Fewer threads per row, longer per-thread streams: on the H200 a 128-thread block per row reads bf16 logits at
// 3.46 TB/s against 2.72 TB/s with 512 threads (test/gpu/logitstats_blocks.cu sweep).
constexpr int kThreads = 128;

struct Launch {
  const void* data;
  int64_t vocab;
  const int32_t* targets;  // device, or null
  float inv_t, scale2;
  int splits;
  int64_t slice;
};

template <typename T>
__device__ __forceinline__ float target_raw(const Launch& L, const void* row, int64_t r) {
  if (!L.targets) return 0.f;
  return Elem<T>::load(row, L.targets[r]);
}

// The stream the addon's kernel uses (row_stats.cuh Stream; bench/gpu-floors.cu times the alternatives).
using LogitStream = Stream<4, true, false>;

template <typename T, bool HAS_T, class S = LogitStream>
__global__ void __launch_bounds__(kThreads) stats_kernel(Launch L, DevRowStats* out, DevPartial* partials) {
  __shared__ DevPartial shared[kThreads / 32];
  const int64_t r = blockIdx.y;
  const int k = blockIdx.x;
  const void* row = row_of<T>(L.data, r, L.vocab);
  const float t = HAS_T ? target_raw<T>(L, row, r) : 0.f;
  const int64_t lo = k * L.slice, hi = min(L.vocab, lo + L.slice);
  DevPartial p = thread_slice<T, HAS_T, S>(row, lo, hi, L.scale2, t);
  p = block_merge(p, shared);
  if (threadIdx.x != 0) return;
  if (L.splits == 1) out[r] = finalize(p, HAS_T, t, L.inv_t);
  else partials[r * L.splits + k] = p;
}

template <typename T>
__global__ void merge_kernel(Launch L, int64_t rows, const DevPartial* partials, DevRowStats* out) {
  int64_t r = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (r >= rows) return;
  DevPartial p = partials[r * L.splits];
  for (int k = 1; k < L.splits; ++k) merge(p, partials[r * L.splits + k]);
  const void* row = static_cast<const uint8_t*>(L.data) + r * L.vocab * Elem<T>::kSize;
  float t = target_raw<T>(L, row, r);
  out[r] = finalize(p, L.targets != nullptr, t, L.inv_t);
}

}  // namespace ls
}  // namespace cuda
}  // namespace lw
