// CUDA error handling for the cuda/ layer: every failure becomes lw::Error(Device) naming the call.
#pragma once
#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/tuning.h"

namespace lw {
namespace cuda {

inline void check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return;
  cudaGetLastError();  // clear sticky-free errors so the library stays usable
  std::string msg = std::string(what) + " failed: " + cudaGetErrorString(e);
  if (e == cudaErrorMemoryAllocation) msg = std::string("CUDA out of memory (") + what + ")";
  throw_device(msg);
}

// The current device's default memory pool keeps up to kPoolKeep bytes across synchronisations (CUDA's default
// trims the pool to 0 at every sync, so the next call's cudaMallocAsync maps fresh pages: tens of µs per call).
// Larger scratch (host-input staging of big logits) is still returned to the device. Once per device.
constexpr uint64_t kPoolKeep = uint64_t(512) << 20;
inline void keep_pool() {
  static std::atomic<uint64_t> done{0};  // bit d: device d configured
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess || dev < 0 || dev >= 64) { cudaGetLastError(); return; }
  if (done.load(std::memory_order_relaxed) & (uint64_t(1) << dev)) return;
  if (!process_tuning().host_legacy) {
    cudaMemPool_t pool;
    if (cudaDeviceGetDefaultMemPool(&pool, dev) == cudaSuccess) {
      uint64_t keep = kPoolKeep;
      cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep);
    }
    cudaGetLastError();
  }
  done.fetch_or(uint64_t(1) << dev);
}

// Page-locked host memory reused by every call on this thread: slot 0 stages uploads (plans, small inputs),
// slot 1 receives results. Copies from / to it are true DMA transfers (pageable memory goes through a driver
// bounce buffer and a synchronous memcpy). Grown on demand, never shrunk; null under host_legacy (callers then
// use their own pageable vectors). A slot is reused only after the call that filled it synchronised.
inline void* pinned_host(int slot, size_t bytes) {
  struct Slots {
    void* p[2] = {nullptr, nullptr};
    size_t n[2] = {0, 0};
    ~Slots() {
      for (void* q : p)
        if (q) cudaFreeHost(q);
    }
  };
  thread_local Slots s;
  if (process_tuning().host_legacy || bytes == 0) return nullptr;
  if (s.n[slot] < bytes) {
    if (s.p[slot]) cudaFreeHost(s.p[slot]);
    s.p[slot] = nullptr;
    s.n[slot] = 0;
    size_t want = 4096;
    while (want < bytes) want *= 2;
    if (cudaHostAlloc(&s.p[slot], want, cudaHostAllocPortable) != cudaSuccess) {
      cudaGetLastError();
      s.p[slot] = nullptr;
      return nullptr;  // no pinned memory: the caller falls back to pageable
    }
    s.n[slot] = want;
  }
  return s.p[slot];
}

// Stream-ordered scratch memory on the per-thread default stream, freed when it goes out of scope. Allocation and
// free both use the current device's per-thread stream: keep the device it was allocated on current until it dies
// (entry points call cudaSetDevice once, before their first Scratch). Host threads on the same or different
// devices each get their own stream, so concurrent calls (core/multi_device.h) are safe.
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
    keep_pool();
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
