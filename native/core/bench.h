// Benchmark support implemented by the CUDA layer (CUDA build only).
#pragma once
#include <cstddef>
#include <vector>

namespace lw {

#if LW_WITH_CUDA
// Times (ms) of `iters` device-to-device copies of `bytes` (read + write = 2 × bytes moved).
std::vector<float> device_copy_timing(int dev, size_t bytes, int iters);
#endif

}  // namespace lw
