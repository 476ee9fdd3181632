// Top-p (nucleus) pivot of a whole row without ranking the row.
#pragma once
#include <cstdint>
#include <vector>

namespace lw {
namespace cpu {

struct TopPPivot {
  float tau;  // logit of the last kept token
  int32_t x;  // its id: kept = z > tau, or z == tau and id <= x
};

struct TopPScratch {
  std::vector<int32_t> ids;
  std::vector<float> z, w;
};

// The last token of the shortest prefix, in the order (logit desc, id asc), whose running mass reaches P·Z, where
// w[i] = exp((z[i] - m) * inv_t) and Z = Σ w. Bisection on the logit value brackets the crossing using whole-row
// masses (vectorised); only the few tokens left in the bracket are ranked, and the running mass is then summed
// exactly as the definition says (everything above the bracket, then the bracket in order). Returns false when
// the bracket cannot be confirmed (masses within rounding of P·Z); the caller then ranks the whole row.
bool top_p_pivot(const float* z, const float* w, int64_t V, float m, float inv_t, double P, double Z, TopPScratch& s,
                 TopPPivot* out);

}  // namespace cpu
}  // namespace lw
