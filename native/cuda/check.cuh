// CUDA error handling for the cuda/ layer: every failure becomes lw::Error(Device) naming the call.
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "core/error.h"

namespace lw {
namespace cuda {

inline void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  cudaGetLastError();  // clear sticky-free errors so the library stays usable
  std::string msg = std::string(what) + " failed: " + cudaGetErrorString(e);
  if (e == cudaErrorMemoryAllocation) msg = std::string("CUDA out of memory (") + what + ")";
  throw_device(msg);
}

// Stream-ordered scratch memory on the per-thread default stream, freed when it goes out of scope.
class Scratch {
 public:
  Scratch() = default;
  explicit Scratch(size_t bytes) { reset(bytes); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() {
    if (ptr_) cudaFreeAsync(ptr_, cudaStreamPerThread);
  }
  void reset(size_t bytes) {
    if (ptr_) cudaFreeAsync(ptr_, cudaStreamPerThread);
    ptr_ = nullptr;
    if (bytes == 0) return;
    cudaError_t e = cudaMallocAsync(&ptr_, bytes, cudaStreamPerThread);
    if (e != cudaSuccess) {
      ptr_ = nullptr;
      check(e, ("cudaMallocAsync of " + std::to_string(bytes) + " bytes").c_str());
    }
  }
  template <typename T>
  T* as() const { return static_cast<T*>(ptr_); }

 private:
  void* ptr_ = nullptr;
};

// Device pointer for an input view: device memory is used in place; host memory is copied into `staging`.
inline const void* device_input(const void* data, bool on_device, size_t bytes, Scratch& staging) {
  if (on_device || bytes == 0) return data;
  staging.reset(bytes);
  check(cudaMemcpyAsync(staging.as<void>(), data, bytes, cudaMemcpyHostToDevice, cudaStreamPerThread),
        "cudaMemcpyAsync host→device");
  return staging.as<void>();
}

// Copies `count` host values into `staging` (stream-ordered) and returns the device pointer.
template <typename T>
inline const T* upload(const T* host, int64_t count, Scratch& staging) {
  const size_t bytes = static_cast<size_t>(count) * sizeof(T);
  staging.reset(bytes);
  check(cudaMemcpyAsync(staging.as<void>(), host, bytes, cudaMemcpyHostToDevice, cudaStreamPerThread),
        "cudaMemcpyAsync host→device");
  return staging.as<T>();
}

inline int sm_count(int dev) {
  int n = 0;
  check(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev), "cudaDeviceGetAttribute");
  return n;
}

}  // namespace cuda
}  // namespace lw
