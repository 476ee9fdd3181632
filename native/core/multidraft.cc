#include "multidraft.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "error.h"

namespace lw {

namespace {

// Tokens with q > 0 sorted by p/q ascending (ties by index); tokens with q = 0 never belong to a best H.
// Sorting precomputed ratios (not cross products in the comparator) keeps the sort cheap for large V.
std::vector<int64_t> ratio_order(const double* p, const double* q, int64_t vocab) {
  std::vector<std::pair<double, int64_t>> keyed;
  for (int64_t x = 0; x < vocab; ++x)
    if (q[x] > 0) keyed.emplace_back(p[x] / q[x], x);
  std::sort(keyed.begin(), keyed.end());
  std::vector<int64_t> idx(keyed.size());
  for (size_t i = 0; i < keyed.size(); ++i) idx[i] = keyed[i].second;
  return idx;
}

void check_n(int n) {
  if (n < 1) throw_range("n (number of drafts) must be an integer >= 1, got " + std::to_string(n));
}

}  // namespace

double optimal_acceptance_iid(const double* p, const double* q, int64_t vocab, int n) {
  check_n(n);
  double P = 0, Q = 0, best = 0;
  for (int64_t x : ratio_order(p, q, vocab)) {
    P += p[x];
    Q += q[x];
    best = std::max(best, std::pow(std::min(Q, 1.0), n) - P);
  }
  return std::min(1.0, std::max(0.0, 1.0 - best));
}

double optimal_acceptance_wor_exact(const double* p, const double* q, int64_t vocab, int n) {
  check_n(n);
  std::vector<int64_t> sup;
  for (int64_t x = 0; x < vocab; ++x)
    if (q[x] > 0) sup.push_back(x);
  const int m = static_cast<int>(sup.size());
  if (m > kExactWithoutReplacementSupport)
    throw_range("exact optimal acceptance without replacement needs at most " +
                std::to_string(kExactWithoutReplacementSupport) + " tokens with q > 0, got " + std::to_string(m));
  if (n > m)
    throw_range("n = " + std::to_string(n) + " draws without replacement need at least n tokens with q > 0, got " +
                std::to_string(m));
  const uint32_t full = (1u << m) - 1;
  const size_t count = size_t{1} << m;
  std::vector<double> qs(count, 0.0), ps(count, 0.0), f(count, 0.0);
  std::vector<int> pop(count, 0);
  for (uint32_t s = 1; s < count; ++s) {
    const int low = __builtin_ctz(s);
    qs[s] = qs[s & (s - 1)] + q[sup[low]];
    ps[s] = ps[s & (s - 1)] + p[sup[low]];
    pop[s] = pop[s & (s - 1)] + 1;
  }
  // f[D] = P(the first |D| draws are exactly the set D), for |D| <= n; the mass left is that of the complement.
  f[0] = 1;
  for (uint32_t s = 1; s < count; ++s) {
    if (pop[s] > n) continue;
    double acc = 0;
    for (uint32_t rest = s; rest; rest &= rest - 1) {
      const int i = __builtin_ctz(rest);
      const uint32_t prev = s ^ (1u << i);
      const double left = qs[full ^ prev];
      if (left > 0) acc += f[prev] * q[sup[i]] / left;
    }
    f[s] = acc;
  }
  for (uint32_t s = 0; s < count; ++s)
    if (pop[s] != n) f[s] = 0;
  // Subset sums: f[H] = P(S subset of H).
  for (int i = 0; i < m; ++i)
    for (uint32_t s = 0; s < count; ++s)
      if (s >> i & 1u) f[s] += f[s ^ (1u << i)];
  double best = 0;
  for (uint32_t s = 0; s < count; ++s) best = std::max(best, f[s] - ps[s]);
  return std::min(1.0, std::max(0.0, 1.0 - best));
}

double optimal_acceptance_wor_upper(const double* p, const double* q, int64_t vocab, int n, const Cancel& cancel) {
  check_n(n);
  // P(S subset of H) = E prod_i (q(H) - q(D_i)) / (1 - q(D_i)) over the drawn prefix D_i subset of H; each factor
  // falls as q(D_i) grows, so the i largest probabilities in H give a lower bound L(H).
  std::vector<double> top;  // largest n-1 probabilities of the prefix, descending
  double P = 0, Q = 0, best = 0;
  int64_t visited = 0;
  for (int64_t x : ratio_order(p, q, vocab)) {
    if ((++visited & 1023) == 0) cancel.check();  // O(V n) in all: large vocabularies with many drafts take seconds
    P += p[x];
    Q += q[x];
    top.insert(std::upper_bound(top.begin(), top.end(), q[x], [](double a, double b) { return a > b; }), q[x]);
    if (static_cast<int>(top.size()) > n - 1) top.pop_back();
    double L = 1, M = 0;
    for (int i = 0; i < n && L > 0; ++i) {
      if (i > 0) M = i - 1 < static_cast<int>(top.size()) ? M + top[i - 1] : Q;
      const double num = Q - M, den = 1 - M;
      L = num > 0 && den > 0 ? L * std::min(1.0, num / den) : 0;
    }
    best = std::max(best, L - P);
  }
  return std::min(1.0, std::max(0.0, 1.0 - best));
}

AcceptanceBounds optimal_acceptance_wor_bounds(const double* p, const double* q, int64_t vocab, int n, const Cancel& cancel) {
  check_n(n);
  int64_t m = 0;
  for (int64_t x = 0; x < vocab; ++x) m += q[x] > 0;
  if (n > m)
    throw_range("n = " + std::to_string(n) + " draws without replacement need at least n tokens with q > 0, got " +
                std::to_string(m));
  if (m <= kExactWithoutReplacementSupport) {
    const double v = optimal_acceptance_wor_exact(p, q, vocab, n);
    return {v, v};
  }
  AcceptanceBounds r;
  r.lower = optimal_acceptance_iid(p, q, vocab, n);
  cancel.check();
  r.upper = std::max(r.lower, optimal_acceptance_wor_upper(p, q, vocab, n, cancel));
  return r;
}

}  // namespace lw
