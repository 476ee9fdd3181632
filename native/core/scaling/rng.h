// Counter-based random numbers (Philox4x32-10, Salmon et al. 2011): output depends only on (key, counter), so
// bootstrap resamples are identical whatever the thread count or the order they are drawn in.
#pragma once
#include <cstdint>

namespace lw {
namespace scaling {

struct Philox4x32 {
  uint32_t key[2];

  explicit Philox4x32(uint64_t seed) : key{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32)} {}

  void operator()(const uint32_t ctr_in[4], uint32_t out[4]) const {
    uint32_t c[4] = {ctr_in[0], ctr_in[1], ctr_in[2], ctr_in[3]};
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; ++round) {
      const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c[0];
      const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c[2];
      const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
      const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
      c[0] = hi1 ^ c[1] ^ k0;
      c[1] = lo1;
      c[2] = hi0 ^ c[3] ^ k1;
      c[3] = lo0;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    for (int i = 0; i < 4; ++i) out[i] = c[i];
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
