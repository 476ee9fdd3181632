// XL3M row values on CUDA: one block per row (very long rows split across blocks), built on the shared streaming
// row reduction (row_stats.cuh: element traits, streaming loads, merge, block reduction, finalize); each row yields
// one float (entropy or NLL). Pooling happens in core. The default "lean" inner loop accumulates only s and u
// (XL3M needs no varentropy, argmax or rank); the shared full-statistics loop stays selectable for comparison.
#include <algorithm>
#include <string>
#include <vector>

#include "check.cuh"
#include "core/row_error.h"
#include "core/xl3m_score.h"
#include "kernels_cuda.h"
#include "row_stats.cuh"

namespace lw {
namespace cuda {
namespace {

constexpr int kThreads = 128;  // see logit_stats.cu: 128-thread blocks per row stream bf16 fastest on the H200
constexpr int64_t kMaxSlice = int64_t(1) << 18;  // elements per block at most
constexpr int kNoBadRow = 0x7f7f7f7f;  // cudaMemset byte pattern 0x7f; larger than any row index here

// One 16-byte vector into s and u only. Same special-value rules as the shared add_vector: NaN poisons s,
// vectors holding ±inf take the element path.
template <typename T>
__device__ __forceinline__ void add_lean(DevPartial& p, uint4 raw, float scale2) {
  using E = Elem<T>;
  constexpr int N = E::kPerVec;
  float x[N], mx, mn;
  E::unpack(raw, x);
  E::max_min(raw, x, mx, mn);
  if (mx != mx) { p.nan = 1; return; }
  if (mx == INFINITY || mn == -INFINITY) {
#pragma unroll
    for (int i = 0; i < N; ++i) add_element(p, x[i], 0, scale2, false, 0.f);
    return;
  }
  const float vm = mx * scale2;
  if (vm > p.m) rescale(p, vm);
  const float m = p.m;
  float s = p.s, u = p.u;
#pragma unroll
  for (int i = 0; i < N; ++i) {
    float d = fmaf(x[i], scale2, -m);
    float e = ex2_ftz(d);
    s += e;
    u = fmaf(e, d, u);
  }
  p.s = s;
  p.u = u;
}

// This thread's share of row[lo, hi) with the lean accumulation (the shared walk_slice layout).
template <typename T>
__device__ __forceinline__ DevPartial thread_slice_lean(const void* row, int64_t lo, int64_t hi, float scale2) {
  DevPartial p = empty_partial();
  walk_slice<T>(
      row, lo, hi, [&](uint4 raw, int) { add_lean<T>(p, raw, scale2); },
      [&](float x, int) { add_element(p, x, 0, scale2, false, 0.f); });
  return p;
}

struct Xl3mLaunch {
  const void* data;
  int64_t vocab;
  const int32_t* targets;  // device; non-null iff metric is NLL
  float inv_t, scale2;
  int splits;
  int64_t slice;
};

template <typename T>
__device__ __forceinline__ void write_value(const Xl3mLaunch& L, int64_t r, const DevPartial& p, float* values,
                                            int* bad_row) {
  const void* row = row_of<T>(L.data, r, L.vocab);
  const bool nll = L.targets != nullptr;
  const float t = nll ? Elem<T>::load(row, L.targets[r]) : 0.f;
  DevRowStats s = finalize(p, nll, t, L.inv_t);
  if (s.flags & 2) atomicMin(bad_row, static_cast<int>(r));
  values[r] = nll ? s.nll : s.entropy;
}

template <typename T, bool LEAN, int THREADS>
__global__ void __launch_bounds__(THREADS) xl3m_row_kernel(Xl3mLaunch L, float* values, DevPartial* partials, int* bad_row) {
  __shared__ DevPartial shared[THREADS / 32];
  const int64_t r = blockIdx.x;
  const int k = blockIdx.y;
  const void* row = row_of<T>(L.data, r, L.vocab);
  const int64_t lo = k * L.slice, hi = min(L.vocab, lo + L.slice);
  DevPartial p = LEAN ? thread_slice_lean<T>(row, lo, hi, L.scale2) : thread_slice<T, false>(row, lo, hi, L.scale2, 0.f);
  p = block_merge(p, shared);
  if (threadIdx.x != 0) return;
  if (L.splits == 1) write_value<T>(L, r, p, values, bad_row);
  else partials[r * L.splits + k] = p;
}

template <typename T>
__global__ void xl3m_merge_kernel(Xl3mLaunch L, int64_t rows, const DevPartial* partials, float* values, int* bad_row) {
  int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (r >= rows) return;
  DevPartial p = partials[r * L.splits];
  for (int k = 1; k < L.splits; ++k) merge(p, partials[r * L.splits + k]);
  write_value<T>(L, r, p, values, bad_row);
}

// variant: Tuning::xl3m_variant.
template <typename T>
void launch(const Xl3mLaunch& L, int64_t rows, int variant, float* values, DevPartial* partials, int* bad_row) {
  dim3 grid(static_cast<unsigned>(rows), L.splits);
  switch (variant) {
    case 1: xl3m_row_kernel<T, true, 256><<<grid, 256, 0, cudaStreamPerThread>>>(L, values, partials, bad_row); break;
    case 2: xl3m_row_kernel<T, false, kThreads><<<grid, kThreads, 0, cudaStreamPerThread>>>(L, values, partials, bad_row); break;
    default: xl3m_row_kernel<T, true, kThreads><<<grid, kThreads, 0, cudaStreamPerThread>>>(L, values, partials, bad_row); break;
  }
  check(cudaGetLastError(), "xl3m score kernel launch");
  if (L.splits > 1) {
    xl3m_merge_kernel<T><<<static_cast<unsigned>((rows + 255) / 256), 256, 0, cudaStreamPerThread>>>(L, rows, partials, values, bad_row);
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
  // Host rows go to a.device (core/xl3m_score.cc splits a large block over several, one host thread each). The
  // device stays current until return, so every Scratch below is freed on the per-thread stream (this thread's, on
  // this device) it was allocated on; concurrent calls, on one device or several, never share a stream or a buffer.
  const int dev = l.mem.on_device ? l.mem.device : a.device;
  check(cudaSetDevice(dev), "cudaSetDevice");
  const size_t bytes = static_cast<size_t>(rows * l.vocab * dtype_size(l.dtype));
  Scratch staging, targets_dev, values_dev, partials_dev, bad_dev;
  Xl3mLaunch L{};
  L.data = device_input(l.mem.data, l.mem.on_device, bytes, staging);
  L.vocab = l.vocab;
  if (a.metric == Xl3mMetric::Nll) L.targets = upload(a.targets, rows, targets_dev);
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
  LW_DISPATCH_DTYPE(l.dtype, T,
                    launch<T>(L, rows, a.tuning.xl3m_variant, values_dev.as<float>(), partials_dev.as<DevPartial>(),
                              bad_dev.as<int>()));
  int bad = kNoBadRow;
  check(cudaMemcpyAsync(values, values_dev.as<void>(), rows * sizeof(float), cudaMemcpyDeviceToHost, cudaStreamPerThread),
        "cudaMemcpyAsync row values");
  check(cudaMemcpyAsync(&bad, bad_dev.as<void>(), sizeof(int), cudaMemcpyDeviceToHost, cudaStreamPerThread),
        "cudaMemcpyAsync row flags");
  check(cudaStreamSynchronize(cudaStreamPerThread), "xl3m score");
  if (bad != kNoBadRow) {
    throw_row_error("logits", a.row_offset + bad, RowError::AllNegInf);
  }
}

}  // namespace lw
