#include "processors.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "error.h"
#include "tree_batch.h"

namespace lw {
namespace {

std::string at(const char* name, int64_t i) { return std::string(name) + "[" + std::to_string(i) + "]"; }

// offsets [batch + 1]: 0 first, non-decreasing, last = len.
void check_offsets(const int32_t* off, int64_t batch, int64_t len, const char* name, const char* ids) {
  if (off[0] != 0) throw_range(at(name, 0) + " = " + std::to_string(off[0]) + " must be 0");
  for (int64_t b = 0; b < batch; ++b)
    if (off[b + 1] < off[b])
      throw_range(at(name, b + 1) + " = " + std::to_string(off[b + 1]) + " must be >= " + at(name, b) + " = " +
                  std::to_string(off[b]) + " (request b owns " + ids + "[offsets[b] .. offsets[b+1]))");
  if (off[batch] != len)
    throw_range(at(name, batch) + " = " + std::to_string(off[batch]) + " must equal the length of " + ids + " (" +
                std::to_string(len) + ")");
}

void check_id(int32_t x, int64_t V, const char* name, int64_t i, int64_t b) {
  if (x < 0 || x >= V)
    throw_range(at(name, i) + " = " + std::to_string(x) + " (request " + std::to_string(b) +
                ") is not a token id in [0, " + std::to_string(V) + ")");
}

template <class K>
std::string knob(const char* name, const PerRequest<K>& k, int64_t b) {
  return (k.array ? at(name, b) : std::string(name)) + " = " + std::to_string(k.at(b));
}

}  // namespace

ProcessorPlan plan_processors(const ProcessorsView& v, const TreeBatchView& trees, int64_t V) {
  ProcessorPlan pp;
  if (!v.any()) return pp;
  pp.active = true;
  const int64_t B = trees.batch, nodes = trees.offsets[B];
  pp.words = (V + 31) / 32;
  if (v.allowed) {
    if (v.allowed_words == B * pp.words) {
      pp.mask_per_node = false;
    } else if (v.allowed_words == nodes * pp.words) {
      pp.mask_per_node = true;
    } else {
      throw_range("opts.allowedTokens must hold batch × ceil(V/32) = " + std::to_string(B) + " × " +
                  std::to_string(pp.words) + " = " + std::to_string(B * pp.words) +
                  " words (one mask per request) or nodes × ceil(V/32) = " + std::to_string(nodes) + " × " +
                  std::to_string(pp.words) + " = " + std::to_string(nodes * pp.words) +
                  " words (one per tree node), got " + std::to_string(v.allowed_words));
    }
    pp.mask = v.allowed;
  }
  if (v.penalties) {
    if (!v.hist_offsets) throw_range("opts.penalties.history is required with penalties");
    const int64_t n = (v.repetition.array || v.frequency.array || v.presence.array) ? B : 1;
    for (int64_t b = 0; b < n; ++b) {
      const float r = v.repetition.at(b), f = v.frequency.at(b), p = v.presence.at(b);
      if (!(r > 0.f) || !std::isfinite(r))
        throw_range("opts.penalties." + knob("repetition", v.repetition, b) + " must be a finite number > 0 (1 = off)");
      if (!std::isfinite(f)) throw_range("opts.penalties." + knob("frequency", v.frequency, b) + " must be finite (0 = off)");
      if (!std::isfinite(p)) throw_range("opts.penalties." + knob("presence", v.presence, b) + " must be finite (0 = off)");
    }
    pp.path_counts = true;
  }
  const bool bias = v.bias_offsets != nullptr, hist = v.penalties;
  if (!bias && !hist) return pp;
  if (bias) check_offsets(v.bias_offsets, B, v.bias_len, "opts.logitBias.offsets", "opts.logitBias.ids");
  if (hist)
    check_offsets(v.hist_offsets, B, v.hist_len, "opts.penalties.history.offsets", "opts.penalties.history.ids");
  pp.offsets.assign(B + 1, 0);
  pp.rep.resize(B);
  pp.freq.resize(B);
  pp.pres.resize(B);
  std::vector<std::pair<int32_t, int32_t>> hb, bb;  // (id, index) of one request
  for (int64_t b = 0; b < B; ++b) {
    pp.rep[b] = hist ? v.repetition.at(b) : 1.f;
    pp.freq[b] = hist ? v.frequency.at(b) : 0.f;
    pp.pres[b] = hist ? v.presence.at(b) : 0.f;
    bb.clear();
    hb.clear();
    if (bias)
      for (int32_t i = v.bias_offsets[b]; i < v.bias_offsets[b + 1]; ++i) {
        check_id(v.bias_ids[i], V, "opts.logitBias.ids", i, b);
        const float val = v.bias_values[i];
        if (std::isnan(val) || val == std::numeric_limits<float>::infinity())
          throw_range(at("opts.logitBias.values", i) + " = " + std::to_string(val) +
                      " must be a finite number or -Infinity (a ban)");
        bb.emplace_back(v.bias_ids[i], i);
      }
    if (hist)
      for (int32_t i = v.hist_offsets[b]; i < v.hist_offsets[b + 1]; ++i) {
        check_id(v.hist_ids[i], V, "opts.penalties.history.ids", i, b);
        if (v.hist_counts[i] < 0)
          throw_range(at("opts.penalties.history.counts", i) + " = " + std::to_string(v.hist_counts[i]) +
                      " must be >= 0");
        hb.emplace_back(v.hist_ids[i], i);
      }
    std::sort(bb.begin(), bb.end());
    std::sort(hb.begin(), hb.end());
    for (size_t i = 1; i < bb.size(); ++i)
      if (bb[i].first == bb[i - 1].first)
        throw_range("opts.logitBias.ids: token " + std::to_string(bb[i].first) + " is listed twice for request " +
                    std::to_string(b) + " (entries " + std::to_string(bb[i - 1].second) + " and " +
                    std::to_string(bb[i].second) + ")");
    // Merge: one entry per distinct id; history counts of a repeated id add.
    size_t i = 0, j = 0;
    while (i < bb.size() || j < hb.size()) {
      int32_t id = std::numeric_limits<int32_t>::max();
      if (i < bb.size()) id = bb[i].first;
      if (j < hb.size()) id = std::min(id, hb[j].first);
      float bv = 0.f;
      int64_t c = 0;
      if (i < bb.size() && bb[i].first == id) bv = v.bias_values[bb[i++].second];
      while (j < hb.size() && hb[j].first == id) c += v.hist_counts[hb[j++].second];
      if (c > std::numeric_limits<int32_t>::max() / 2)
        throw_range("opts.penalties.history.counts of token " + std::to_string(id) + " (request " +
                    std::to_string(b) + ") add up to more than 2^30");
      pp.ids.push_back(id);
      pp.bias.push_back(bv);
      pp.count.push_back(static_cast<int32_t>(c));
    }
    pp.offsets[b + 1] = static_cast<int32_t>(pp.ids.size());
  }
  return pp;
}

void path_token_counts(const TreeBatchView& trees, int64_t b, int64_t g, std::vector<int32_t>& toks,
                       std::vector<int32_t>& counts) {
  toks.clear();
  counts.clear();
  const int32_t root = trees.offsets[b];
  for (int64_t n = g; n != root; n = root + trees.parents[n])
    if (trees.tokens[n] >= 0) toks.push_back(trees.tokens[n]);
  std::sort(toks.begin(), toks.end());
  size_t k = 0;
  for (size_t i = 0; i < toks.size(); ++i) {
    if (k > 0 && toks[k - 1] == toks[i]) {
      ++counts[k - 1];
    } else {
      toks[k++] = toks[i];
      counts.push_back(1);
    }
  }
  toks.resize(k);
}

namespace {

inline float edit(float z, float bias, int32_t c, float r, float f, float p) { return edit_logit(z, bias, c, r, f, p); }
inline double edit(double z, float bias, int32_t c, float r, float f, float p) {
  return edit_logit_f64(z, bias, c, r, f, p);
}

}  // namespace

template <class T>
void apply_processors(const ProcessorPlan& pp, const TreeBatchView& trees, int64_t b, int64_t g, T* z, int64_t V,
                      std::vector<int32_t>& toks, std::vector<int32_t>& counts) {
  if (const uint32_t* m = pp.mask_row(b, g)) {
    for (int64_t w = 0; w < pp.words; ++w) {
      uint32_t off = ~m[w];
      if (!off) continue;
      const int64_t base = w * 32;
      while (off) {
        const int bit = __builtin_ctz(off);
        off &= off - 1;
        if (base + bit < V) z[base + bit] = -std::numeric_limits<T>::infinity();
      }
    }
  }
  if (!pp.has_edits()) return;
  const float r = pp.rep[b], f = pp.freq[b], p = pp.pres[b];
  const int32_t lo = pp.offsets[b], hi = pp.offsets[b + 1];
  if (pp.path_counts) path_token_counts(trees, b, g, toks, counts);
  else toks.clear();
  // Merge the sorted edit list with the sorted path tokens.
  size_t j = 0;
  for (int32_t i = lo; i < hi; ++i) {
    const int32_t x = pp.ids[i];
    while (j < toks.size() && toks[j] < x) {
      z[toks[j]] = edit(z[toks[j]], 0.f, counts[j], r, f, p);
      ++j;
    }
    int32_t c = pp.count[i];
    if (j < toks.size() && toks[j] == x) c += counts[j++];
    z[x] = edit(z[x], pp.bias[i], c, r, f, p);
  }
  for (; j < toks.size(); ++j) z[toks[j]] = edit(z[toks[j]], 0.f, counts[j], r, f, p);
}

template void apply_processors<float>(const ProcessorPlan&, const TreeBatchView&, int64_t, int64_t, float*, int64_t,
                                      std::vector<int32_t>&, std::vector<int32_t>&);
template void apply_processors<double>(const ProcessorPlan&, const TreeBatchView&, int64_t, int64_t, double*,
                                       int64_t, std::vector<int32_t>&, std::vector<int32_t>&);

}  // namespace lw
