// Runtime SIMD dispatch: the best instruction set this CPU supports, chosen once; overridable for tests.
#pragma once

namespace lw {
namespace cpu {

enum class SimdLevel : int { Scalar = 0, Avx2 = 1, Avx512 = 2 };

SimdLevel simd_level();            // override if set, else detected (LENGTHWISE_SIMD env caps it)
SimdLevel simd_detected();         // what the CPU supports
void set_simd_override(int level); // -1 clears; a level above the detected one is capped
const char* simd_level_name(SimdLevel l);

}  // namespace cpu
}  // namespace lw
