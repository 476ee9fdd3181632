// Benchmark support: the CPU memory-read floor (bench_cpu.cc) and, CUDA build only, device timings.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "tensor.h"

namespace lw {

// Reads `bytes` at `data` once with every pool thread (contiguous ranges), XOR-folding 64-bit words; returns the
// fold so the reads cannot be elided. Its time is the plain memory-read floor of the CPU row kernels.
uint64_t read_all_cpu(const void* data, size_t bytes);

// Times (ms) of `iters` device-to-device copies of `bytes` on `backend` (read + write = 2 × bytes moved;
// KernelTable::copy_timing).
std::vector<float> device_copy_timing(Backend backend, int dev, size_t bytes, int iters);

}  // namespace lw
