// Runtime SIMD dispatch: the best instruction set this CPU supports, detected once, capped by the running call's
// Tuning::simd_cap (core/tuning.h: LENGTHWISE_SIMD, or the call's own field).
#pragma once

namespace lw {
namespace cpu {

enum class SimdLevel : int { Scalar = 0, Avx2 = 1, Avx512 = 2 };

SimdLevel simd_level();            // detected, capped by current_tuning().simd_cap
SimdLevel simd_detected();         // what the CPU supports
const char* simd_level_name(SimdLevel l);

}  // namespace cpu
}  // namespace lw
