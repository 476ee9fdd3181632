#include "processors.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <limits>
#include <string>
#include <utility>

#include "error.h"
#include "parallel.h"
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
    pp.mask_on_device = v.allowed_on_device;
    pp.mask_device = v.allowed_device;
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
  // Values first, serially (cheap, and the first bad entry is the one reported).
  for (int64_t b = 0; b < B; ++b) {
    pp.rep[b] = hist ? v.repetition.at(b) : 1.f;
    pp.freq[b] = hist ? v.frequency.at(b) : 0.f;
    pp.pres[b] = hist ? v.presence.at(b) : 0.f;
    if (bias)
      for (int32_t i = v.bias_offsets[b]; i < v.bias_offsets[b + 1]; ++i) {
        check_id(v.bias_ids[i], V, "opts.logitBias.ids", i, b);
        const float val = v.bias_values[i];
        if (std::isnan(val) || val == std::numeric_limits<float>::infinity())
          throw_range(at("opts.logitBias.values", i) + " = " + std::to_string(val) +
                      " must be a finite number or -Infinity (a ban)");
      }
    if (hist)
      for (int32_t i = v.hist_offsets[b]; i < v.hist_offsets[b + 1]; ++i) {
        check_id(v.hist_ids[i], V, "opts.penalties.history.ids", i, b);
        if (v.hist_counts[i] < 0)
          throw_range(at("opts.penalties.history.counts", i) + " = " + std::to_string(v.hist_counts[i]) +
                      " must be >= 0");
      }
  }
  // One sorted, merged list per request, in parallel, written in place into the upper-bound slots
  // [bias_offsets[b] + hist_offsets[b], …) and compacted after. Lists already sorted by id are read as given
  // (no copy, no sort); others are sorted as (id << 32 | index) keys.
  std::vector<int32_t> start(static_cast<size_t>(B) + 1), len(static_cast<size_t>(B), 0);
  for (int64_t b = 0; b <= B; ++b)
    start[b] = (bias ? v.bias_offsets[b] : 0) + (hist ? v.hist_offsets[b] : 0);
  pp.ids.resize(start[B]);
  pp.bias.resize(start[B]);
  pp.count.resize(start[B]);
  std::vector<std::string> errors(static_cast<size_t>(B));
  struct Cursor {
    const int32_t* ids = nullptr;
    const uint64_t* keys = nullptr;  // sorted keys when the list was not sorted
    int32_t pos = 0, end = 0;
    bool more() const { return pos < end; }
    int32_t id() const { return keys ? static_cast<int32_t>(keys[pos] >> 32) : ids[pos]; }
    int32_t index() const { return keys ? static_cast<int32_t>(keys[pos] & 0xffffffffu) : pos; }
  };
  auto open = [](Cursor& c, std::vector<uint64_t>& keys, const int32_t* ids, int32_t s, int32_t e) {
    c.ids = ids;
    c.keys = nullptr;
    c.pos = s;
    c.end = e;
    bool sorted = true;
    for (int32_t i = s + 1; i < e && sorted; ++i) sorted = ids[i] >= ids[i - 1];
    if (sorted) return;
    keys.resize(static_cast<size_t>(e - s));
    for (int32_t i = s; i < e; ++i) keys[i - s] = static_cast<uint64_t>(ids[i]) << 32 | static_cast<uint32_t>(i);
    std::sort(keys.begin(), keys.end());
    c.keys = keys.data();
    c.pos = 0;
    c.end = e - s;
  };
  parallel_for(static_cast<size_t>(B), 8, [&](size_t lo, size_t hi) {
    std::vector<uint64_t> bkeys, hkeys;
    for (size_t bi = lo; bi < hi; ++bi) {
      const int64_t b = static_cast<int64_t>(bi);
      Cursor cb, ch;
      if (bias) open(cb, bkeys, v.bias_ids, v.bias_offsets[b], v.bias_offsets[b + 1]);
      if (hist) open(ch, hkeys, v.hist_ids, v.hist_offsets[b], v.hist_offsets[b + 1]);
      int32_t* ids = pp.ids.data() + start[b];
      float* bv = pp.bias.data() + start[b];
      int32_t* cnt = pp.count.data() + start[b];
      int32_t n = 0, prev_bias = -1, prev_bias_index = -1;
      while (cb.more() || ch.more()) {
        int32_t id = std::numeric_limits<int32_t>::max();
        if (cb.more()) id = cb.id();
        if (ch.more()) id = std::min(id, ch.id());
        float add = 0.f;
        if (cb.more() && cb.id() == id) {
          if (id == prev_bias) {
            errors[bi] = "opts.logitBias.ids: token " + std::to_string(id) + " is listed twice for request " +
                         std::to_string(b) + " (entries " + std::to_string(std::min(prev_bias_index, cb.index())) +
                         " and " + std::to_string(std::max(prev_bias_index, cb.index())) + ")";
            break;
          }
          prev_bias = id;
          prev_bias_index = cb.index();
          add = v.bias_values[cb.index()];
          ++cb.pos;
          if (cb.more() && cb.id() == id) continue;  // reported on the next round
        }
        int64_t c = 0;
        while (ch.more() && ch.id() == id) c += v.hist_counts[ch.index()], ++ch.pos;
        if (c > std::numeric_limits<int32_t>::max() / 2) {
          errors[bi] = "opts.penalties.history.counts of token " + std::to_string(id) + " (request " +
                       std::to_string(b) + ") add up to more than 2^30";
          break;
        }
        ids[n] = id;
        bv[n] = add;
        cnt[n] = static_cast<int32_t>(c);
        ++n;
      }
      len[bi] = n;
    }
  });
  for (int64_t b = 0; b < B; ++b)
    if (!errors[static_cast<size_t>(b)].empty()) throw_range(errors[static_cast<size_t>(b)]);
  // Compact (regions only move left).
  int32_t w = 0;
  for (int64_t b = 0; b < B; ++b) {
    const int32_t s0 = start[b], n = len[b];
    if (w != s0) {
      std::copy(pp.ids.begin() + s0, pp.ids.begin() + s0 + n, pp.ids.begin() + w);
      std::copy(pp.bias.begin() + s0, pp.bias.begin() + s0 + n, pp.bias.begin() + w);
      std::copy(pp.count.begin() + s0, pp.count.begin() + s0 + n, pp.count.begin() + w);
    }
    pp.offsets[b] = w;
    w += n;
  }
  pp.offsets[B] = w;
  pp.ids.resize(w);
  pp.bias.resize(w);
  pp.count.resize(w);
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
    // Branch-free select on the bits (random masks would mispredict a branch per token).
    using U = typename std::conditional<sizeof(T) == 4, uint32_t, uint64_t>::type;
    const T ninf = -std::numeric_limits<T>::infinity();
    U ninf_bits;
    std::memcpy(&ninf_bits, &ninf, sizeof(U));
    for (int64_t w = 0; w < pp.words; ++w) {
      const uint32_t bits = m[w];
      if (bits == ~0u) continue;
      T* zz = z + w * 32;
      const int n = static_cast<int>(std::min<int64_t>(32, V - w * 32));
      for (int k = 0; k < n; ++k) {
        U u;
        std::memcpy(&u, zz + k, sizeof(U));
        const U keep = U(0) - static_cast<U>((bits >> k) & 1u);
        u = (u & keep) | (ninf_bits & ~keep);
        std::memcpy(zz + k, &u, sizeof(U));
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
