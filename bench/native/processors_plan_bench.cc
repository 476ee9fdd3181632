// Micro-benchmark of lw::plan_processors (native/core/processors.cc), the host-side normalisation of logitBias /
// penalties run on every verifyTree call, against the implementation it replaced (kept below as the baseline,
// namespace base). Batch B = 64, V = 128256, a 64-entry logitBias per request; cases:
//   sorted         512-entry history, distinct ids sorted ascending, counts 1..3; logitBias sorted
//   unsorted       512-entry history in generation order: ids drawn from 200 distinct ones, counts 1 each
//   unsorted bias  the sorted case with each logitBias list shuffled
// Both implementations' outputs are compared before timing. Build and run from the repository root (-O3 as the
// addon is built):
//   g++ -O3 -std=c++17 -Inative bench/native/processors_plan_bench.cc native/core/processors.cc
//       native/core/parallel.cc native/core/tuning.cc -lpthread -o /tmp/processors_plan_bench   (one line)
//   /tmp/processors_plan_bench [calls per case [trim]]      (LENGTHWISE_THREADS=1: one thread)
// glibc: malloc is told not to trim the heap (mallopt), as in the addon under Node, where a verifyTree call with
// these processors takes 0-3 minor page faults; with `trim` (malloc's defaults) this lone process gives its heap
// top back after every call and the plan's fresh output pages fault again, ~100 faults (~100 us) per call, before
// and after alike.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "core/error.h"
#include "core/parallel.h"
#include "core/processors.h"
#include "core/tree_batch.h"

using namespace lw;

// ---------- the baseline: plan_processors of 93d43b8 (git show 93d43b8:native/core/processors.cc) ----------
namespace base {

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

}  // namespace base

namespace {

struct Input {
  std::string name;
  int64_t B = 64, V = 128256;
  std::vector<int32_t> tokens, parents, offsets;
  std::vector<int32_t> bias_off{0}, bias_ids, hist_off{0}, hist_ids, hist_counts;
  std::vector<float> bias_vals;
  TreeBatchView trees() const { return {tokens.data(), parents.data(), offsets.data(), B}; }
  ProcessorsView view() const {
    ProcessorsView v;
    v.bias_offsets = bias_off.data();
    v.bias_ids = bias_ids.data();
    v.bias_values = bias_vals.data();
    v.bias_len = static_cast<int64_t>(bias_ids.size());
    v.penalties = true;
    v.repetition.value = 1.1f;
    v.frequency.value = 0.2f;
    v.presence.value = 0.1f;
    v.hist_offsets = hist_off.data();
    v.hist_ids = hist_ids.data();
    v.hist_counts = hist_counts.data();
    v.hist_len = static_cast<int64_t>(hist_ids.size());
    return v;
  }
  int64_t entries() const { return static_cast<int64_t>(bias_ids.size() + hist_ids.size()); }
};

std::vector<int32_t> distinct_sorted(std::mt19937_64& rng, size_t n, int64_t V) {
  std::vector<int32_t> x;
  while (x.size() < n) {
    x.push_back(static_cast<int32_t>(rng() % V));
    if (x.size() == n) {
      std::sort(x.begin(), x.end());
      x.erase(std::unique(x.begin(), x.end()), x.end());
    }
  }
  return x;
}

Input make(const char* name, bool sorted_hist, bool sorted_bias) {
  std::mt19937_64 rng(7);
  Input in;
  in.name = name;
  for (int64_t b = 0; b < in.B; ++b) {  // a lone root per request
    in.offsets.push_back(static_cast<int32_t>(b));
    in.tokens.push_back(1);
    in.parents.push_back(-1);
  }
  in.offsets.push_back(static_cast<int32_t>(in.B));
  for (int64_t b = 0; b < in.B; ++b) {
    std::vector<int32_t> bias = distinct_sorted(rng, 64, in.V);
    if (!sorted_bias) std::shuffle(bias.begin(), bias.end(), rng);
    for (int32_t x : bias) {
      in.bias_ids.push_back(x);
      in.bias_vals.push_back(static_cast<float>(static_cast<int>(rng() % 201) - 100) / 10.f);
    }
    in.bias_off.push_back(static_cast<int32_t>(in.bias_ids.size()));
    if (sorted_hist) {
      for (int32_t x : distinct_sorted(rng, 512, in.V)) {
        in.hist_ids.push_back(x);
        in.hist_counts.push_back(1 + static_cast<int32_t>(rng() % 3));
      }
    } else {
      const std::vector<int32_t> pool = distinct_sorted(rng, 200, in.V);
      for (int i = 0; i < 512; ++i) {
        in.hist_ids.push_back(pool[rng() % pool.size()]);
        in.hist_counts.push_back(1);
      }
    }
    in.hist_off.push_back(static_cast<int32_t>(in.hist_ids.size()));
  }
  return in;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

bool same(const ProcessorPlan& a, const ProcessorPlan& b) {
  return a.active == b.active && a.path_counts == b.path_counts && same_bits(a.offsets, b.offsets) &&
         same_bits(a.ids, b.ids) && same_bits(a.bias, b.bias) && same_bits(a.count, b.count) &&
         same_bits(a.rep, b.rep) && same_bits(a.freq, b.freq) && same_bits(a.pres, b.pres);
}

// Median and minimum µs per call, timed in rounds of 10 calls.
template <class F>
void time_it(const char* label, const Input& in, int calls, F&& f) {
  std::vector<double> us;
  for (int r = 0; r < calls / 10; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < 10; ++k) f();
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / 10);
  }
  std::sort(us.begin(), us.end());
  std::printf("  %-7s median %8.1f us  min %8.1f us  (%.2f ns per entry)\n", label, us[us.size() / 2], us[0],
              us[us.size() / 2] * 1e3 / static_cast<double>(in.entries()));
}

}  // namespace

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::max(10, std::atoi(argv[1])) : 2000;
  const bool trim = argc > 2 && std::strcmp(argv[2], "trim") == 0;
#if defined(__GLIBC__)
  if (!trim) mallopt(M_TRIM_THRESHOLD, 1 << 30), mallopt(M_MMAP_THRESHOLD, 32 << 20);
#endif
  std::printf("plan_processors, B = 64, V = 128256, %d threads, %d calls per line%s\n", pool_threads(), calls,
              trim ? ", malloc trims the heap after each call" : "");
  const Input cases[] = {make("sorted", true, true), make("unsorted", false, true), make("unsorted bias", true, false)};
  int bad = 0;
  for (const Input& in : cases) {
    const ProcessorsView v = in.view();
    const TreeBatchView t = in.trees();
    const bool ok = same(base::plan_processors(v, t, in.V), plan_processors(v, t, in.V));
    std::printf("%s: %lld entries, outputs %s\n", in.name.c_str(), static_cast<long long>(in.entries()),
                ok ? "identical" : "DIFFER");
    bad += !ok;
    time_it("before", in, calls, [&] { volatile size_t n = base::plan_processors(v, t, in.V).ids.size(); (void)n; });
    time_it("after", in, calls, [&] { volatile size_t n = plan_processors(v, t, in.V).ids.size(); (void)n; });
  }
  return bad ? 1 : 0;
}
