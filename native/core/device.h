// Device memory and device queries, without CUDA types. Implemented by native/cuda/device.cu in the CUDA build
// and by native/cpu/device_none.cc (every call reports "no CUDA") in the CPU build.
#pragma once
#include <cstddef>
#include <string>

namespace lw {
namespace device {

struct Info {
  std::string name;
  size_t memory_bytes = 0;
  int major = 0, minor = 0;
};

// What the CUDA runtime says about the machine, for the loader's diagnosis (lib/runtime/gpuReport.ts).
struct RuntimeReport {
  int runtime_version = 0;   // CUDART_VERSION linked (13000 = 13.0); 0 in the CPU build
  int driver_version = 0;    // CUDA version the driver supports; 0 = no driver could be loaded
  std::string archs;         // CMAKE_CUDA_ARCHITECTURES of the build, comma-separated
  std::string error;         // cudaGetDeviceCount's error name, '' on success
  std::string error_message;
};

bool compiled();            // built with CUDA?
RuntimeReport runtime_report();
int count();                // devices visible (0 when no driver / no GPU)
std::string status();       // human-readable reason when count() == 0
Info info(int dev);
void* alloc(int dev, size_t bytes);            // throws lw::Error(Device) with a clear message on OOM
void release(int dev, void* ptr) noexcept;
void to_device(int dev, void* dst, const void* src, size_t bytes);
void to_host(int dev, void* dst, const void* src, size_t bytes);
// Device that owns `ptr`, or -1 when `ptr` is not device memory of this process.
int pointer_device(const void* ptr);

}  // namespace device
}  // namespace lw
