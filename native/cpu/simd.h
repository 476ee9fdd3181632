// Runtime SIMD dispatch: the best instruction set this CPU supports, chosen once; overridable for tests.
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

SimdLevel simd_level();            // override if set, else detected (LENGTHWISE_SIMD env caps it)
SimdLevel simd_detected();         // what the CPU supports
void set_simd_override(int level); // -1 clears; a level above the detected one is capped
const char* simd_level_name(SimdLevel l);

}  // namespace cpu
}  // namespace lw
