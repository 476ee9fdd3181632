// Native checks of verifyTree (core + CPU backend): Philox known answers, greedy = plain walk, kernel vs float64
// reference, χ² exactness of every sampling mode over 10^6 trials, validation messages.
// Built and run by `npm run check:native` (check tree_verify in native/sources.json). Argument: [χ² trials].
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/philox.h"
#include "core/tree_verify.h"

using namespace lw;

enum class VerifyMode { Greedy, Sample };

#include "check.h"

// ---------- helpers ----------
static uint16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7fff + ((u >> 16) & 1);
  return static_cast<uint16_t>(u >> 16);
}

struct Batch {
  std::vector<int32_t> tokens, parents, offsets{0};
  std::vector<float> target, draft;
  std::vector<float> T;
  std::vector<int32_t> K;
  std::vector<float> P;
  std::vector<float> M;  // min-p (empty: off)
  std::vector<int32_t> caps;  // maxAccepted per request (empty: no cap)
};

static TreeVerifyArgs make_args(const Batch& bt, int64_t V, VerifyMode mode, DraftKind dk, uint64_t seed, uint32_t step,
                                const std::vector<uint16_t>* t16 = nullptr, DType dt = DType::F32) {
  TreeVerifyArgs a;
  a.trees = {bt.tokens.data(), bt.parents.data(), bt.offsets.data(), static_cast<int64_t>(bt.offsets.size()) - 1};
  int64_t rows = bt.offsets.back();
  a.target = {{t16 ? static_cast<const void*>(t16->data()) : bt.target.data(), false, 0}, t16 ? dt : DType::F32, rows, V};
  if (!bt.draft.empty()) a.draft = {{bt.draft.data(), false, 0}, DType::F32, rows, V};
  a.sampling.greedy = mode == VerifyMode::Greedy;
  a.drafts = dk;
  a.sampling.temperature.array = bt.T.data();
  a.sampling.top_k.array = bt.K.data();
  a.sampling.top_p.array = bt.P.data();
  if (!bt.M.empty()) a.sampling.min_p.array = bt.M.data();
  if (!bt.caps.empty()) a.max_accepted.array = bt.caps.data();
  a.seed = seed;
  a.step = step;
  return a;
}

// Exact processed target distribution in double: the core reference (checked against the TypeScript one by
// test/tree-processing-reference.test.ts).
static std::vector<double> processed(const float* z, int V, double T, int k, double P, double M = 0) {
  std::vector<double> zd(z, z + V), p;
  processed_distribution(zd, SamplingRow{float(T), k, float(P), float(M)}, false, p);
  return p;
}

// Wilson–Hilferty upper tail of χ²_k.
static double chi2_pvalue(double x, int k) {
  double h = 2.0 / (9.0 * k);
  double zz = (std::cbrt(x / k) - (1 - h)) / std::sqrt(h);
  return 0.5 * std::erfc(zz / std::sqrt(2.0));
}

// ---------- 1. Philox ----------
static void test_philox() {
  auto a = philox::philox4x32_10(0, 0, 0, 0, 0, 0);
  CHECK(a.v[0] == 0x6627e8d5u && a.v[1] == 0xe169c58du && a.v[2] == 0xbc57ac4cu && a.v[3] == 0x9b00dbd8u, "philox kat 0");
  a = philox::philox4x32_10(~0u, ~0u, ~0u, ~0u, ~0u, ~0u);
  CHECK(a.v[0] == 0x408f276du && a.v[3] == 0x6d5451fdu, "philox kat ff");
  a = philox::philox4x32_10(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0);
  CHECK(a.v[0] == 0xd16cfe09u && a.v[1] == 0x94fdccebu && a.v[2] == 0x5001e420u && a.v[3] == 0x24126ea1u, "philox kat pi");
  CHECK(philox::uniform_open0(0xffffffffu) == 1.0 && philox::uniform_open0(0) > 0, "uniform range");
  CHECK(std::isfinite(philox::exponential(0)) && philox::exponential(0xffffffffu) >= philox::kMinExponential, "exp range");
  // mean of Exp(1) over many draws
  double s = 0;
  const int n = 1 << 20;
  for (int i = 0; i < n; ++i) s += philox::exponential(philox::philox4x32_10(i, 1, 2, 3, 4, 5).v[i & 3]);
  CHECK(std::fabs(s / n - 1.0) < 0.005, "exp mean %f", s / n);
}

