// AVX2 helpers shared by the CPU row kernels: the target attribute and horizontal max / sum of 8 floats.
// Only called after the runtime dispatch (simd.h) has seen AVX2.
#pragma once
#include "simd.h"
#if LW_SIMD_X86
#include <immintrin.h>

#define LW_AVX2 __attribute__((target("avx2,fma,f16c")))

namespace lw {
namespace cpu {

LW_AVX2 inline float hmax_avx2(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

LW_AVX2 inline float hsum_avx2(__m256 v) {
  __m128 m = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_add_ps(m, _mm_movehl_ps(m, m));
  m = _mm_add_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}

}  // namespace cpu
}  // namespace lw
#endif  // LW_SIMD_X86
