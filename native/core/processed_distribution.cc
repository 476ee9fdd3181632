// The knobs' ranges (validate_sampling) and the float64 processed target distribution p_v of
// docs/tree-verification.md §2 (softmax(z/T) → min-p → top-k → top-p, renormalised): the one reference every
// backend's kept set is tested against. Shipped, because the tree utilities' float64 path computes p_v with it. A
// new knob's semantics live here and in sampling_params.h only.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "error.h"
#include "sampling_params.h"

namespace lw {
namespace {

// "name = v" or "name[b] = v": which request broke the rule, when the knob is per request.
template <class T>
std::string knob(const char* name, const PerRequest<T>& k, int64_t b) {
  const std::string who = k.array ? std::string(name) + "[" + std::to_string(b) + "]" : std::string(name);
  return who + " = " + std::to_string(k.at(b));
}

}  // namespace

void validate_sampling(const SamplingParams& s, int64_t batch) {
  const int64_t n = (s.temperature.array || s.top_k.array || s.top_p.array || s.min_p.array) ? batch : 1;
  for (int64_t b = 0; b < n; ++b) {
    const float T = s.temperature.at(b), P = s.top_p.at(b), M = s.min_p.at(b);
    if (!(T >= 0.f) || !std::isfinite(T)) throw_range(knob("temperature", s.temperature, b) + " must be finite and >= 0");
    if (s.top_k.at(b) < 0) throw_range(knob("topK", s.top_k, b) + " must be >= 0 (0 = off)");
    if (!(P > 0.f && P <= 1.f)) throw_range(knob("topP", s.top_p, b) + " must be in (0, 1] (1 = off)");
    if (!(M >= 0.f && M <= 1.f)) throw_range(knob("minP", s.min_p, b) + " must be in [0, 1] (0 = off)");
  }
}

void processed_distribution(const std::vector<double>& z, const SamplingRow& s, bool greedy, std::vector<double>& p) {
  const int64_t V = static_cast<int64_t>(z.size());
  p.assign(V, 0.0);
  const int64_t arg = std::max_element(z.begin(), z.end()) - z.begin();  // lowest id on ties
  if (greedy || !(s.temperature > 0.f)) {
    p[arg] = 1.0;
    return;
  }
  const double T = s.temperature;
  std::vector<double> w(V);
  for (int64_t x = 0; x < V; ++x) w[x] = std::exp((z[x] - z[arg]) / T);
  const bool use_k = s.top_k > 0 && s.top_k < V;
  if (!use_k && s.top_p >= 1.f && s.min_p <= 0.f) {
    const double Z = std::accumulate(w.begin(), w.end(), 0.0);
    for (int64_t x = 0; x < V; ++x) p[x] = w[x] / Z;
    return;
  }
  std::vector<int64_t> order(V);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return z[a] > z[b]; });
  int64_t keep = 0;  // min-p: w(x) >= min_p holds on a prefix of the order
  while (keep < V && w[order[keep]] >= s.min_p && w[order[keep]] > 0.0) ++keep;
  if (use_k) keep = std::min<int64_t>(keep, s.top_k);
  if (s.top_p < 1.f) {
    double mass = 0.0, cum = 0.0;
    for (int64_t i = 0; i < keep; ++i) mass += w[order[i]];
    for (int64_t i = 0; i < keep; ++i) {
      cum += w[order[i]];
      if (cum >= s.top_p * mass) { keep = i + 1; break; }
    }
  }
  double Z = 0.0;
  for (int64_t i = 0; i < keep; ++i) Z += w[order[i]];
  for (int64_t i = 0; i < keep; ++i) p[order[i]] = w[order[i]] / Z;
}

}  // namespace lw
