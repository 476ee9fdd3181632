// Runtime SIMD dispatch: the best instruction set this CPU supports, detected once, capped by the running call's
// Tuning::simd_cap (core/tuning.h: LENGTHWISE_SIMD, or the call's own field).
#pragma once

// 1 where the AVX2 / AVX-512 kernels are compiled: x86-64 with GCC or clang (per-function target attributes).
// Elsewhere (arm64, MSVC) only the scalar paths exist and simd_level() is always Scalar.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LW_SIMD_X86 1
#else
#define LW_SIMD_X86 0
#endif

namespace lw {
namespace cpu {

enum class SimdLevel : int { Scalar = 0, Avx2 = 1, Avx512 = 2 };

SimdLevel simd_level();            // detected, capped by current_tuning().simd_cap
SimdLevel simd_detected();         // what the CPU supports
const char* simd_level_name(SimdLevel l);

}  // namespace cpu
}  // namespace lw