// ---------- random trees ----------
static void random_batch(Batch& bt, std::mt19937_64& rng, int B, int maxNodes, int V, bool draft, bool allow_dup,
                         float scale) {
  std::normal_distribution<float> nd(0.f, scale);
  for (int b = 0; b < B; ++b) {
    int n = 1 + rng() % maxNodes;
    std::vector<std::vector<int>> kids(n);
    for (int i = 0; i < n; ++i) {
      int par = i == 0 ? -1 : static_cast<int>(rng() % i);
      int tok = static_cast<int>(rng() % V);
      if (i > 0 && !allow_dup) {
        bool clash;
        do {
          clash = false;
          for (int c : kids[par]) if (bt.tokens[bt.offsets.back() + c] == tok) clash = true;
          if (clash) tok = (tok + 1) % V;
        } while (clash);
      }
      if (i > 0) kids[par].push_back(i);
      bt.tokens.push_back(tok);
      bt.parents.push_back(par);
    }
    bt.offsets.push_back(bt.offsets.back() + n);
    bt.T.push_back(0.5f + (rng() % 100) / 100.f);
    bt.K.push_back(rng() % 3 == 0 ? 1 + rng() % 50 : 0);
    bt.P.push_back(rng() % 3 == 0 ? 0.5f + (rng() % 50) / 100.f : 1.f);
    bt.M.push_back(rng() % 3 == 0 ? 0.01f + (rng() % 40) / 100.f : 0.f);
  }
  int rows = bt.offsets.back();
  bt.target.resize(size_t(rows) * V);
  for (auto& v : bt.target) v = nd(rng);
  // Make the drafted children likely under the target so walks go deep.
  for (int g = 0; g < rows; ++g)
    for (int c = g + 1; c < rows; ++c) {
      // find parent in global terms
    }
  if (draft) {
    bt.draft.resize(size_t(rows) * V);
    for (auto& v : bt.draft) v = nd(rng);
  }
}

// Placeholders (token -1) at random non-root nodes (after any planting of child tokens) and random caps
// (0, 1, 2, 3 or none) per request.
static void sprinkle_caps(Batch& bt, std::mt19937_64& rng) {
  for (size_t b = 0; b + 1 < bt.offsets.size(); ++b) {
    for (int g = bt.offsets[b] + 1; g < bt.offsets[b + 1]; ++g)
      if (rng() % 6 == 0) bt.tokens[g] = kPlaceholderToken;
    const int c = static_cast<int>(rng() % 5);
    bt.caps.push_back(c == 4 ? kNoCap : c);
  }
}

// Plain greedy walk (test-local).
static void greedy_walk(const Batch& bt, int V, std::vector<int32_t>& toks, std::vector<int32_t>& nodes) {
  for (size_t b = 0; b + 1 < bt.offsets.size(); ++b) {
    int o = bt.offsets[b], n = bt.offsets[b + 1] - o, v = 0;
    const int cap = bt.caps.empty() ? kNoCap : bt.caps[b];
    for (int accepted = 0;; ++accepted) {
      const float* z = &bt.target[size_t(o + v) * V];
      int y = int(std::max_element(z, z + V) - z);
      nodes.push_back(v);
      toks.push_back(y);
      int next = -1;
      for (int c = v + 1; c < n && accepted < cap; ++c)
        if (bt.parents[o + c] == v && bt.tokens[o + c] == y) { next = c; break; }
      if (next < 0) break;
      v = next;
    }
  }
}

static void test_greedy() {
  std::mt19937_64 rng(7);
  for (int rep = 0; rep < 20; ++rep) {
    Batch bt;
    int V = 50 + rng() % 3000;
    random_batch(bt, rng, 1 + rng() % 40, 30, V, false, false, 2.f);
    // plant the argmax as a child token sometimes so walks go deep
    for (size_t b = 0; b + 1 < bt.offsets.size(); ++b) {
      int o = bt.offsets[b], n = bt.offsets[b + 1] - o;
      for (int c = 1; c < n; ++c)
        if (rng() % 2) bt.target[size_t(o + bt.parents[o + c]) * V + bt.tokens[o + c]] = 20.f + (rng() % 1000) / 100.f;
    }
    // ties: duplicate max values
    bt.target[5 % bt.target.size()] = 40.f;
    bt.target[3 % bt.target.size()] = 40.f;
    if (rep % 2) sprinkle_caps(bt, rng);
    std::vector<int32_t> toks, nodes;
    greedy_walk(bt, V, toks, nodes);
    for (int dt = 0; dt < 3; ++dt) {
      std::vector<uint16_t> h;
      Batch b2 = bt;
      if (dt == 2) {  // bf16: compare with the walk over rounded values
        h.resize(bt.target.size());
        for (size_t i = 0; i < h.size(); ++i) { h[i] = to_bf16(bt.target[i]); b2.target[i] = bf16_to_float(h[i]); }
      }
      std::vector<int32_t> t2, n2;
      greedy_walk(b2, V, t2, n2);
      auto a = make_args(b2, V, VerifyMode::Greedy, DraftKind::Deterministic, 1, 0, dt == 2 ? &h : nullptr, DType::BF16);
      TreeVerifyResult r = verify_tree(a);
      CHECK(r.tokens == t2 && r.accepted_nodes == n2, "greedy walk mismatch rep %d dt %d", rep, dt);
      TreeVerifyResult rr = verify_tree_reference(a);
      CHECK(rr.tokens == t2 && rr.accepted_nodes == n2, "reference greedy mismatch rep %d", rep);
      if (dt == 1) break;
    }
  }
}

