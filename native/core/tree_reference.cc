// Float64 reference of verifyTree: the algorithms of docs/tree-verification.md written as plainly as possible, every visited
// distribution materialised. Same random streams as the kernels, so tokens agree except where a comparison
// falls within float rounding of its threshold.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "error.h"
#include "processors.h"
#include "tree_verify.h"
#include "tree_walk.h"

namespace lw {
namespace {

using Dist = std::vector<double>;

// Row g in float64, with request b's logits processors applied (in float64) when the call has any.
std::vector<double> row(const LogitsView& l, int64_t g, const TreeVerifyArgs& a, const TreePlan& plan, int64_t b) {
  if (l.mem.on_device) throw_range("verifyTree reference: logits must be in host memory");
  std::vector<double> z(l.vocab);
  const char* base = static_cast<const char*>(l.mem.data) + g * l.vocab * dtype_size(l.dtype);
  for (int64_t x = 0; x < l.vocab; ++x) z[x] = load_as_float(base, l.dtype, x);
  if (plan.processors.active) {
    std::vector<int32_t> toks, counts;
    apply_processors(plan.processors, a.trees, b, g, z.data(), l.vocab, toks, counts);
    if (*std::max_element(z.begin(), z.end()) == -INFINITY)
      throw_range("verifyTree reference: row " + std::to_string(g) + " has no allowed token");
  }
  return z;
}

Dist softmax(const std::vector<double>& z) {
  Dist p;
  processed_distribution(z, SamplingRow{}, false, p);
  return p;
}

double total(const Dist& d) { return std::accumulate(d.begin(), d.end(), 0.0); }

double exponential(uint32_t bits) { return -std::log((static_cast<double>(bits) + 0.5) * 2.3283064365386963e-10); }

// y ~ r by the two-stage exponential race of tree_walk.h (a chunk by its mass, then a token inside it);
// -1 when r is zero everywhere.
int32_t race(const Dist& r, const tree::RowKey& key) {
  const int32_t V = static_cast<int32_t>(r.size()), C = tree::kChunk;
  int32_t chunk = -1;
  double best = 0.0;
  for (int32_t c = 0; c * C < V; ++c) {
    double mass = 0.0;
    for (int32_t x = c * C; x < std::min(V, (c + 1) * C); ++x) mass += r[x];
    if (mass <= 0.0) continue;
    uint32_t bits = philox::philox4x32_10(key.request, key.step, key.node,
                                          (tree::kPurposeChunk << 28) | (static_cast<uint32_t>(c) >> 2), key.k0,
                                          key.k1).v[c & 3];
    double k = mass / exponential(bits);
    if (k > best) { best = k; chunk = c; }
  }
  if (chunk < 0) return -1;
  int32_t y = -1;
  best = 0.0;
  for (int32_t x = chunk * C; x < std::min(V, (chunk + 1) * C); ++x) {
    if (r[x] <= 0.0) continue;
    double k = r[x] / exponential(tree::sample_bits(key, static_cast<uint32_t>(x) >> 2).v[x & 3]);
    if (k > best) { best = k; y = x; }
  }
  return y;
}

int32_t sample(const Dist& r, const Dist& p, const tree::RowKey& key) {
  int32_t y = race(r, key);
  return y >= 0 ? y : race(p, key);
}

}  // namespace

TreeVerifyResult verify_tree_reference(const TreeVerifyArgs& a) {
  validate_tree_verify(a);
  const TreePlan plan = plan_tree_verify(a);
  TreeVerifyResult res;
  res.token_offsets.push_back(0);
  for (int64_t b = 0; b < a.trees.batch; ++b) {
    const int32_t root = a.trees.offsets[b];
    const int32_t kind = plan.kind[b];
    tree::RowKey key = tree::request_key(a.seed, a.seeds, a.step, a.steps, b);
    int32_t g = root, emitted = 0;
    for (;;) {
      key.node = static_cast<uint32_t>(g - root);
      // Children in node order from the raw arrays (not the plan): placeholders are not candidates, and a
      // request that reached its cap sees a leaf.
      std::vector<int32_t> kids;
      if (emitted < a.max_accepted.at(b))
        for (int32_t c = g + 1; c < a.trees.offsets[b + 1]; ++c)
          if (a.trees.parents[c] == g - root && a.trees.tokens[c] != kPlaceholderToken) kids.push_back(c);
      auto tok = [&](int32_t c) { return a.trees.tokens[c]; };
      auto accept = [&](int32_t c) {
        res.accepted_nodes.push_back(g - root);
        res.tokens.push_back(tok(c));
        ++emitted;
        g = c;
      };
      auto finish = [&](int32_t y) {
        res.accepted_nodes.push_back(g - root);
        res.tokens.push_back(y);
        ++emitted;
      };
      const std::vector<double> z = row(a.target, g, a, plan, b);
      if (kind == tree::kGreedy) {  // A
        int32_t y = static_cast<int32_t>(std::max_element(z.begin(), z.end()) - z.begin());
        auto it = std::find_if(kids.begin(), kids.end(), [&](int32_t c) { return tok(c) == y; });
        if (it == kids.end()) { finish(y); break; }
        accept(*it);
        continue;
      }
      Dist p;
      processed_distribution(z, a.sampling.at(b), false, p);
      if (kind == tree::kDeterministic || kids.empty()) {  // B (and the bonus at any leaf)
        double u = tree::accept_uniform(key, 0), S = 0.0;
        int32_t next = -1;
        for (int32_t c : kids) {
          S += p[tok(c)];
          if (u < S) { next = c; break; }
        }
        if (next >= 0) { accept(next); continue; }
        Dist r = p;
        for (int32_t c : kids) r[tok(c)] = 0.0;
        finish(sample(r, p, key));
        break;
      }
      // C / D: recursive rejection sampling against the draft distribution q.
      const Dist q = softmax(row(a.draft, g, a, plan, b));
      const bool wor = kind == tree::kWithoutReplacement;
      Dist r = p, qj = q;
      int32_t next = -1;
      for (size_t j = 0; j < kids.size(); ++j) {
        if (wor && j > 0) {  // q with the tried tokens removed, renormalised
          qj[tok(kids[j - 1])] = 0.0;
          double s = total(qj);
          if (!(s > 1e-12)) break;
          for (double& v : qj) v /= s;
        }
        const int32_t x = tok(kids[j]);
        double u = tree::accept_uniform(key, static_cast<uint32_t>(j));
        if (qj[x] > 0.0 && u * qj[x] < r[x]) { next = kids[j]; break; }
        for (size_t y = 0; y < r.size(); ++y) r[y] = std::max(r[y] - qj[y], 0.0);
        double s = total(r);
        if (!(s > 1e-30)) { r = p; break; }  // underflow: fall back to p
        for (double& v : r) v /= s;
      }
      if (next >= 0) { accept(next); continue; }
      finish(sample(r, p, key));
      break;
    }
    res.accepted_length.push_back(emitted - 1);
    res.token_offsets.push_back(res.token_offsets.back() + emitted);
  }
  return res;
}

}  // namespace lw
