// logitStats on CUDA: the host side (kernels in logit_stats_kernel.cuh).
#include <algorithm>
#include <vector>

#include "check.cuh"
#include "core/logit_stats.h"
#include "kernels_cuda.h"
#include "logit_stats_kernel.cuh"

namespace lw {
namespace cuda {
namespace {

using namespace ls;

template <typename T>
void launch(const Launch& L, int64_t rows, DevRowStats* out, DevPartial* partials) {
  dim3 grid(L.splits, static_cast<unsigned>(rows));
  if (L.targets) stats_kernel<T, true><<<grid, kThreads, 0, cudaStreamPerThread>>>(L, out, partials);
  else stats_kernel<T, false><<<grid, kThreads, 0, cudaStreamPerThread>>>(L, out, partials);
  check(cudaGetLastError(), "logitStats kernel launch");
  if (L.splits > 1) {
    int blocks = static_cast<int>((rows + 255) / 256);
    merge_kernel<T><<<blocks, 256, 0, cudaStreamPerThread>>>(L, rows, partials, out);
    check(cudaGetLastError(), "logitStats merge launch");
  }
}

}  // namespace
}  // namespace cuda

namespace cuda {
namespace {

// Everything one call needs on the device; scratch lives as long as this object.
struct Prepared {
  Launch L{};
  int64_t rows = 0;
  DType dtype = DType::F32;
  Scratch staging, targets_dev, stats_dev, partials_dev;

  explicit Prepared(const LogitStatsArgs& a) {
    const LogitsView& l = a.logits;
    rows = l.rows;
    dtype = l.dtype;
    const int dev = l.mem.on_device ? l.mem.device : 0;
    check(cudaSetDevice(dev), "cudaSetDevice");
    const size_t bytes = static_cast<size_t>(rows * l.vocab * dtype_size(l.dtype));
    L.data = device_input(l.mem.data, l.mem.on_device, bytes, staging);
    L.vocab = l.vocab;
    if (a.targets) L.targets = upload(a.targets, rows, targets_dev);
    L.inv_t = 1.f / a.temperature;
    L.scale2 = L.inv_t * kLog2e;
    // Enough blocks to fill every SM a few times; each split keeps ≥ 8k elements so merging stays negligible.
    const int64_t want_blocks = static_cast<int64_t>(sm_count(dev)) * 8;
    int64_t splits = 1;
    if (rows < want_blocks) splits = std::min<int64_t>((want_blocks + rows - 1) / rows, (l.vocab + 4095) / 4096);
    splits = std::max<int64_t>(1, std::min<int64_t>(splits, 1024));
    L.slice = (l.vocab + splits - 1) / splits;
    L.slice = (L.slice + 7) / 8 * 8;
    L.splits = static_cast<int>((l.vocab + L.slice - 1) / L.slice);
    stats_dev.reset(rows * sizeof(DevRowStats));
    if (L.splits > 1) partials_dev.reset(rows * L.splits * sizeof(DevPartial));
  }

  void enqueue() {
    LW_DISPATCH_DTYPE(dtype, T, launch<T>(L, rows, stats_dev.as<DevRowStats>(), partials_dev.as<DevPartial>()));
  }
};

}  // namespace
}  // namespace cuda

std::vector<float> logit_stats_cuda_timing(const LogitStatsArgs& a, int iters) {
  using namespace cuda;
  if (a.logits.rows == 0 || a.logits.rows > 65535) throw_range("timing needs 1..65535 rows");
  Prepared p(a);
  p.enqueue();  // warm-up
  cudaEvent_t e0, e1;
  check(cudaEventCreate(&e0), "cudaEventCreate");
  check(cudaEventCreate(&e1), "cudaEventCreate");
  std::vector<float> ms;
  for (int i = 0; i < iters; ++i) {
    check(cudaEventRecord(e0, cudaStreamPerThread), "cudaEventRecord");
    p.enqueue();
    check(cudaEventRecord(e1, cudaStreamPerThread), "cudaEventRecord");
    check(cudaEventSynchronize(e1), "cudaEventSynchronize");
    float t = 0;
    check(cudaEventElapsedTime(&t, e0, e1), "cudaEventElapsedTime");
    ms.push_back(t);
  }
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  return ms;
}

void logit_stats_cuda(const LogitStatsArgs& a, LogitStatsOut& out) {
  using namespace cuda;
  const LogitsView& l = a.logits;
  const int64_t rows = l.rows;
  if (rows == 0) return;
  if (rows > 65535) {
    // grid.y limit: process in row chunks
    for (int64_t r0 = 0; r0 < rows; r0 += 65535) {
      LogitStatsArgs sub = a;
      int64_t n = std::min<int64_t>(65535, rows - r0);
      sub.logits.rows = n;
      sub.logits.mem.data = static_cast<const uint8_t*>(l.mem.data) + r0 * l.vocab * dtype_size(l.dtype);
      if (a.targets) sub.targets = a.targets + r0;
      LogitStatsOut o = out;
      o.logsumexp += r0; o.entropy += r0; o.varentropy += r0; o.max_prob += r0; o.argmax += r0;
      if (o.nll) o.nll += r0;
      if (o.target_rank) o.target_rank += r0;
      o.has_nan = false;
      o.all_neg_inf_row = -1;
      logit_stats_cuda(sub, o);
      out.has_nan = out.has_nan || o.has_nan;
      if (o.all_neg_inf_row >= 0 && out.all_neg_inf_row < 0) out.all_neg_inf_row = o.all_neg_inf_row + r0;
    }
    return;
  }
  host_mark("cuda setup");
  Prepared p(a);
  p.enqueue();
  // Results land in this thread's pinned receive slot (a pageable vector under host_legacy).
  const size_t bytes = static_cast<size_t>(rows) * sizeof(DevRowStats);
  std::vector<DevRowStats> pageable;
  DevRowStats* host = static_cast<DevRowStats*>(pinned_host(1, bytes));
  if (!host) {
    pageable.resize(static_cast<size_t>(rows));
    host = pageable.data();
  }
  check(cudaMemcpyAsync(host, p.stats_dev.as<void>(), bytes, cudaMemcpyDeviceToHost, cudaStreamPerThread),
        "cudaMemcpyAsync results");
  host_mark("cuda enqueued");
  check(cudaStreamSynchronize(cudaStreamPerThread), "logitStats");
  host_mark("cuda synced");
  for (int64_t r = 0; r < rows; ++r) {
    const DevRowStats& s = host[r];
    out.logsumexp[r] = s.logsumexp;
    out.entropy[r] = s.entropy;
    out.varentropy[r] = s.varentropy;
    out.max_prob[r] = s.max_prob;
    out.argmax[r] = s.argmax;
    if (a.targets) {
      out.nll[r] = s.nll;
      out.target_rank[r] = s.target_rank;
    }
    if (s.flags & 1) out.has_nan = true;
    if ((s.flags & 2) && out.all_neg_inf_row < 0) out.all_neg_inf_row = r;
  }
  host_mark("results unpacked");
}

}  // namespace lw
