#include "simd.h"

#include "core/tuning.h"

namespace lw {
namespace cpu {
namespace {

SimdLevel detect() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
    return SimdLevel::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SimdLevel::Avx2;
#endif
  return SimdLevel::Scalar;
}

}  // namespace

SimdLevel simd_detected() {
  static const SimdLevel level = detect();
  return level;
}

SimdLevel simd_level() {
  const int cap = current_tuning().simd_cap, detected = static_cast<int>(simd_detected());
  return static_cast<SimdLevel>(cap < detected ? (cap < 0 ? 0 : cap) : detected);
}

const char* simd_level_name(SimdLevel l) {
  switch (l) {
    case SimdLevel::Avx512: return "avx512";
    case SimdLevel::Avx2: return "avx2";
    default: return "scalar";
  }
}

}  // namespace cpu
}  // namespace lw
