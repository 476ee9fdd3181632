// Lean CPU row reduction for XL3M scoring (docs/xl3m.md): only what entropy and NLL need, with runtime SIMD
// dispatch (AVX-512 / AVX2+FMA / scalar; simd.h, LENGTHWISE_SIMD). logitStats keeps the full row_stats_cpu path.
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "core/row_stats.h"

namespace lw {
namespace cpu {

// Statistics of the slice [begin, end) of one row (`row` points at element 0; values are multiplied by
// inv_temp > 0): m = max, s = Σ e^(x−m), u = Σ e^(x−m)(x−m) when want_u (else 0), nan, pos_inf. The other
// RowPartial fields (w, best, greater) keep their defaults, so merge_partial / finalize_partial give the row's
// entropy (want_u) or logsumexp / nll with the same NaN and ±inf semantics as the full path. The result depends
// only on the slice's values and bounds (never on threads), so equal slices give bit-identical partials.
void xl3m_slice_partial(const void* row, DType dtype, int64_t begin, int64_t end, float inv_temp, bool want_u,
                        RowPartial* out);

}  // namespace cpu
}  // namespace lw
