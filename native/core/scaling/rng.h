// Bootstrap resampling draws from the shared Philox4x32-10 (core/philox.h): output depends only on (key, counter),
// so bootstrap resamples are identical whatever the thread count or the order they are drawn in.
#pragma once
#include <cstdint>

#include "../philox.h"

namespace lw {
namespace scaling {

struct Philox4x32 {
  uint32_t key[2];

  explicit Philox4x32(uint64_t seed) : key{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)} {}

  void operator()(const uint32_t c[4], uint32_t out[4]) const {
    const philox::Out4 r = philox::philox4x32_10(c[0], c[1], c[2], c[3], key[0], key[1]);
    for (int i = 0; i < 4; ++i) out[i] = r.v[i];
  }

  // Uniform integer in [0, n) for draw `j` of stream `stream` (Lemire's multiply-shift with exact rejection;
  // a rejected draw moves to the next `attempt` block).
  uint32_t below(uint64_t stream, uint64_t j, uint32_t n) const {
    const uint32_t threshold = static_cast<uint32_t>(0u - n) % n;
    for (uint32_t attempt = 0;; ++attempt) {
      const uint32_t ctr[4] = {static_cast<uint32_t>(stream), static_cast<uint32_t>(stream >> 32),
                               static_cast<uint32_t>(j >> 2), attempt};
      uint32_t out[4];
      (*this)(ctr, out);
      const uint64_t m = static_cast<uint64_t>(out[j & 3]) * n;
      if (static_cast<uint32_t>(m) >= threshold) return static_cast<uint32_t>(m >> 32);
    }
  }
};

}  // namespace scaling
}  // namespace lw
