#include "simd.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace lw {
namespace cpu {
namespace {

SimdLevel detect() {
#if LW_SIMD_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
    return SimdLevel::Avx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return SimdLevel::Avx2;
#endif
  return SimdLevel::Scalar;
}

SimdLevel from_env(SimdLevel detected) {
  const char* env = std::getenv("LENGTHWISE_SIMD");
  if (!env) return detected;
  SimdLevel want = detected;
  if (!std::strcmp(env, "scalar")) want = SimdLevel::Scalar;
  else if (!std::strcmp(env, "avx2")) want = SimdLevel::Avx2;
  else if (!std::strcmp(env, "avx512")) want = SimdLevel::Avx512;
  return static_cast<int>(want) < static_cast<int>(detected) ? want : detected;
}

std::atomic<int> g_override{-1};

}  // namespace

SimdLevel simd_detected() {
  static const SimdLevel level = detect();
  return level;
}

SimdLevel simd_level() {
  static const SimdLevel env_level = from_env(simd_detected());
  int o = g_override.load(std::memory_order_relaxed);
  if (o >= 0 && o < static_cast<int>(env_level)) return static_cast<SimdLevel>(o);
  return env_level;
}

void set_simd_override(int level) { g_override.store(level, std::memory_order_relaxed); }

const char* simd_level_name(SimdLevel l) {
  switch (l) {
    case SimdLevel::Avx512: return "avx512";
    case SimdLevel::Avx2: return "avx2";
    default: return "scalar";
  }
}

}  // namespace cpu
}  // namespace lw