// ---------- kernel vs reference ----------
static void test_vs_reference() {
  std::mt19937_64 rng(11);
  int64_t same = 0, total = 0;
  for (int rep = 0; rep < 60; ++rep) {
    int dk = rep % 3;
    Batch bt;
    int V = rep % 4 == 0 ? 20000 + rng() % 40000 : 16 + rng() % 2000;  // large V: several chunks, fast select
    random_batch(bt, rng, rep % 4 == 0 ? 6 : 20, 12, V, dk != 0, dk == 1, 1.5f);
    for (size_t b = 0; b + 1 < bt.offsets.size(); ++b) {  // make children probable under the target
      int o = bt.offsets[b], n = bt.offsets[b + 1] - o;
      for (int c = 1; c < n; ++c)
        if (rng() % 2) bt.target[size_t(o + bt.parents[o + c]) * V + bt.tokens[o + c]] += 4.f;
    }
    if (rep % 2) sprinkle_caps(bt, rng);  // the reference walks the raw arrays, not the plan's child lists
    auto a = make_args(bt, V, VerifyMode::Sample, DraftKind(dk), 1234 + rep, rep);
    TreeVerifyResult r = verify_tree(a), rr = verify_tree_reference(a);
    CHECK(r.token_offsets.size() == rr.token_offsets.size(), "shape");
    for (size_t b = 0; b + 1 < r.token_offsets.size(); ++b) {
      ++total;
      bool eq = r.accepted_length[b] == rr.accepted_length[b];
      if (eq)
        for (int i = r.token_offsets[b]; i < r.token_offsets[b + 1]; ++i)
          eq = eq && r.tokens[i] == rr.tokens[i] && r.accepted_nodes[i] == rr.accepted_nodes[i];
      same += eq;
    }
  }
  std::printf("kernel vs float64 reference: %lld / %lld requests identical (%.4f%%)\n", (long long)same,
              (long long)total, 100.0 * same / total);
  CHECK(same >= total - total / 200, "kernel vs reference agreement too low");
}

// ---------- χ² exactness ----------
// A toy language model over V tokens: logits are a function of the context (tokens after the root).
struct World {
  int V;
  float T;
  int K;
  float P;
  int qkind;  // 0 = independent q, 1 = q = p (processed target), 2 = q supported where p = 0, 3 = flat q
  uint64_t salt;
  float M = 0.f;  // min-p
  std::map<std::vector<int>, std::vector<float>> tcache, qcache;

  std::vector<float> logits(const std::vector<int>& ctx, uint64_t s) const {
    uint64_t h = s;
    for (int t : ctx) h = h * 1000003u + t + 17;
    std::mt19937_64 r(h);
    std::normal_distribution<float> nd(0.f, 1.3f);
    std::vector<float> z(V);
    for (auto& v : z) v = nd(r);
    z[r() % V] = -INFINITY;  // one zero-probability token per context
    return z;
  }
  const std::vector<float>& target(const std::vector<int>& ctx) {
    auto it = tcache.find(ctx);
    if (it != tcache.end()) return it->second;
    return tcache[ctx] = logits(ctx, salt);
  }
  std::vector<double> p(const std::vector<int>& ctx) {
    return processed(target(ctx).data(), V, T, K, P, M);
  }
  const std::vector<float>& draft(const std::vector<int>& ctx) {
    auto it = qcache.find(ctx);
    if (it != qcache.end()) return it->second;
    std::vector<float> z;
    if (qkind == 0) z = logits(ctx, salt ^ 0x9e3779b97f4a7c15ull);
    else if (qkind == 3) z.assign(V, 0.f);
    else {
      std::vector<double> pp = p(ctx);
      z.resize(V);
      for (int x = 0; x < V; ++x) {
        bool in = qkind == 1 ? pp[x] > 0 : pp[x] == 0;
        z[x] = in ? (qkind == 1 ? float(std::log(pp[x])) : 0.3f * x) : -INFINITY;
      }
    }
    return qcache[ctx] = z;
  }
};

