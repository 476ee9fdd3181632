// Device copy bandwidth (the roofline every GPU benchmark reports against), measured with CUDA events.
#include <vector>

#include "check.cuh"
#include "kernels_cuda.h"

namespace lw {

std::vector<float> device_copy_timing_cuda(int dev, size_t bytes, int iters) {
  using namespace cuda;
  check(cudaSetDevice(dev), "cudaSetDevice");
  Scratch a(bytes), b(bytes);
  check(cudaMemsetAsync(a.as<void>(), 1, bytes, cudaStreamPerThread), "cudaMemset");
  cudaEvent_t e0, e1;
  check(cudaEventCreate(&e0), "cudaEventCreate");
  check(cudaEventCreate(&e1), "cudaEventCreate");
  std::vector<float> ms;
  for (int i = 0; i <= iters; ++i) {
    check(cudaEventRecord(e0, cudaStreamPerThread), "cudaEventRecord");
    check(cudaMemcpyAsync(b.as<void>(), a.as<void>(), bytes, cudaMemcpyDeviceToDevice, cudaStreamPerThread), "copy");
    check(cudaEventRecord(e1, cudaStreamPerThread), "cudaEventRecord");
    check(cudaEventSynchronize(e1), "cudaEventSynchronize");
    float t = 0;
    check(cudaEventElapsedTime(&t, e0, e1), "cudaEventElapsedTime");
    if (i > 0) ms.push_back(t);  // first copy is a warm-up
  }
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  return ms;
}

}  // namespace lw
