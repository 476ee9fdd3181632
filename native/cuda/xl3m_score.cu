// XL3M row values on CUDA: one block per row (very long rows split across blocks), reusing
// the shared streaming row reduction; each row yields one float (entropy or NLL). Pooling happens in core.
#include <algorithm>
#include <string>
#include <vector>

#include "check.cuh"
#include "core/xl3m_score.h"
#include "row_stats.cuh"

namespace lw {
namespace cuda {
namespace {

constexpr int kThreads = 512;
constexpr int64_t kMaxSlice = int64_t(1) << 18;  // elements per block at most
constexpr int kNoBadRow = 0x7f7f7f7f;  // cudaMemset byte pattern 0x7f; larger than any row index here

struct Xl3mLaunch {
  const void* data;
  int64_t vocab;
  const int32_t* targets;  // device; non-null iff metric is NLL
  float inv_t, scale2;
  int splits;
  int64_t slice;
};

template <int DT>
__device__ __forceinline__ void write_value(const Xl3mLaunch& L, int64_t r, const DevPartial& p, float* values,
                                            int* bad_row) {
  const void* row = static_cast<const uint8_t*>(L.data) + r * L.vocab * Elem<DT>::kSize;
  const bool nll = L.targets != nullptr;
  const float t = nll ? Elem<DT>::load(row, L.targets[r]) : 0.f;
  DevRowStats s = finalize(p, nll, t, L.inv_t);
  if (s.flags & 2) atomicMin(bad_row, static_cast<int>(r));
  values[r] = nll ? s.nll : s.entropy;
}

template <int DT>
__global__ void __launch_bounds__(kThreads) xl3m_row_kernel(Xl3mLaunch L, float* values, DevPartial* partials, int* bad_row) {
  __shared__ DevPartial shared[kThreads / 32];
  const int64_t r = blockIdx.x;
  const int k = blockIdx.y;
  const void* row = static_cast<const uint8_t*>(L.data) + r * L.vocab * Elem<DT>::kSize;
  const int64_t lo = k * L.slice, hi = min(L.vocab, lo + L.slice);
  DevPartial p = thread_slice<DT, false>(row, lo, hi, L.scale2, 0.f);
  p = block_merge(p, shared);
  if (threadIdx.x != 0) return;
  if (L.splits == 1) write_value<DT>(L, r, p, values, bad_row);
  else partials[r * L.splits + k] = p;
}

template <int DT>
__global__ void xl3m_merge_kernel(Xl3mLaunch L, int64_t rows, const DevPartial* partials, float* values, int* bad_row) {
  int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (r >= rows) return;
  DevPartial p = partials[r * L.splits];
  for (int k = 1; k < L.splits; ++k) merge(p, partials[r * L.splits + k]);
  write_value<DT>(L, r, p, values, bad_row);
}

template <int DT>
void launch(const Xl3mLaunch& L, int64_t rows, float* values, DevPartial* partials, int* bad_row) {
  dim3 grid(static_cast<unsigned>(rows), L.splits);
  xl3m_row_kernel<DT><<<grid, kThreads, 0, cudaStreamPerThread>>>(L, values, partials, bad_row);
  check(cudaGetLastError(), "xl3m score kernel launch");
  if (L.splits > 1) {
    xl3m_merge_kernel<DT><<<static_cast<unsigned>((rows + 255) / 256), 256, 0, cudaStreamPerThread>>>(L, rows, partials, values, bad_row);
    check(cudaGetLastError(), "xl3m merge kernel launch");
  }
}

}  // namespace
}  // namespace cuda

void xl3m_row_values_cuda(const Xl3mChunkArgs& a, float* values) {
  using namespace cuda;
  const LogitsView& l = a.logits;
  const int64_t rows = l.rows;
  if (rows == 0) return;
  a.cancel.check();
  const int dev = l.mem.on_device ? l.mem.device : 0;
  check(cudaSetDevice(dev), "cudaSetDevice");
  const size_t bytes = static_cast<size_t>(rows * l.vocab * dtype_size(l.dtype));
  Scratch staging, targets_dev, values_dev, partials_dev, bad_dev;
  Xl3mLaunch L{};
  L.data = device_input(l.mem.data, l.mem.on_device, bytes, staging);
  L.vocab = l.vocab;
  if (a.metric == Xl3mMetric::Nll) {
    targets_dev.reset(rows * sizeof(int32_t));
    check(cudaMemcpyAsync(targets_dev.as<void>(), a.targets, rows * sizeof(int32_t), cudaMemcpyHostToDevice,
                          cudaStreamPerThread), "cudaMemcpyAsync targets");
    L.targets = targets_dev.as<int32_t>();
  }
  L.inv_t = 1.f / a.temperature;
  L.scale2 = L.inv_t * kLog2e;
  // Rows longer than kMaxSlice are split across blocks. The split depends on the vocabulary only (not on the row
  // count), so a row's value does not depend on how the rows were chunked (streaming == one-shot). Few short rows
  // underfill the GPU, but then the whole call is a few microseconds anyway.
  const int64_t splits = (l.vocab + kMaxSlice - 1) / kMaxSlice;
  L.slice = ((l.vocab + splits - 1) / splits + 7) / 8 * 8;
  L.splits = static_cast<int>((l.vocab + L.slice - 1) / L.slice);
  values_dev.reset(rows * sizeof(float));
  bad_dev.reset(sizeof(int));
  check(cudaMemsetAsync(bad_dev.as<void>(), 0x7f, sizeof(int), cudaStreamPerThread), "cudaMemsetAsync");
  if (L.splits > 1) partials_dev.reset(rows * L.splits * sizeof(DevPartial));
  switch (l.dtype) {
    case DType::F32: launch<0>(L, rows, values_dev.as<float>(), partials_dev.as<DevPartial>(), bad_dev.as<int>()); break;
    case DType::F16: launch<1>(L, rows, values_dev.as<float>(), partials_dev.as<DevPartial>(), bad_dev.as<int>()); break;
    default: launch<2>(L, rows, values_dev.as<float>(), partials_dev.as<DevPartial>(), bad_dev.as<int>()); break;
  }
  int bad = kNoBadRow;
  check(cudaMemcpyAsync(values, values_dev.as<void>(), rows * sizeof(float), cudaMemcpyDeviceToHost, cudaStreamPerThread),
        "cudaMemcpyAsync row values");
  check(cudaMemcpyAsync(&bad, bad_dev.as<void>(), sizeof(int), cudaMemcpyDeviceToHost, cudaStreamPerThread),
        "cudaMemcpyAsync row flags");
  check(cudaStreamSynchronize(cudaStreamPerThread), "xl3m score");
  if (bad != kNoBadRow) {
    throw_range("logits row " + std::to_string(a.row_offset + bad) + " is all -Infinity (no distribution)");
  }
}

}  // namespace lw