static int draw(const std::vector<double>& w, std::mt19937_64& rng) {
  double s = std::accumulate(w.begin(), w.end(), 0.0);
  double u = std::uniform_real_distribution<double>(0, s)(rng);
  for (size_t i = 0; i < w.size(); ++i) { u -= w[i]; if (u < 0 && w[i] > 0) return int(i); }
  for (size_t i = w.size(); i-- > 0;) if (w[i] > 0) return int(i);
  return 0;
}

static std::vector<double> softmaxd(const std::vector<float>& z) {
  double m = *std::max_element(z.begin(), z.end());
  std::vector<double> w(z.size());
  double s = 0;
  for (size_t i = 0; i < z.size(); ++i) s += w[i] = std::exp(z[i] - m);
  for (auto& v : w) v /= s;
  return w;
}

struct Scenario {
  const char* name;
  DraftKind dk;
  std::vector<int> shape;  // local parents, shape[0] = -1
  World w;
  std::vector<int> caps = {};   // maxAccepted of request b = caps[b % size] (empty: none)
  std::vector<int> holes = {};  // local nodes holding the placeholder -1 (padding, not draws)
};

static void run_scenario(Scenario sc, int64_t trials, int L) {
  World& w = sc.w;
  const int V = w.V, n = int(sc.shape.size());
  const int per_call = static_cast<int>(std::min<int64_t>(100000, trials));
  std::mt19937_64 rng(w.salt * 7 + 1);
  std::vector<int64_t> counts(size_t(std::pow(V, L)), 0);
  int64_t acc_total = 0, over_cap = 0, placeholder_accepted = 0;
  for (int64_t done = 0, step = 0; done < trials; done += per_call, ++step) {
    Batch bt;
    bt.target.resize(size_t(per_call) * n * V);
    if (sc.dk != DraftKind::Deterministic) bt.draft.resize(bt.target.size());
    std::vector<std::vector<int>> ctxs(n);
    for (int b = 0; b < per_call; ++b) {
      int o = b * n;
      for (int i = 0; i < n; ++i) {
        int par = sc.shape[i];
        ctxs[i].clear();
        int tok = 0;
        const bool hole = std::find(sc.holes.begin(), sc.holes.end(), i) != sc.holes.end();
        if (hole) {  // unreachable: its row (and its subtree's) is some context's, never read
          ctxs[i] = ctxs[par];
          ctxs[i].push_back(0);
          tok = kPlaceholderToken;
        } else if (i > 0) {
          ctxs[i] = ctxs[par];
          // children of `par` drawn so far, in order
          std::vector<int> sib;
          for (int c = 1; c < i; ++c)
            if (sc.shape[c] == par && bt.tokens[o + c] != kPlaceholderToken) sib.push_back(bt.tokens[o + c]);
          if (sc.dk == DraftKind::Deterministic) {
            do tok = int(rng() % V); while (std::find(sib.begin(), sib.end(), tok) != sib.end());
          } else {
            std::vector<double> q = softmaxd(w.draft(ctxs[par]));
            if (sc.dk == DraftKind::WithoutReplacement) for (int s : sib) q[s] = 0;
            tok = draw(q, rng);
          }
          ctxs[i].push_back(tok);
        }
        bt.tokens.push_back(tok);
        bt.parents.push_back(par);
        std::memcpy(&bt.target[size_t(o + i) * V], w.target(ctxs[i]).data(), V * 4);
        if (!bt.draft.empty()) std::memcpy(&bt.draft[size_t(o + i) * V], w.draft(ctxs[i]).data(), V * 4);
      }
      bt.offsets.push_back(bt.offsets.back() + n);
      bt.T.push_back(w.T);
      bt.K.push_back(w.K);
      bt.P.push_back(w.P);
      bt.M.push_back(w.M);
      if (!sc.caps.empty()) bt.caps.push_back(sc.caps[b % sc.caps.size()] < 0 ? kNoCap : sc.caps[b % sc.caps.size()]);
    }
    auto a = make_args(bt, V, VerifyMode::Sample, sc.dk, 0xC0FFEEull + w.salt, uint32_t(step));
    TreeVerifyResult r = verify_tree(a);
    for (int b = 0; b < per_call; ++b) {
      if (!bt.caps.empty() && r.accepted_length[b] > bt.caps[b]) ++over_cap;
      for (int i = r.token_offsets[b] + 1; i < r.token_offsets[b + 1]; ++i)
        if (bt.tokens[size_t(b) * n + r.accepted_nodes[i]] == kPlaceholderToken) ++placeholder_accepted;
      std::vector<int> seq(r.tokens.begin() + r.token_offsets[b], r.tokens.begin() + r.token_offsets[b + 1]);
      acc_total += r.accepted_length[b];
      while (int(seq.size()) < L) seq.push_back(draw(w.p(seq), rng));  // continue autoregressively
      int64_t idx = 0;
      for (int i = 0; i < L; ++i) idx = idx * V + seq[i];
      ++counts[idx];
    }
  }
  // exact probabilities of the first L tokens under autoregressive sampling from the target
  std::vector<double> expect(counts.size());
  for (size_t idx = 0; idx < counts.size(); ++idx) {
    std::vector<int> seq(L);
    size_t t = idx;
    for (int i = L - 1; i >= 0; --i) { seq[i] = int(t % V); t /= V; }
    double pr = 1;
    std::vector<int> ctx;
    for (int i = 0; i < L && pr > 0; ++i) { pr *= w.p(ctx)[seq[i]]; ctx.push_back(seq[i]); }
    expect[idx] = pr;
  }
  double chi = 0, tv = 0, pooled_e = 0, pooled_o = 0;
  int dof = -1;
  int64_t impossible = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    double e = expect[i] * trials;
    tv += std::fabs(double(counts[i]) / trials - expect[i]);
    if (expect[i] == 0) { impossible += counts[i]; continue; }
    if (e < 5) { pooled_e += e; pooled_o += counts[i]; continue; }
    chi += (counts[i] - e) * (counts[i] - e) / e;
    ++dof;
  }
  if (pooled_e > 0) { chi += (pooled_o - pooled_e) * (pooled_o - pooled_e) / pooled_e; ++dof; }
  double pv = chi2_pvalue(chi, std::max(dof, 1));
  std::printf("  %-34s L=%d trials=%lld E[acc]=%.3f chi2=%.1f dof=%d p=%.4f TV=%.5f impossible=%lld\n", sc.name, L,
              (long long)trials, double(acc_total) / trials, chi, dof, pv, tv / 2, (long long)impossible);
  CHECK(impossible == 0, "%s: emitted a zero-probability sequence", sc.name);
  CHECK(over_cap == 0 && placeholder_accepted == 0, "%s: %lld walks past maxAccepted, %lld placeholders accepted",
        sc.name, (long long)over_cap, (long long)placeholder_accepted);
  CHECK(pv > 1e-4, "%s: chi2 p-value %g", sc.name, pv);
}

