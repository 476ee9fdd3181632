// The verification walk of docs/tree-verification.md §4 (algorithms A-D), written once for every backend. `Ops` supplies the
// row reductions (CPU: one thread; CUDA: a whole block, every thread runs the walk with uniform control flow);
// the walk itself only does O(children) scalar work per visited node.
#pragma once
#include <cstdint>

#include "philox.h"

namespace lw {
namespace tree {

enum WalkKind : int32_t { kGreedy = 0, kDeterministic = 1, kIid = 2, kWithoutReplacement = 3 };

// Random-stream purposes (counter word 3 = purpose << 28 | index).
enum Purpose : uint32_t { kPurposeAccept = 1, kPurposeSample = 2, kPurposeChunk = 3 };

struct RowKey {
  uint32_t k0, k1;  // seed
  uint32_t request, step, node;  // node = local id
};

// Request b's key. A per-call seed keys its streams by the request index (counter word 0 = b); a per-request
// seed (seeds != null) keys them by that seed alone (word 0 = 0), so a request's tokens do not depend on the
// rest of the batch. steps, when given, is each request's own decoding step.
LW_HD RowKey request_key(uint64_t seed, const uint64_t* seeds, uint32_t step, const uint32_t* steps, int64_t b) {
  const uint64_t s = seeds ? seeds[b] : seed;
  return RowKey{static_cast<uint32_t>(s), static_cast<uint32_t>(s >> 32), seeds ? 0u : static_cast<uint32_t>(b),
                steps ? steps[b] : step, 0};
}

LW_HD double accept_uniform(const RowKey& k, uint32_t j) {
  return philox::uniform_open0(
      philox::philox4x32_10(k.request, k.step, k.node, (kPurposeAccept << 28) | j, k.k0, k.k1).v[0]);
}
// The four Exp(1) variates of tokens 4i .. 4i+3.
LW_HD philox::Out4 sample_bits(const RowKey& k, uint32_t i) {
  return philox::philox4x32_10(k.request, k.step, k.node, (kPurposeSample << 28) | i, k.k0, k.k1);
}
LW_HD float token_exponential(const RowKey& k, int32_t x) {
  return philox::exponential(sample_bits(k, static_cast<uint32_t>(x) >> 2).v[x & 3]);
}

// Winner of an exponential race: larger key wins, ties go to the lower id.
struct Best {
  float key;
  int32_t token;
};
LW_HD bool better(float k, int32_t t, const Best& b) { return k > b.key || (k == b.key && t < b.token); }

// Sampling y ~ r without normalising, in two exact stages so only ~V/kChunk + kChunk variates are drawn:
// chunk c of kChunk consecutive ids wins the race argmax_c M_c / E_c (M_c = Σ_{x in c} r(x)), then
// y = argmax_{x in c} r(x) / E_x. Every backend uses the same chunking and the same streams.
constexpr int32_t kChunk = 1024;

LW_HD float chunk_exponential(const RowKey& k, int32_t c) {
  return philox::exponential(
      philox::philox4x32_10(k.request, k.step, k.node, (kPurposeChunk << 28) | (static_cast<uint32_t>(c) >> 2), k.k0,
                            k.k1).v[c & 3]);
}

// The residual R(x) = max(p(x) - D q(x), 0) (use_q) or p(x) (!use_q), for every token except the `nx` special
// tokens xs[i], whose value is xr[i] (0 when xr is null).
struct Residual {
  bool use_q;
  float D;
  const int32_t* xs;
  const float* xr;
  int32_t nx;
};

LW_HD float generic_value(float p, float q, const Residual& r) {
  if (!r.use_q) return p;
  float v = p - r.D * q;
  return v > 0.f ? v : 0.f;
}

// Value of token x under r, given its generic value (scans the few special tokens).
LW_HD float residual_value(int32_t x, float generic, const Residual& r) {
  for (int32_t i = 0; i < r.nx; ++i)
    if (r.xs[i] == x) return r.xr ? r.xr[i] : 0.f;
  return generic;
}

// y ~ R (ops.race: -1 when R is zero everywhere); falls back to p_v when the residual mass underflowed.
template <class Ops>
LW_HD int32_t race_or_p(Ops& ops, const Residual& r, const RowKey& key) {
  int32_t y = ops.race(r, key);
  if (y < 0) {
    Residual p{false, 0.f, nullptr, nullptr, 0};
    y = ops.race(p, key);
  }
  if (y < 0) y = ops.argmax_p();
  return y;
}

// Walks request `b` (global root `root`). Ops needs:
//   int32_t argmax(g)                     greedy token of target row g
//   void prep_p(g), float p(x)            processed target distribution of row g (0 outside the kept set)
//   int32_t argmax_p()                    most probable kept token of the prepared row
//   void prep_q(g), float q(x)            softmax of draft row g
//   double sum_generic(const Residual&)   Σ over all x of generic_value(p(x), q(x))
//   int32_t race(const Residual&, const RowKey&)        y ~ R by the two-stage race above, -1 if R == 0
//   float* frozen()                       scratch of max_children floats
//   void emit(local, token)
// Plan arrays: child_start (global, +1), child_node (global), child_token.
template <class Ops>
LW_HD void walk(Ops& ops, int32_t kind, int32_t root, const int32_t* child_start, const int32_t* child_node,
                const int32_t* child_token, RowKey key) {
  int32_t g = root;
  for (;;) {
    const int32_t cb = child_start[g], ce = child_start[g + 1], m = ce - cb;
    const int32_t local = g - root;
    key.node = static_cast<uint32_t>(local);
    if (kind == kGreedy) {
      int32_t y = ops.argmax(g);
      int32_t next = -1;
      for (int32_t i = cb; i < ce; ++i)
        if (child_token[i] == y) { next = child_node[i]; break; }
      ops.emit(local, y);
      if (next < 0) return;
      g = next;
      continue;
    }
    ops.prep_p(g);
    if (kind == kDeterministic || m == 0) {
      // B: one uniform, cumulative target mass over the (distinct) children.
      int32_t next = -1;
      if (m > 0) {
        double u = accept_uniform(key, 0), S = 0.0;
        for (int32_t i = cb; i < ce; ++i) {
          S += static_cast<double>(ops.p(child_token[i]));
          if (u < S) { next = i; break; }
        }
      }
      if (next >= 0) {
        ops.emit(local, child_token[next]);
        g = child_node[next];
        continue;
      }
      Residual r{false, 0.f, child_token + cb, nullptr, m};
      ops.emit(local, race_or_p(ops, r, key));
      return;
    }
    // C/D: recursive rejection with the real draft distribution q_g.
    ops.prep_q(g);
    const bool wor = kind == kWithoutReplacement;
    float* frozen = ops.frozen();
    double D = 0.0, s = 1.0, Q = 0.0;
    int32_t tried = 0, next = -1;
    bool underflow = false;
    for (int32_t j = 0; j < m; ++j) {
      const int32_t tok = child_token[cb + j];
      const double px = ops.p(tok), qx = ops.q(tok);
      double rem = 1.0 - Q;
      if (wor && !(rem > 1e-12)) break;  // no draft mass left: this child cannot have been drawn
      const double qj = wor ? qx / rem : qx;
      double Rc = px - D * qx;
      if (Rc < 0.0) Rc = 0.0;
      const double u = accept_uniform(key, static_cast<uint32_t>(j));
      if (qj > 0.0 && u * qj * s < Rc) { next = cb + j; break; }
      D += wor ? s / rem : s;
      Q += qx;
      if (wor) {
        double f = px - D * qx;
        frozen[j] = f > 0.0 ? static_cast<float>(f) : 0.f;
      }
      tried = j + 1;
      if (j + 1 < m) {
        Residual r{true, static_cast<float>(D), nullptr, nullptr, 0};
        double t = ops.sum_generic(r);
        if (wor)
          for (int32_t i = 0; i < tried; ++i) {
            t -= generic_value(ops.p(child_token[cb + i]), ops.q(child_token[cb + i]), r);
            t += frozen[i];
          }
        s = t;
        if (!(s > 1e-30)) { underflow = true; break; }
      }
    }
    if (next >= 0) {
      ops.emit(local, child_token[next]);
      g = child_node[next];
      continue;
    }
    Residual r{tried > 0 && !underflow, static_cast<float>(D), wor ? child_token + cb : nullptr,
               wor ? frozen : nullptr, wor && !underflow ? tried : 0};
    ops.emit(local, race_or_p(ops, r, key));
    return;
  }
}

}  // namespace tree
}  // namespace lw
