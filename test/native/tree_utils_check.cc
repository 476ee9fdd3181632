// Native smoke check of core/tree_utils + core/multidraft against brute force (float64), without Node.
// g++ -O2 -std=c++17 -Inative test/native/tree_utils_check.cc native/core/tree_utils.cc native/core/multidraft.cc
//     native/core/parallel.cc native/cpu/device_none.cc -lpthread -o build-checks/tree_utils_check
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "core/multidraft.h"
#include "core/tree_utils.h"

static int failures = 0;
static void expect_near(double a, double b, double tol, const char* what) {
  if (!(std::fabs(a - b) <= tol)) {
    std::printf("FAIL %s: %.17g vs %.17g\n", what, a, b);
    ++failures;
  }
}

int main() {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> U(0, 1);
  // multidraft i.i.d.: prefix sweep == brute force over all subsets.
  for (int trial = 0; trial < 2000; ++trial) {
    const int V = 2 + trial % 8, n = 1 + trial % 5;
    std::vector<double> p(V), q(V);
    double sp = 0, sq = 0;
    for (int i = 0; i < V; ++i) sp += p[i] = U(rng) < 0.2 ? 0 : -std::log(U(rng)), sq += q[i] = U(rng) < 0.2 ? 0 : -std::log(U(rng));
    if (sp == 0) p[0] = sp = 1;
    if (sq == 0) q[V - 1] = sq = 1;
    for (int i = 0; i < V; ++i) p[i] /= sp, q[i] /= sq;
    double best = 0;
    for (int s = 0; s < (1 << V); ++s) {
      double ph = 0, qh = 0;
      for (int i = 0; i < V; ++i)
        if (s >> i & 1) ph += p[i], qh += q[i];
      best = std::max(best, std::pow(qh, n) - ph);
    }
    expect_near(lw::optimal_acceptance_iid(p.data(), q.data(), V, n), 1 - best, 1e-12, "iid");
    if (n == 1) {
      const double wor = lw::optimal_acceptance_wor_exact(p.data(), q.data(), V, 1);
      expect_near(wor, 1 - best, 1e-12, "wor n=1");
    }
  }
  // Without replacement: exact subset DP == brute force over ordered draw sequences; iid <= exact <= upper.
  for (int trial = 0; trial < 600; ++trial) {
    const int V = 2 + trial % 6;
    std::vector<double> p(V), q(V);
    double sp = 0, sq = 0;
    for (int i = 0; i < V; ++i) sp += p[i] = U(rng) < 0.2 ? 0 : -std::log(U(rng)), sq += q[i] = U(rng) < 0.15 ? 0 : -std::log(U(rng));
    if (sp == 0) p[0] = sp = 1;
    int m = 0;
    for (int i = 0; i < V; ++i) m += q[i] > 0;
    if (m == 0) q[0] = sq = 1, m = 1;
    for (int i = 0; i < V; ++i) p[i] /= sp, q[i] /= sq;
    const int n = 1 + trial % m;
    // P(S subset of H) for every H by recursion over draw sequences.
    std::vector<double> inH(1 << V, 0.0);
    struct Rec {
      static void go(const std::vector<double>& q, int V, int left, int drawn, double prob, std::vector<double>& inH) {
        if (left == 0) {
          for (int h = 0; h < (1 << V); ++h)
            if ((drawn & h) == drawn) inH[h] += prob;
          return;
        }
        double rest = 0;
        for (int i = 0; i < V; ++i)
          if (!(drawn >> i & 1)) rest += q[i];
        for (int i = 0; i < V; ++i)
          if (!(drawn >> i & 1) && q[i] > 0) go(q, V, left - 1, drawn | 1 << i, prob * q[i] / rest, inH);
      }
    };
    Rec::go(q, V, n, 0, 1.0, inH);
    double best = 0;
    for (int h = 0; h < (1 << V); ++h) {
      double ph = 0;
      for (int i = 0; i < V; ++i)
        if (h >> i & 1) ph += p[i];
      best = std::max(best, inH[h] - ph);
    }
    const double exact = lw::optimal_acceptance_wor_exact(p.data(), q.data(), V, n);
    expect_near(exact, 1 - best, 1e-12, "wor exact");
    const double iid = lw::optimal_acceptance_iid(p.data(), q.data(), V, n);
    const double up = lw::optimal_acceptance_wor_upper(p.data(), q.data(), V, n);
    if (!(iid <= exact + 1e-12 && exact <= up + 1e-12)) {
      std::printf("FAIL bounds V=%d n=%d: iid %.6f exact %.6f upper %.6f\n", V, n, iid, exact, up);
      ++failures;
    }
  }
  std::printf("%s (%d failures)\n", failures ? "FAILED" : "ok", failures);
  return failures != 0;
}