static void test_exactness(int64_t trials) {
  std::vector<int> chain = {-1, 0, 1, 2}, wide = {-1, 0, 0, 0, 0}, deepwide = {-1, 0, 0, 0, 1, 1, 2, 4, 7};
  std::vector<Scenario> sc = {
      {"deterministic chain T=1", DraftKind::Deterministic, chain, {6, 1.f, 0, 1.f, 0, 1}},
      {"deterministic wide T=0.7 k=3 p=0.9", DraftKind::Deterministic, wide, {6, 0.7f, 3, 0.9f, 0, 2}},
      {"deterministic deep+wide T=1.5 p=0.8", DraftKind::Deterministic, deepwide, {7, 1.5f, 0, 0.8f, 0, 3}},
      {"iid chain (C) T=1", DraftKind::Iid, chain, {6, 1.f, 0, 1.f, 0, 4}},
      {"iid chain (C) q=p k=4", DraftKind::Iid, chain, {6, 1.f, 4, 1.f, 1, 5}},
      {"iid wide T=0.8", DraftKind::Iid, wide, {5, 0.8f, 0, 1.f, 0, 6}},
      {"iid deep+wide q=p T=1.2 p=0.9", DraftKind::Iid, deepwide, {6, 1.2f, 0, 0.9f, 1, 7}},
      {"iid wide disjoint k=2", DraftKind::Iid, wide, {6, 1.f, 2, 1.f, 2, 8}},
      {"iid deep+wide flat q T=1.5 k=4 p=0.97", DraftKind::Iid, deepwide, {8, 1.5f, 4, 0.97f, 3, 9}},
      {"wor wide T=1", DraftKind::WithoutReplacement, wide, {6, 1.f, 0, 1.f, 0, 10}},
      {"wor deep+wide T=0.8 p=0.8", DraftKind::WithoutReplacement, deepwide, {7, 0.8f, 0, 0.8f, 0, 11}},
      {"wor wide q=p k=4", DraftKind::WithoutReplacement, wide, {6, 1.f, 4, 1.f, 1, 12}},
      {"wor wide disjoint k=2", DraftKind::WithoutReplacement, wide, {6, 1.f, 2, 1.f, 2, 13}},
      {"wor chain (C) T=2 k=5 p=0.9", DraftKind::WithoutReplacement, chain, {6, 2.f, 5, 0.9f, 0, 14}},
      // min-p alone and before top-k / top-p (the toy rows keep 2-6 of their tokens at these thresholds)
      {"deterministic wide min-p 0.3", DraftKind::Deterministic, wide, {7, 1.f, 0, 1.f, 0, 15, 0.3f}},
      {"deterministic chain T=0.7 min-p 0.1 k=3", DraftKind::Deterministic, chain, {7, 0.7f, 3, 1.f, 0, 16, 0.1f}},
      {"iid deep+wide min-p 0.2 p=0.8", DraftKind::Iid, deepwide, {7, 1.f, 0, 0.8f, 0, 17, 0.2f}},
      {"iid wide q=p min-p 0.15 k=4 p=0.9", DraftKind::Iid, wide, {8, 1.2f, 4, 0.9f, 1, 18, 0.15f}},
      {"wor wide min-p 0.25", DraftKind::WithoutReplacement, wide, {7, 1.f, 0, 1.f, 0, 19, 0.25f}},
      {"wor deep+wide flat q T=1.5 min-p 0.05 k=5 p=0.95", DraftKind::WithoutReplacement, deepwide,
       {8, 1.5f, 5, 0.95f, 3, 20, 0.05f}},
  };
  std::printf("exactness (first L emitted tokens vs autoregressive target sampling):\n");
  for (auto& s : sc) {
    run_scenario(s, trials, 1);
    run_scenario(s, trials, 2);
  }
  // maxAccepted (caps[b % 4] per request; -1 = none) and placeholder drafts (-1 tokens at `holes`): the walk
  // stops at the cap with a plain sample of p (the bonus), placeholders are no candidates. First 2 and 3 tokens.
  const std::vector<int> mixed = {0, 1, -1, 2};
  std::vector<Scenario> caps = {
      {"cap 0 deterministic deep+wide T=0.8 k=4", DraftKind::Deterministic, deepwide, {6, 0.8f, 4, 1.f, 0, 31}, {0}},
      {"cap 1 deterministic deep+wide p=0.9", DraftKind::Deterministic, deepwide, {6, 1.f, 0, 0.9f, 0, 32}, {1}},
      {"cap 0 iid chain (C)", DraftKind::Iid, chain, {6, 1.f, 0, 1.f, 0, 33}, {0}},
      {"cap 1 iid deep+wide q=p", DraftKind::Iid, deepwide, {6, 1.2f, 0, 1.f, 1, 34}, {1}},
      {"cap 1 wor deep+wide T=0.8", DraftKind::WithoutReplacement, deepwide, {7, 0.8f, 0, 1.f, 0, 35}, {1}},
      {"cap 0 wor wide flat q k=4", DraftKind::WithoutReplacement, wide, {6, 1.f, 4, 1.f, 3, 36}, {0}},
      {"caps mixed deterministic chain min-p 0.1", DraftKind::Deterministic, chain, {6, 1.f, 0, 1.f, 0, 37, 0.1f}, mixed},
      {"caps mixed iid deep+wide k=3", DraftKind::Iid, deepwide, {6, 1.f, 3, 1.f, 0, 38}, mixed},
      {"caps mixed wor deep+wide p=0.9", DraftKind::WithoutReplacement, deepwide, {7, 1.f, 0, 0.9f, 0, 39}, mixed},
      {"placeholders 1,3 deterministic wide", DraftKind::Deterministic, wide, {6, 1.f, 0, 1.f, 0, 40}, {}, {1, 3}},
      {"placeholders 2,5 deterministic deep+wide", DraftKind::Deterministic, deepwide, {6, 0.7f, 0, 1.f, 0, 41}, {}, {2, 5}},
      {"placeholder 2 deterministic chain", DraftKind::Deterministic, chain, {6, 1.f, 0, 1.f, 0, 42}, {}, {2}},
      {"placeholders 1,3 iid wide q=p", DraftKind::Iid, wide, {5, 1.f, 0, 1.f, 1, 43}, {}, {1, 3}},
      {"placeholders 2,4 iid deep+wide", DraftKind::Iid, deepwide, {6, 1.f, 0, 1.f, 0, 44}, {}, {2, 4}},
      {"placeholder 1 iid chain (C): root only", DraftKind::Iid, chain, {6, 1.f, 0, 1.f, 0, 45}, {}, {1}},
      {"placeholders 1,3 wor wide", DraftKind::WithoutReplacement, wide, {6, 1.f, 0, 1.f, 0, 46}, {}, {1, 3}},
      {"placeholders 4,5 wor deep+wide disjoint", DraftKind::WithoutReplacement, deepwide, {6, 1.f, 2, 1.f, 2, 47}, {}, {4, 5}},
      {"all placeholders wor wide: root only", DraftKind::WithoutReplacement, wide, {6, 1.f, 0, 1.f, 0, 48}, {}, {1, 2, 3, 4}},
      {"caps mixed + placeholders 2,5 deterministic deep+wide", DraftKind::Deterministic, deepwide, {7, 1.f, 0, 1.f, 0, 49}, mixed, {2, 5}},
      {"caps mixed + placeholders 3,4 iid deep+wide p=0.9", DraftKind::Iid, deepwide, {6, 1.f, 0, 0.9f, 0, 50}, mixed, {3, 4}},
      {"caps mixed + placeholders 1,4 wor deep+wide", DraftKind::WithoutReplacement, deepwide, {6, 1.2f, 0, 1.f, 0, 51}, mixed, {1, 4}},
  };
  std::printf("exactness with maxAccepted and placeholder drafts:\n");
  for (auto& s : caps) {
    run_scenario(s, trials, 2);
    run_scenario(s, trials, 3);
  }
}

