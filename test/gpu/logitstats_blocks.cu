// Block-size / occupancy sweep for the logitStats row reduction (bf16 4096 × 128256, device-resident), to pick
// the launch shape. Build: node scripts/checks.js gpu --build-only logitstats_blocks (a "tool" in native/sources.json).
#include <cstdio>
#include <vector>
#include <algorithm>

#include "cuda/row_stats.cuh"

using namespace lw::cuda;

template <int T, int MIN_BLOCKS>
__global__ void __launch_bounds__(T, MIN_BLOCKS) kernel(const uint16_t* data, int64_t vocab, float scale2, float* out) {
  __shared__ DevPartial shared[T / 32];
  const void* row = data + blockIdx.x * vocab;
  DevPartial p = thread_slice<2, false>(row, 0, vocab, scale2, 0.f);
  p = block_merge(p, shared);
  if (threadIdx.x == 0) out[blockIdx.x] = finalize(p, false, 0.f, 1.f).entropy;
}

template <int T, int MIN_BLOCKS>
float time_it(const uint16_t* d, int rows, int64_t vocab, float* out) {
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  std::vector<float> ms;
  for (int i = 0; i < 21; ++i) {
    cudaEventRecord(a);
    kernel<T, MIN_BLOCKS><<<rows, T>>>(d, vocab, kLog2e, out);
    cudaEventRecord(b);
    cudaEventSynchronize(b);
    float t;
    cudaEventElapsedTime(&t, a, b);
    if (i) ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

int main() {
  const int rows = 4096;
  const int64_t vocab = 128256;
  size_t n = rows * vocab;
  std::vector<uint16_t> h(n);
  uint32_t s = 1;
  for (size_t i = 0; i < n; ++i) { s = s * 1664525u + 1013904223u; h[i] = 0x3f00 + (s >> 24) % 0x200; }
  uint16_t* d;
  float* out;
  cudaMalloc(&d, n * 2);
  cudaMalloc(&out, rows * 4);
  cudaMemcpy(d, h.data(), n * 2, cudaMemcpyHostToDevice);
  double bytes = n * 2.0;
#define RUN(T, M) { float t = time_it<T, M>(d, rows, vocab, out); printf("threads %4d minBlocks %d: %.1f us  %.2f TB/s\n", T, M, t * 1e3, bytes / (t * 1e-3) / 1e12); }
  RUN(32, 1) RUN(32, 32) RUN(64, 1) RUN(64, 16) RUN(96, 1) RUN(128, 1) RUN(128, 8) RUN(128, 12) RUN(256, 1) RUN(256, 4) RUN(256, 6) RUN(512, 1) RUN(512, 2) RUN(512, 3) RUN(1024, 1) RUN(1024, 2)
  printf("%s\n", cudaGetErrorString(cudaGetLastError()));
}
