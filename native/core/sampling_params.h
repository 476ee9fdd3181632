// The processing of the target distribution p_v at a tree node (docs/tree-verification.md), shared by verifyTree, the tree
// utilities and every backend. This is the one place that says what each knob does and what "off" means.
//
// For a logits row z (V tokens) of request b, in this order:
//   greedy / temperature == 0  p_v is one-hot at argmax z (lowest id on ties); the other knobs are ignored.
//   temperature T > 0          w(x) = exp((z_x − max z) / T)                       (default 1)
//   min_p in [0, 1]            drop x with w(x) < min_p, i.e. p(x) < min_p · p_max   0 = off (default)
//   top_k >= 0                 keep the top_k most probable survivors               0 (or >= V) = off (default)
//   top_p in (0, 1]            keep the shortest prefix of the survivors whose mass reaches top_p · their mass
//                                                                                   1 = off (default)
//   p_v = w renormalised over what is kept.
// Every knob keeps a prefix of the one order "logit descending, id ascending" (ties go to the lower id), so the
// kept set is always { x : z_x > z_pivot or (z_x == z_pivot and x <= pivot) } for one pivot token.
//
// Each knob is one value for the whole batch or one per request (FlashInfer's `arr ? arr[b] : val`).
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

namespace lw {

template <class T>
struct PerRequest {
  T value;
  const T* array = nullptr;  // [batch] when set (host memory); overrides `value`
  T at(int64_t b) const { return array ? array[b] : value; }
};

// The knobs of one request.
struct SamplingRow {
  float temperature = 1.f;
  int32_t top_k = 0;
  float top_p = 1.f;
  float min_p = 0.f;
};

// The logits processors as the caller gave them (core/processors.h says what each does; host memory, except a
// device-resident mask); every pointer null = that processor off.
struct ProcessorsView {
  const uint32_t* allowed = nullptr;  // [rows × ceil(V/32)] with rows = batch or nodes
  int64_t allowed_words = 0;          // its length in words
  bool allowed_on_device = false;     // `allowed` is CUDA device memory on allowed_device (verifyTree on CUDA only)
  int allowed_device = 0;
  const int32_t* bias_offsets = nullptr;  // [batch + 1]
  const int32_t* bias_ids = nullptr;      // [bias_offsets[batch]]
  const float* bias_values = nullptr;     // [bias_offsets[batch]]
  int64_t bias_len = 0;                   // length of ids and values (checked equal by the unpacker)
  bool penalties = false;                 // penalties given (history required)
  PerRequest<float> repetition{1.f}, frequency{0.f}, presence{0.f};
  const int32_t* hist_offsets = nullptr;  // [batch + 1]
  const int32_t* hist_ids = nullptr;      // [hist_offsets[batch]]
  const int32_t* hist_counts = nullptr;   // [hist_offsets[batch]]
  int64_t hist_len = 0;

  bool any() const { return allowed || bias_offsets || penalties; }
};

struct SamplingParams {
  bool greedy = false;  // every request greedy (verifyTree mode 'greedy')
  PerRequest<float> temperature{1.f};
  PerRequest<int32_t> top_k{0};
  PerRequest<float> top_p{1.f};
  PerRequest<float> min_p{0.f};
  ProcessorsView processors;  // mask, bias, penalties: off unless given (applied before the knobs above)

  SamplingRow at(int64_t b) const { return {temperature.at(b), top_k.at(b), top_p.at(b), min_p.at(b)}; }
  bool greedy_at(int64_t b) const { return greedy || !(temperature.at(b) > 0.f); }
};

// Throws a RangeError naming the knob (and the request) when a value is out of its range above.
void validate_sampling(const SamplingParams& s, int64_t batch);

// min-p as a logit offset: x survives iff z_x >= max z + min_p_offset(T, min_p) (float add, on every backend).
// Computed once per request on the host in double, so CPU and CUDA compare against the same float.
inline float min_p_offset(float temperature, float min_p) {
  return static_cast<float>(static_cast<double>(temperature) * std::log(static_cast<double>(min_p)));
}

// One request's knobs as a kept-set kernel reads them, resolved on the host: greedy requests and "off" knobs
// hold the off values (a greedy request's walk runs at T = 1 and reads no other knob), min-p is its logit offset.
// Backends upload one per request without naming the knobs, so a new knob is a field here and a step in each
// backend's kept set.
struct KeptRule {
  float temperature = 1.f;
  int32_t top_k = 0;
  float top_p = 1.f;
  float min_p_offset = -INFINITY;  // -inf: min-p off
};

inline KeptRule kept_rule(const SamplingParams& s, int64_t b) {
  KeptRule r;
  if (s.greedy_at(b)) return r;
  const SamplingRow row = s.at(b);
  r.temperature = row.temperature;
  r.top_k = row.top_k;
  r.top_p = row.top_p;
  if (row.min_p > 0.f) r.min_p_offset = min_p_offset(row.temperature, row.min_p);
  return r;
}

// The float64 reference of p_v (the definition above, by sorting), that every kernel is tested against.
// z: one row of logits (finite or -inf, at least one finite); p: V probabilities out.
void processed_distribution(const std::vector<double>& z, const SamplingRow& s, bool greedy, std::vector<double>& p);

}  // namespace lw