// ---------- validation ----------
static void expect_error(const std::function<void()>& f, const char* needle) {
  try {
    f();
    CHECK(false, "expected an error containing '%s'", needle);
  } catch (const Error& e) {
    CHECK(std::strstr(e.what(), needle) != nullptr, "message '%s' lacks '%s'", e.what(), needle);
  }
}

static void test_validation() {
  Batch bt;
  bt.tokens = {9, 1, 2};
  bt.parents = {-1, 0, 0};
  bt.offsets = {0, 3};
  bt.target.assign(3 * 4, 0.f);
  bt.T = {1};
  bt.K = {0};
  bt.P = {1};
  auto run = [&](Batch b, VerifyMode m, DraftKind d) {
    verify_tree(make_args(b, 4, m, d, 1, 0));
  };
  run(bt, VerifyMode::Greedy, DraftKind::Deterministic);
  Batch c = bt; c.parents[2] = 2;
  expect_error([&] { run(c, VerifyMode::Greedy, DraftKind::Deterministic); }, "trees.parents[2]");
  c = bt; c.parents[0] = 0;
  expect_error([&] { run(c, VerifyMode::Greedy, DraftKind::Deterministic); }, "must be -1");
  c = bt; c.tokens[1] = 4;
  expect_error([&] { run(c, VerifyMode::Greedy, DraftKind::Deterministic); }, "trees.tokens[1]");
  c = bt; c.tokens[2] = 1;
  expect_error([&] { run(c, VerifyMode::Sample, DraftKind::Deterministic); }, "same token");
  expect_error([&] { run(c, VerifyMode::Sample, DraftKind::WithoutReplacement); }, "draft");
  c.draft.assign(12, 0.f);
  expect_error([&] { run(c, VerifyMode::Sample, DraftKind::WithoutReplacement); }, "same token");
  run(c, VerifyMode::Sample, DraftKind::Iid);
  c = bt; c.target[1] = NAN;
  expect_error([&] { run(c, VerifyMode::Greedy, DraftKind::Deterministic); }, "NaN");
  c = bt; c.P[0] = 0.f;
  expect_error([&] { run(c, VerifyMode::Sample, DraftKind::Deterministic); }, "topP[0]");
  c = bt; c.M = {1.5f};
  expect_error([&] { run(c, VerifyMode::Sample, DraftKind::Deterministic); }, "minP[0]");
  {
    TreeVerifyArgs a = make_args(bt, 4, VerifyMode::Greedy, DraftKind::Deterministic, 1, 0);
    a.target.rows = 2;
    expect_error([&] { verify_tree(a); }, "target.rows");
  }
  // Placeholders: -1 is legal anywhere (repeats too), other negatives are not; caps must be >= 0.
  c = bt; c.tokens[1] = -2;
  expect_error([&] { run(c, VerifyMode::Greedy, DraftKind::Deterministic); }, "trees.tokens[1] = -2");
  c = bt; c.tokens[1] = c.tokens[2] = kPlaceholderToken;
  run(c, VerifyMode::Sample, DraftKind::Deterministic);
  run(c, VerifyMode::Greedy, DraftKind::Deterministic);
  c.draft.assign(12, 0.f);
  run(c, VerifyMode::Sample, DraftKind::WithoutReplacement);
  c = bt; c.caps = {-1};
  expect_error([&] { run(c, VerifyMode::Sample, DraftKind::Deterministic); }, "maxAccepted[0] = -1 must be >= 0");
  {
    TreeVerifyArgs a = make_args(bt, 4, VerifyMode::Greedy, DraftKind::Deterministic, 1, 0);
    a.max_accepted.value = -3;
    expect_error([&] { verify_tree(a); }, "maxAccepted = -3");
    a.max_accepted.value = 0;
    TreeVerifyResult r = verify_tree(a);
    CHECK(r.accepted_length[0] == 0 && r.tokens.size() == 1, "maxAccepted 0: only the root's token");
  }
  // Greedy with a cap and a placeholder, exact tokens: chain 9 → 1 → 2 → 3 where every row's argmax is the next
  // draft, the leaf's is 0; node 4 is a placeholder child of the root.
  {
    Batch g;
    g.tokens = {9, 1, 2, 3, kPlaceholderToken};
    g.parents = {-1, 0, 1, 2, 0};
    g.offsets = {0, 5};
    g.target.assign(5 * 4, 0.f);
    for (int i = 0; i < 3; ++i) g.target[size_t(i) * 4 + (i + 1)] = 5.f;  // row i → token i + 1
    g.target[3 * 4 + 0] = 5.f;                                            // the leaf's bonus: 0
    g.T = {1}; g.K = {0}; g.P = {1};
    const std::vector<std::pair<int, std::vector<int32_t>>> want = {
        {0, {1}}, {1, {1, 2}}, {2, {1, 2, 3}}, {3, {1, 2, 3, 0}}, {kNoCap, {1, 2, 3, 0}}};
    for (const auto& [cap, toks] : want) {
      g.caps = {cap};
      TreeVerifyResult r = verify_tree(make_args(g, 4, VerifyMode::Greedy, DraftKind::Deterministic, 1, 0));
      CHECK(r.tokens == toks && r.accepted_length[0] == int(toks.size()) - 1, "greedy cap %d tokens", cap);
    }
  }
}

