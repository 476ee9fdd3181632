// Native check: the exp sums of native/cpu/row_simd.cc are bit-identical on the AVX-512 and AVX2 paths (run it with
// LENGTHWISE_SIMD=avx512 and =avx2 and compare the printed hashes), and row_weights sums to row_sum_exp exactly.
// Built and run by `npm run check:native` (check row_simd in native/sources.json, which compares the hashes).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>
#include "cpu/row_simd.h"
int main() {
  std::mt19937 g(5); std::normal_distribution<float> nd(0.f, 3.f);
  unsigned long long h = 1469598103934665603ull;
  for (int n = 1; n < 3000; n += (n < 100 ? 1 : 37)) {
    std::vector<float> z(n), w(n);
    for (auto& v : z) v = nd(g);
    if (n > 5) z[3] = -INFINITY;
    float m = -INFINITY; for (float v : z) m = v > m ? v : m;
    for (float it : {1.0f, 1.4285715f, 0.5f}) {
      double a = lw::cpu::row_sum_exp(z.data(), n, m, it), b = lw::cpu::row_weights(z.data(), n, m, it, w.data());
      if (a != b) { std::printf("sum != weights sum at n=%d\n", n); return 1; }
      unsigned long long u; std::memcpy(&u, &a, 8); h = (h ^ u) * 1099511628211ull;
      for (float v : w) { unsigned x; std::memcpy(&x, &v, 4); h = (h ^ x) * 1099511628211ull; }
    }
  }
  std::printf("%s %016llx\n", lw::cpu::row_simd_level(), h);
}
