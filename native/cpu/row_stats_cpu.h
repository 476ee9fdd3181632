// CPU streaming statistics over a slice [begin, end) of one logit row, with runtime SIMD dispatch
// (AVX-512 / AVX2+FMA / scalar). Reused by every kernel that reduces logit rows (logitStats, XL3M, trees).
#pragma once
#include <cstdint>

#include "core/dtype.h"
#include "core/row_stats.h"

namespace lw {
namespace cpu {

// `row` points at element 0 of the row. Values are multiplied by inv_temp (> 0) before use.
// If has_target, counts #{x > target_raw} on raw values (scaling by inv_temp > 0 preserves order).
void row_partial(const void* row, DType dtype, int64_t begin, int64_t end, float inv_temp, bool has_target,
                 float target_raw, RowPartial* out);

// Name of the SIMD path chosen on this CPU: "avx512", "avx2", or "scalar". LENGTHWISE_SIMD overrides.
const char* simd_name();

}  // namespace cpu
}  // namespace lw
