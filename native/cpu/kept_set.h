// The kept set of a processed target row on the CPU (core/sampling_params.h says what each knob keeps): one
// selector for verifyTree's walker and the tree utilities, so both keep exactly the same tokens.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "../core/sampling_params.h"
#include "row_simd.h"

namespace lw {
namespace cpu {

// A processed row, described without materialising it. Weights are relative to the row max, in float:
// w(x) = exp((z[x] - max) * inv_t); p(x) = kept(x) ? w(x) * inv_sum : 0.
struct KeptSet {
  float max = 0.f;        // row max (finite)
  int32_t argmax = 0;     // lowest id attaining it: the most probable kept token
  float inv_t = 1.f;      // 1 / temperature
  bool filtered = false;  // false: every token is kept (no knob removed anything), kept() need not be asked
  // The last kept token in the order (logit desc, id asc): x is kept iff z[x] > pivot_logit, or
  // z[x] == pivot_logit and x <= pivot_id. (-inf, INT_MAX) when unfiltered.
  float pivot_logit = -INFINITY;
  int32_t pivot_id = INT32_MAX;
  double inv_sum = 1.0;   // 1 / Σ_kept w(x), the sum taken chunk by chunk (chunk_mass below)
  float inv_sum_f = 1.f;  // the same, rounded to float

  bool kept(int32_t x, float z) const { return z > pivot_logit || (z == pivot_logit && x <= pivot_id); }
  float weight(float z) const { return std::exp((z - max) * inv_t); }
};

struct KeptScratch {
  // After select_kept on a filtered row: the candidates of the kept set in increasing id order (every kept token,
  // possibly a few that kept() rejects); callers filter with kept().
  std::vector<int32_t> ids;
  int64_t kept_prefix = -1;  // set by the fast selection: ids[0 .. kept_prefix) is the kept set (logit order)
  std::vector<float> chunk_max, w, bracket_z, bracket_w;
  std::vector<int32_t> bracket_ids;
  // After select_kept: Σ_kept w over each chunk of tree::kChunk ids (in increasing id order); Σ = 1 / inv_sum.
  std::vector<double> chunk_mass;
};

// Selects the kept set of row z[0..V) (no NaN / +inf, max finite: `stats` is its row_max) for a sampled request
// (temperature > 0). Fills s.chunk_mass.
KeptSet select_kept(const float* z, int64_t V, const RowMax& stats, const SamplingRow& row, KeptScratch& s);

}  // namespace cpu
}  // namespace lw
