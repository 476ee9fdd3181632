#include <cuda_runtime.h>

#include "check.cuh"
#include "core/device.h"

namespace lw {
namespace device {

namespace {
struct Probe {
  int count = 0;
  std::string status = "ok";
  cudaError_t error = cudaSuccess;
  Probe() {
    cudaError_t e = cudaGetDeviceCount(&count);
    error = e;
    if (e != cudaSuccess) {
      count = 0;
      status = std::string("CUDA runtime reports: ") + cudaGetErrorString(e);
      cudaGetLastError();
    } else if (count == 0) {
      status = "no CUDA device is visible";
    }
  }
};
const Probe& probe() {
  static Probe p;
  return p;
}
void use(int dev) { cuda::check(cudaSetDevice(dev), "cudaSetDevice"); }
}  // namespace

#ifndef LW_CUDA_ARCHS
#define LW_CUDA_ARCHS ""
#endif

bool compiled() { return true; }

RuntimeReport runtime_report() {
  const Probe& p = probe();
  RuntimeReport r;
  r.runtime_version = CUDART_VERSION;
  // Reports 0 (and succeeds) when libcuda cannot be loaded, i.e. no NVIDIA driver; a too-old driver still answers.
  if (cudaDriverGetVersion(&r.driver_version) != cudaSuccess) r.driver_version = 0;
  cudaGetLastError();
  r.archs = LW_CUDA_ARCHS;
  if (p.error != cudaSuccess) {
    r.error = cudaGetErrorName(p.error);
    r.error_message = cudaGetErrorString(p.error);
  }
  return r;
}
int count() { return probe().count; }
std::string status() { return probe().status; }

Info info(int dev) {
  cudaDeviceProp p;
  cuda::check(cudaGetDeviceProperties(&p, dev), "cudaGetDeviceProperties");
  Info i;
  i.name = p.name;
  i.memory_bytes = p.totalGlobalMem;
  i.major = p.major;
  i.minor = p.minor;
  return i;
}

void* alloc(int dev, size_t bytes) {
  use(dev);
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, bytes);
  if (e != cudaSuccess) {
    cudaGetLastError();
    if (e == cudaErrorMemoryAllocation) {
      throw_device("CUDA out of memory: could not allocate " + std::to_string(bytes) + " bytes on device " +
                   std::to_string(dev));
    }
    cuda::check(e, "cudaMalloc");
  }
  return p;
}

void release(int dev, void* ptr) noexcept {
  if (!ptr) return;
  cudaSetDevice(dev);
  cudaFree(ptr);
  cudaGetLastError();
}

void to_device(int dev, void* dst, const void* src, size_t bytes) {
  use(dev);
  cuda::check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, cudaStreamPerThread), "cudaMemcpy host→device");
  cuda::check(cudaStreamSynchronize(cudaStreamPerThread), "cudaStreamSynchronize");
}

void to_host(int dev, void* dst, const void* src, size_t bytes) {
  use(dev);
  cuda::check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, cudaStreamPerThread), "cudaMemcpy device→host");
  cuda::check(cudaStreamSynchronize(cudaStreamPerThread), "cudaStreamSynchronize");
}

int pointer_device(const void* ptr) {
  cudaPointerAttributes a;
  cudaError_t e = cudaPointerGetAttributes(&a, ptr);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return -1;
  }
  return a.type == cudaMemoryTypeDevice || a.type == cudaMemoryTypeManaged ? a.device : -1;
}

}  // namespace device
}  // namespace lw