static void bench_latency() {
  std::mt19937_64 rng(3);
  for (int V : {32000, 128256}) {
    Batch bt;
    random_batch(bt, rng, 1, 1, V, false, false, 1.f);
    bt.tokens.clear(); bt.parents.clear(); bt.offsets = {0, 16};
    for (int i = 0; i < 16; ++i) { bt.tokens.push_back(i); bt.parents.push_back(i - 1); }
    bt.target.resize(size_t(16) * V);
    for (auto& v : bt.target) v = std::normal_distribution<float>(0, 1)(rng);
    for (int i = 1; i < 12; ++i) bt.target[size_t(i - 1) * V + i] = 30.f;  // 11 accepted
    auto a = make_args(bt, V, VerifyMode::Greedy, DraftKind::Deterministic, 1, 0);
    for (int mode = 0; mode < 2; ++mode) {
      a.sampling.greedy = mode == 0;
      verify_tree(a);
      auto t0 = std::chrono::steady_clock::now();
      int reps = 200;
      for (int i = 0; i < reps; ++i) verify_tree(a);
      double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / reps;
      std::printf("latency 1 x 16 nodes (12 rows visited) V=%d %s: %.1f us\n", V, mode ? "sample" : "greedy", us);
    }
  }
}

int main(int argc, char** argv) {
  int64_t trials = argc > 1 ? std::atoll(argv[1]) : 1000000;
  test_philox();
  test_validation();
  test_greedy();
  test_vs_reference();
  bench_latency();
  test_exactness(trials);
  std::printf(failures ? "FAILED (%d)\n" : "OK\n", failures);
  return failures ? 1 : 0;
}
