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

constexpr int32_t kMaxCount = std::numeric_limits<int32_t>::max() / 2;  // of a token's summed history counts

// Throws the first bad entry in the order they have always been checked: request by request, its logitBias
// entries, then its history entries.
[[noreturn]] void throw_first_bad_entry(const ProcessorsView& v, int64_t B, int64_t V, bool bias, bool hist) {
  for (int64_t b = 0; b < B; ++b) {
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
  throw_runtime("plan_processors: no bad entry found");
}

// The checks of one request's entries, and whether its ids are strictly increasing: flags ORed over all entries,
// without early exit, so that the compiler vectorises them (with SSE2's compares: it has no 32-bit min / max).
// `last` = the largest valid id (V - 1, clamped to the int32 range).
bool bias_entries_ok(const int32_t* ids, const float* values, int32_t n, int32_t last, bool& increasing) {
  increasing = true;
  if (n == 0) return true;
  int32_t sign = ids[0], over = ids[0] > last, down = 0;
  int32_t bad = !(values[0] < std::numeric_limits<float>::infinity());  // NaN or +Infinity
  for (int32_t i = 1; i < n; ++i) {
    sign |= ids[i];
    over |= ids[i] > last;
    down |= ids[i] <= ids[i - 1];
    bad |= !(values[i] < std::numeric_limits<float>::infinity());
  }
  increasing = !down;
  return sign >= 0 && !over && !bad;
}

bool history_entries_ok(const int32_t* ids, const int32_t* counts, int32_t n, int32_t last, bool& increasing,
                        bool& big_counts) {
  increasing = true;
  big_counts = false;
  if (n == 0) return true;
  int32_t sign = ids[0], bits = counts[0], over = ids[0] > last, down = 0;
  for (int32_t i = 1; i < n; ++i) {
    sign |= ids[i];
    bits |= counts[i];
    over |= ids[i] > last;
    down |= ids[i] <= ids[i - 1];
  }
  increasing = !down;
  static_assert(kMaxCount == (1 << 30) - 1, "a count over kMaxCount has bit 30 or 31 set");
  big_counts = (bits & (1 << 30)) != 0;
  return (sign | bits) >= 0 && !over;
}

// Per-thread scratch, kept between calls. acc / seen / seen_words are all zero between requests.
struct Scratch {
  std::vector<uint64_t> keys;
  std::vector<int32_t> bias_ids, hist_ids, hist_counts;
  std::vector<float> bias_values;
  std::vector<uint32_t> acc;                // history count by token id (saturated at kMaxCount + 1)
  std::vector<uint64_t> seen, seen_words;  // bit id: id seen; bit w of seen_words: seen[w] != 0
};

Scratch& scratch() {
  static thread_local Scratch s;
  return s;
}

constexpr int64_t kDenseVocab = int64_t(1) << 20;  // larger vocabularies: no V-sized scratch

// The sorted distinct ids of an unsorted history with their summed counts, into s.hist_ids / s.hist_counts[0, k):
// dense counts and a two-level bitmap, read back in id order (and cleared); sorted (id, count) keys past
// kDenseVocab. False when a sum is over kMaxCount.
bool aggregate_history(const int32_t* ids, const int32_t* counts, int32_t n, int64_t V, Scratch& s, int32_t& k) {
  if (s.hist_ids.size() < static_cast<size_t>(n)) {
    s.hist_ids.resize(static_cast<size_t>(n));
    s.hist_counts.resize(static_cast<size_t>(n));
  }
  k = 0;
  if (V > kDenseVocab) {
    s.keys.resize(static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) s.keys[i] = static_cast<uint64_t>(ids[i]) << 32 | static_cast<uint32_t>(counts[i]);
    std::sort(s.keys.begin(), s.keys.end());
    bool over = false;
    for (int32_t i = 0; i < n; ++k) {
      const uint64_t id = s.keys[i] >> 32;
      int64_t c = 0;
      for (; i < n && s.keys[i] >> 32 == id; ++i) c += static_cast<uint32_t>(s.keys[i]);
      over |= c > kMaxCount;
      s.hist_ids[k] = static_cast<int32_t>(id);
      s.hist_counts[k] = static_cast<int32_t>(std::min<int64_t>(c, kMaxCount));
    }
    return !over;
  }
  const size_t words = static_cast<size_t>(V + 63) / 64, tops = (words + 63) / 64;
  if (s.acc.size() < static_cast<size_t>(V)) {
    s.acc.resize(static_cast<size_t>(V));
    s.seen.resize(words);
    s.seen_words.resize(tops);
  }
  uint32_t* acc = s.acc.data();
  uint64_t* seen = s.seen.data();
  uint64_t* top = s.seen_words.data();
  for (int32_t i = 0; i < n; ++i) {
    const uint32_t id = static_cast<uint32_t>(ids[i]);
#if defined(__GNUC__)
    if (i + 16 < n) __builtin_prefetch(acc + ids[i + 16], 1);  // acc (V entries) is mostly outside L2
#endif
    acc[id] = std::min<uint32_t>(acc[id] + static_cast<uint32_t>(counts[i]), kMaxCount + 1u);  // < 2^32
    seen[id >> 6] |= uint64_t(1) << (id & 63);
    top[id >> 12] |= uint64_t(1) << ((id >> 6) & 63);
  }
  uint32_t over = 0;
  for (size_t t = 0; t < tops; ++t) {
    for (uint64_t tw = top[t]; tw; tw &= tw - 1) {
      const size_t w = t * 64 + static_cast<size_t>(__builtin_ctzll(tw));
      for (uint64_t bw = seen[w]; bw; bw &= bw - 1) {
        const size_t id = w * 64 + static_cast<size_t>(__builtin_ctzll(bw));
        s.hist_ids[k] = static_cast<int32_t>(id);
        s.hist_counts[k] = static_cast<int32_t>(acc[id]);
        over |= acc[id] > kMaxCount;
        acc[id] = 0;
        ++k;
      }
      seen[w] = 0;
    }
    top[t] = 0;
  }
  return !over;
}

// An unsorted bias list sorted by id into s.bias_ids / s.bias_values. False when an id is listed twice.
bool sort_bias(const int32_t* ids, const float* values, int32_t n, Scratch& s) {
  s.keys.resize(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) s.keys[i] = static_cast<uint64_t>(ids[i]) << 32 | static_cast<uint32_t>(i);
  std::sort(s.keys.begin(), s.keys.end());
  s.bias_ids.resize(static_cast<size_t>(n));
  s.bias_values.resize(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) {
    s.bias_ids[i] = static_cast<int32_t>(s.keys[i] >> 32);
    s.bias_values[i] = values[static_cast<uint32_t>(s.keys[i])];
    if (i > 0 && s.bias_ids[i] == s.bias_ids[i - 1]) return false;
  }
  return true;
}

constexpr int32_t kBlock = 16;  // merge copies history runs in blocks of kBlock entries

// Copies the history block hi[0, kBlock), hc[0, kBlock) to id, count; returns the number of its ids below x (hi
// increasing: the length of its run below x).
inline int32_t copy_block(const int32_t* hi, const int32_t* hc, int32_t x, int32_t* id, int32_t* count) {
#if defined(__GNUC__)
  // Vector extension (SSE2 / NEON): GCC does not vectorise the plain count once it is inlined in merge.
  typedef int32_t I32x4 __attribute__((vector_size(16)));
  typedef int64_t I64x2 __attribute__((vector_size(16)));
  I32x4 h[4];
  std::memcpy(h, hi, sizeof h);
  std::memcpy(id, h, sizeof h);
  std::memcpy(count, hc, sizeof h);
  const I32x4 below = -((h[0] < x) + (h[1] < x) + (h[2] < x) + (h[3] < x));  // 0..4 per lane
  I64x2 pairs;
  std::memcpy(&pairs, &below, sizeof pairs);
  const int64_t sum = pairs[0] + pairs[1];  // lanes 0 + 2 in the low half, 1 + 3 in the high half
  return static_cast<int32_t>(sum) + static_cast<int32_t>(sum >> 32);
#else
  int32_t k = 0;
  for (int32_t t = 0; t < kBlock; ++t) k += hi[t] < x;
  std::memcpy(id, hi, kBlock * sizeof(int32_t));
  std::memcpy(count, hc, kBlock * sizeof(int32_t));
  return k;
#endif
}

// Merges two strictly increasing lists, bias (ids, values) and history (ids, counts), into out (room for
// nb + nh + kBlock entries, `bias` zero-filled); returns its length. The history run below each bias id is copied
// in whole blocks (no branch per entry), the output advancing by the block's count of ids below the bias id.
int32_t merge(const int32_t* bi, const float* bv, int32_t nb, const int32_t* hi, const int32_t* hc, int32_t nh,
              int32_t* id, float* bias, int32_t* count) {
  const int32_t* const end = hi + nh;
  const int32_t* const first = id;
  for (int32_t i = 0; i < nb; ++i) {
    const int32_t x = bi[i];
    int32_t k = 0;
    while (end - hi >= kBlock && (k = copy_block(hi, hc, x, id, count)) == kBlock)
      hi += kBlock, hc += kBlock, id += kBlock, bias += kBlock, count += kBlock;
    if (end - hi < kBlock)  // the history's last (short) block
      for (k = 0; hi + k < end && hi[k] < x; ++k) id[k] = hi[k], count[k] = hc[k];
    hi += k, hc += k, id += k, bias += k, count += k;
    const bool both = hi < end && *hi == x;
    *id++ = x;
    *bias++ = bv[i];
    *count++ = both ? *hc : 0;
    hi += both, hc += both;
  }
  for (; hi < end; ++hi, ++hc) *id++ = *hi, *count++ = *hc;
  return static_cast<int32_t>(id - first);
}

constexpr size_t kParallelEntries = size_t(1) << 17;  // list entries of a call worth the pool

constexpr int32_t kBadEntry = -1;    // an id, value or count out of range: throw_first_bad_entry names it
constexpr int32_t kBadRequest = -2;  // a bias id listed twice, counts over kMaxCount: request_error names it

// Request b's merged list into id / bv / cnt (room for its entries + kBlock, bv zero-filled): its length, or
// kBadEntry / kBadRequest.
int32_t plan_request(const ProcessorsView& v, int64_t b, int64_t V, bool bias, bool hist, Scratch& s, int32_t* id,
                     float* bv, int32_t* cnt) {
  const int32_t last = static_cast<int32_t>(std::min<int64_t>(std::max<int64_t>(V, 0), int64_t(1) << 31) - 1);
  const int32_t* bi = nullptr;
  const float* bval = nullptr;
  int32_t nb = 0;
  bool bias_sorted = true, hist_sorted = true, big_counts = false;
  if (bias) {
    const int32_t lo = v.bias_offsets[b];
    nb = v.bias_offsets[b + 1] - lo;
    bi = v.bias_ids + lo;
    bval = v.bias_values + lo;
    if (!bias_entries_ok(bi, bval, nb, last, bias_sorted)) return kBadEntry;
  }
  const int32_t* hi = nullptr;
  const int32_t* hc = nullptr;
  int32_t nh = 0;
  if (hist) {
    const int32_t lo = v.hist_offsets[b];
    nh = v.hist_offsets[b + 1] - lo;
    hi = v.hist_ids + lo;
    hc = v.hist_counts + lo;
    if (!history_entries_ok(hi, hc, nh, last, hist_sorted, big_counts)) return kBadEntry;
  }
  // Lists sorted by distinct ids are read as given; others are sorted (bias) or aggregated (history) first.
  if (!bias_sorted) {
    if (!sort_bias(bi, bval, nb, s)) return kBadRequest;
    bi = s.bias_ids.data();
    bval = s.bias_values.data();
  }
  if (big_counts || !hist_sorted) {
    int32_t distinct = 0;
    if (!aggregate_history(hi, hc, nh, V, s, distinct)) return kBadRequest;
    hi = s.hist_ids.data();
    hc = s.hist_counts.data();
    nh = distinct;
  }
  return merge(bi, bval, nb, hi, hc, nh, id, bv, cnt);
}

// The message of request b's first problem in id order, as the merge has always reported it: a logitBias id listed
// twice (its first two entries), or history counts of a token adding up to more than kMaxCount.
std::string request_error(const ProcessorsView& v, int64_t b, bool bias, bool hist) {
  auto keys = [](const int32_t* ids, int32_t lo, int32_t hi) {
    std::vector<uint64_t> k;
    for (int32_t i = lo; i < hi; ++i) k.push_back(static_cast<uint64_t>(ids[i]) << 32 | static_cast<uint32_t>(i));
    std::sort(k.begin(), k.end());
    return k;
  };
  const std::vector<uint64_t> bk = bias ? keys(v.bias_ids, v.bias_offsets[b], v.bias_offsets[b + 1])
                                        : std::vector<uint64_t>{};
  const std::vector<uint64_t> hk = hist ? keys(v.hist_ids, v.hist_offsets[b], v.hist_offsets[b + 1])
                                        : std::vector<uint64_t>{};
  size_t i = 0, j = 0;
  while (i < bk.size() || j < hk.size()) {
    const uint64_t id = std::min(i < bk.size() ? bk[i] >> 32 : UINT64_MAX, j < hk.size() ? hk[j] >> 32 : UINT64_MAX);
    if (i + 1 < bk.size() && bk[i] >> 32 == id && bk[i + 1] >> 32 == id)
      return "opts.logitBias.ids: token " + std::to_string(id) + " is listed twice for request " + std::to_string(b) +
             " (entries " + std::to_string(static_cast<uint32_t>(bk[i])) + " and " +
             std::to_string(static_cast<uint32_t>(bk[i + 1])) + ")";
    while (i < bk.size() && bk[i] >> 32 == id) ++i;
    int64_t c = 0;
    for (; j < hk.size() && hk[j] >> 32 == id; ++j) c += v.hist_counts[static_cast<uint32_t>(hk[j])];
    if (c > kMaxCount)
      return "opts.penalties.history.counts of token " + std::to_string(id) + " (request " + std::to_string(b) +
             ") add up to more than 2^30";
  }
  return "plan_processors: request " + std::to_string(b) + " has no problem";
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
  pp.rep.resize(B);
  pp.freq.resize(B);
  pp.pres.resize(B);
  for (int64_t b = 0; b < B; ++b) {
    pp.rep[b] = hist ? v.repetition.at(b) : 1.f;
    pp.freq[b] = hist ? v.frequency.at(b) : 0.f;
    pp.pres[b] = hist ? v.presence.at(b) : 0.f;
  }
  // Each request's lists checked and merged straight into the output, in request order (no upper-bound arrays, no
  // compaction). A bad entry anywhere is reported before any request's problem, as when all values were checked
  // first.
  const size_t entries = static_cast<size_t>((bias ? v.bias_len : 0) + (hist ? v.hist_len : 0));
  auto room = [&](int64_t b) {
    return static_cast<size_t>((bias ? v.bias_offsets[b + 1] - v.bias_offsets[b] : 0) +
                               (hist ? v.hist_offsets[b + 1] - v.hist_offsets[b] : 0) + kBlock);
  };
  std::vector<int32_t> len(static_cast<size_t>(B));
  if (entries < kParallelEntries || pool_threads() == 1) {
    // Below kParallelEntries a pool hand-off costs more than it saves.
    pp.ids.resize(entries + kBlock);
    pp.bias.resize(entries + kBlock);
    pp.count.resize(entries + kBlock);
    size_t at = 0;
    for (int64_t b = 0; b < B; ++b) {
      len[b] = plan_request(v, b, V, bias, hist, scratch(), pp.ids.data() + at, pp.bias.data() + at,
                            pp.count.data() + at);
      at += static_cast<size_t>(std::max(len[b], 0));
    }
    pp.ids.resize(at);
    pp.bias.resize(at);
    pp.count.resize(at);
  } else {
    // In parallel into each request's slot of this thread's buffers, then appended.
    std::vector<size_t> start(static_cast<size_t>(B) + 1, 0);
    for (int64_t b = 0; b < B; ++b) start[b + 1] = start[b] + room(b);
    static thread_local std::vector<int32_t> out_ids, out_count;
    static thread_local std::vector<float> out_bias;
    if (out_ids.size() < start[B]) {
      out_ids.resize(start[B]);
      out_bias.resize(start[B]);
      out_count.resize(start[B]);
    }
    int32_t* const ids = out_ids.data();  // (the workers' out_* are others)
    float* const bv = out_bias.data();
    int32_t* const cnt = out_count.data();
    const size_t grain = std::max<size_t>(1, kParallelEntries / 4 * static_cast<size_t>(B) / entries);
    parallel_for(static_cast<size_t>(B), grain, [&](size_t lo, size_t hi) {
      for (size_t b = lo; b < hi; ++b) {
        std::fill(bv + start[b], bv + start[b + 1], 0.f);
        len[b] = plan_request(v, static_cast<int64_t>(b), V, bias, hist, scratch(), ids + start[b], bv + start[b],
                              cnt + start[b]);
      }
    });
    size_t total = 0;
    for (int64_t b = 0; b < B; ++b) total += static_cast<size_t>(std::max(len[b], 0));
    pp.ids.reserve(total);
    pp.bias.reserve(total);
    pp.count.reserve(total);
    for (int64_t b = 0; b < B; ++b) {
      const size_t s = start[b], e = s + static_cast<size_t>(std::max(len[b], 0));
      pp.ids.insert(pp.ids.end(), ids + s, ids + e);
      pp.bias.insert(pp.bias.end(), bv + s, bv + e);
      pp.count.insert(pp.count.end(), cnt + s, cnt + e);
    }
  }
  for (int64_t b = 0; b < B; ++b)
    if (len[b] == kBadEntry) throw_first_bad_entry(v, B, V, bias, hist);
  for (int64_t b = 0; b < B; ++b)
    if (len[b] == kBadRequest) throw_range(request_error(v, b, bias, hist));
  pp.offsets.resize(static_cast<size_t>(B) + 1);
  pp.offsets[0] = 0;
  for (int64_t b = 0; b < B; ++b) pp.offsets[b + 1] = pp.offsets[b] + len[b];
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
