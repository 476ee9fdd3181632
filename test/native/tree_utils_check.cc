// Native smoke check of core/tree_utils + core/multidraft against brute force (float64), without Node.
// Built and run by `npm run check:native` (check tree_utils in native/sources.json).
#include <algorithm>
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

// CPU kernel vs float64 reference on random trees, vocabularies and processing settings.
static void check_kernel(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> U(0, 1);
  double worst = 0;
  for (int trial = 0; trial < 800; ++trial) {
    const int64_t V = trial % 3 == 0 ? 2 + rng() % 20 : 100 + rng() % 5000;
    const int batch = 1 + rng() % 4;
    const bool iid = trial % 4 == 1;  // only i.i.d. drafts may repeat a sibling token
    std::vector<int32_t> tokens, parents, offsets{0};
    for (int b = 0; b < batch; ++b) {
      const int size = 1 + rng() % 20;
      std::vector<std::vector<int32_t>> kids(size);
      for (int i = 0; i < size; ++i) {
        int32_t par = i == 0 ? -1 : static_cast<int32_t>(rng() % i);
        int32_t tok = static_cast<int32_t>(rng() % V);
        if (i > 0 && !iid) {
          if (static_cast<int64_t>(kids[par].size()) >= V) par = i - 1;  // no free token left: the newest node
          while (std::find(kids[par].begin(), kids[par].end(), tok) != kids[par].end()) tok = (tok + 1) % V;
        }
        if (i > 0) kids[par].push_back(tok);
        parents.push_back(par);
        tokens.push_back(tok);
      }
      offsets.push_back(static_cast<int32_t>(tokens.size()));
    }
    const int64_t rows = static_cast<int64_t>(tokens.size());
    std::vector<float> z(static_cast<size_t>(rows * V));
    const double scale = 0.5 + 6 * U(rng);
    for (auto& v : z) v = U(rng) < 0.05 ? -INFINITY : static_cast<float>(scale * (U(rng) * 2 - 1));
    for (int64_t r = 0; r < rows; ++r) z[r * V + rng() % V] = static_cast<float>(scale * 1.5);  // a peak
    if (trial % 7 == 0)  // exact ties
      for (auto& v : z) v = std::round(v);
    float T[] = {1.0f, 0.7f, 1.9f, 0.0f};
    int32_t K[] = {0, 1, 5, 50, 2000};
    float P[] = {1.0f, 0.9f, 0.5f, 0.05f};
    float M[] = {0.0f, 0.0f, 0.05f, 0.3f};
    lw::TreeUtilsArgs a;
    a.trees = {tokens.data(), parents.data(), offsets.data(), batch};
    a.target.mem.data = z.data();
    a.target.rows = rows;
    a.target.vocab = V;
    float t = T[rng() % 4], p = P[rng() % 4], m = M[rng() % 4];
    int32_t k = K[rng() % 5];
    a.sampling.greedy = trial % 11 == 0;
    a.sampling.temperature.value = t;
    a.sampling.top_k.value = k;
    a.sampling.top_p.value = p;
    a.sampling.min_p.value = m;
    a.want_reward = true;
    a.eta = 1.5;
    std::vector<float> dz(z.size());
    for (auto& v : dz) v = U(rng) < 0.05 ? -INFINITY : static_cast<float>(2 * (U(rng) * 2 - 1));
    for (int64_t r = 0; r < rows; ++r) dz[r * V + rng() % V] = 1.0f;
    if (trial % 4 != 0) {
      a.drafts = iid ? lw::DraftKind::Iid : lw::DraftKind::WithoutReplacement;
      a.draft.mem.data = dz.data();
      a.draft.rows = rows;
      a.draft.vocab = V;
    }
    const lw::TreeUtilsResult fast = lw::tree_utils(a), ref = lw::tree_utils_reference(a);
    for (size_t i = 0; i < ref.node_prob.size(); ++i) {
      const double d = std::fabs(fast.node_prob[i] - ref.node_prob[i]);
      worst = std::max(worst, d);
      if (d > 2e-6 * std::max(1e-3, ref.node_prob[i])) {
        std::printf("FAIL kernel trial %d node %zu: %.12g vs %.12g (V=%lld T=%g k=%d p=%g min-p=%g)\n", trial, i,
                    fast.node_prob[i], ref.node_prob[i], static_cast<long long>(V), t, k, p, m);
        ++failures;
        for (int64_t r = 0; r < rows; ++r) {
          std::printf("  row %lld:", static_cast<long long>(r));
          for (int64_t x = 0; x < std::min<int64_t>(V, 12); ++x) std::printf(" %.9g", z[r * V + x]);
          std::printf("\n");
        }
        return;
      }
    }
    for (int b = 0; b < batch; ++b) {
      expect_near(fast.expected[b], ref.expected[b], 1e-5, "kernel expected");
      expect_near(fast.reward[b], ref.reward[b], 1e-5, "kernel reward");
    }
  }
  std::printf("kernel vs reference: worst |dp| = %.3g\n", worst);
}

int main() {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> U(0, 1);
  check_kernel(rng);
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
