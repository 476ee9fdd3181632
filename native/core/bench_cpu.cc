// CPU benchmark support (bench.h): the plain memory-read speed the CPU kernels are compared with.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>

#include "backend.h"
#include "bench.h"
#include "parallel.h"

namespace lw {

uint64_t read_all_cpu(const void* data, size_t bytes) {
  const size_t words = bytes / 8;
  const uint8_t* base = static_cast<const uint8_t*>(data);
  std::atomic<uint64_t> out{0};
  // Chunks of 1 MiB: parallel_for hands each thread ~4 large contiguous ranges, as the row kernels read rows.
  constexpr size_t kChunkWords = (1u << 20) / 8;
  parallel_for((words + kChunkWords - 1) / kChunkWords, 1, [&](size_t b, size_t e) {
    const size_t lo = b * kChunkWords, hi = std::min(words, e * kChunkWords);
    uint64_t acc = 0;
    size_t i = lo;
    // 64-byte lines, each prefetched 8 KiB ahead (the distance the XL3M kernel prefetches): the floor of a read
    // that hides page-crossing latency too, not only what the hardware prefetcher alone sustains.
    for (; i + 8 <= hi; i += 8) {
      __builtin_prefetch(base + (i + 1024) * 8);
      uint64_t w[8];
      std::memcpy(w, base + i * 8, 64);
      acc ^= w[0] ^ w[1] ^ w[2] ^ w[3] ^ w[4] ^ w[5] ^ w[6] ^ w[7];
    }
    for (; i < hi; ++i) {
      uint64_t w;
      std::memcpy(&w, base + i * 8, 8);
      acc ^= w;
    }
    out.fetch_xor(acc, std::memory_order_relaxed);
  });
  return out.load();
}

std::vector<float> device_copy_timing(Backend backend, int dev, size_t bytes, int iters) {
  const KernelTable& t = dispatch(backend, false, "bytes");
  return entry(t, t.copy_timing, "device copy timer")(dev, bytes, iters);
}

}  // namespace lw
