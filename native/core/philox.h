// Counter-based random numbers (Philox4x32-10, Salmon et al. 2011), usable from host C++ and CUDA device code.
// Tree verification keys every draw by (seed, request, step, node, purpose, index) so results never depend on
// batch composition, thread count or backend.
#pragma once
#include <cmath>
#include <cstdint>

#include "hd.h"

namespace lw {
namespace philox {

struct Out4 {
  uint32_t v[4];
};

LW_HD uint32_t mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
#if defined(__CUDA_ARCH__)
  *hi = __umulhi(a, b);
  return a * b;
#else
  uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
#endif
}

// Philox4x32 with 10 rounds on counter (c0..c3) and key (k0, k1).
LW_HD Out4 philox4x32_10(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
  for (int r = 0; r < 10; ++r) {
    uint32_t hi0, hi1;
    uint32_t lo0 = mulhilo(0xD2511F53u, c0, &hi0);
    uint32_t lo1 = mulhilo(0xCD9E8D57u, c2, &hi1);
    uint32_t n0 = hi1 ^ c1 ^ k0;
    uint32_t n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Out4{{c0, c1, c2, c3}};
}

// Uniform in (0, 1] with 32 random bits, exact in double: (x + 1) / 2^32.
LW_HD double uniform_open0(uint32_t x) { return (static_cast<double>(x) + 1.0) * 2.3283064365386963e-10; }

// Exp(1) variate -log(u) with u = (x + 1/2) / 2^32 in (0, 1), accurate at both ends (never 0, never inf):
// the upper half goes through log1p(-(1-u)) where 1-u is exact.
LW_HD float exponential(uint32_t x) {
  if (x < 0x80000000u) return -logf((static_cast<float>(x) + 0.5f) * 2.3283064e-10f);
  float w = (static_cast<float>(~x) + 0.5f) * 2.3283064e-10f;
  return -log1pf(-w);
}

// Smallest value exponential() can return (x = 0xffffffff), rounded down: keys r/E never exceed r / kMinExp.
constexpr float kMinExponential = 1.16e-10f;

}  // namespace philox
}  // namespace lw
