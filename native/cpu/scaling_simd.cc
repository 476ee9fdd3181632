// Vectorised Chinchilla objective for the CPU backend: AVX-512 and AVX2+FMA paths compiled with per-function
// target attributes (the shipped binary stays baseline x86-64) and picked at run time by cpu::simd_level().
#include "scaling_cpu.h"

#include <cmath>

#include "simd.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LW_SCALING_X86 1
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#else
#define LW_SCALING_X86 0
#endif

namespace lw {
namespace cpu {

#if LW_SCALING_X86

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
namespace avx2 {
struct V {
  using T = __m256d;
  using M = __m256d;
  static constexpr int W = 4;
  static T set1(double v) { return _mm256_set1_pd(v); }
  static T load(const double* p) { return _mm256_loadu_pd(p); }
  static T add(T a, T b) { return _mm256_add_pd(a, b); }
  static T sub(T a, T b) { return _mm256_sub_pd(a, b); }
  static T mul(T a, T b) { return _mm256_mul_pd(a, b); }
  static T div(T a, T b) { return _mm256_div_pd(a, b); }
  static T fma(T a, T b, T c) { return _mm256_fmadd_pd(a, b, c); }
  static T fnma(T a, T b, T c) { return _mm256_fnmadd_pd(a, b, c); }
  static T max(T a, T b) { return _mm256_max_pd(a, b); }
  static T min(T a, T b) { return _mm256_min_pd(a, b); }
  static M ge(T a, T b) { return _mm256_cmp_pd(a, b, _CMP_GE_OQ); }
  static M gt(T a, T b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
  static T blend(M m, T yes, T no) { return _mm256_blendv_pd(no, yes, m); }
  static M isnan(T a) { return _mm256_cmp_pd(a, a, _CMP_UNORD_Q); }
  static M le(T a, T b) { return _mm256_cmp_pd(a, b, _CMP_LE_OQ); }
  static M mor(M a, M b) { return _mm256_or_pd(a, b); }
  static T sqrt(T a) { return _mm256_sqrt_pd(a); }
  static void store(double* p, T v) { _mm256_storeu_pd(p, v); }
  // v = 2^e · m with m in [1, 2) (v normal, > 0): exponent and mantissa by bit manipulation.
  static void split(T v, T* e, T* m) {
    const __m256i bits = _mm256_castpd_si256(v);
    const __m256i magic = _mm256_castpd_si256(_mm256_set1_pd(4503599627370496.0));  // 2^52
    const __m256i eb = _mm256_or_si256(_mm256_srli_epi64(bits, 52), magic);
    *e = _mm256_sub_pd(_mm256_castsi256_pd(eb), _mm256_set1_pd(4503599627370496.0 + 1023));
    const __m256i mb = _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0x000fffffffffffffLL)),
                                       _mm256_set1_epi64x(0x3ff0000000000000LL));
    *m = _mm256_castsi256_pd(mb);
  }
  // p · 2^n where k = n + 1.5·2^52: the low mantissa bits of k hold n, shifted into the exponent field.
  static T scale2(T p, T k, T) {
    __m256i e = _mm256_slli_epi64(_mm256_add_epi64(_mm256_castpd_si256(k), _mm256_set1_epi64x(1023)), 52);
    return _mm256_mul_pd(p, _mm256_castsi256_pd(e));
  }
  static double hsum(T v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
  }
};
#include "scaling_simd_body.h"
}  // namespace avx2
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512dq,avx2,fma")
#endif
namespace avx512 {
struct V {
  using T = __m512d;
  using M = __mmask8;
  static constexpr int W = 8;
  static T set1(double v) { return _mm512_set1_pd(v); }
  static T load(const double* p) { return _mm512_loadu_pd(p); }
  static T add(T a, T b) { return _mm512_add_pd(a, b); }
  static T sub(T a, T b) { return _mm512_sub_pd(a, b); }
  static T mul(T a, T b) { return _mm512_mul_pd(a, b); }
  static T div(T a, T b) { return _mm512_div_pd(a, b); }
  static T fma(T a, T b, T c) { return _mm512_fmadd_pd(a, b, c); }
  static T fnma(T a, T b, T c) { return _mm512_fnmadd_pd(a, b, c); }
  static T max(T a, T b) { return _mm512_max_pd(a, b); }
  static T min(T a, T b) { return _mm512_min_pd(a, b); }
  static M ge(T a, T b) { return _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ); }
  static M gt(T a, T b) { return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ); }
  static T blend(M m, T yes, T no) { return _mm512_mask_blend_pd(m, no, yes); }
  static M isnan(T a) { return _mm512_cmp_pd_mask(a, a, _CMP_UNORD_Q); }
  static M le(T a, T b) { return _mm512_cmp_pd_mask(a, b, _CMP_LE_OQ); }
  static M mor(M a, M b) { return static_cast<M>(a | b); }
  static T sqrt(T a) { return _mm512_sqrt_pd(a); }
  static void store(double* p, T v) { _mm512_storeu_pd(p, v); }
  static void split(T v, T* e, T* m) {
    *e = _mm512_getexp_pd(v);
    *m = _mm512_getmant_pd(v, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
  }
  static T scale2(T p, T, T n) { return _mm512_scalef_pd(p, n); }
  static double hsum(T v) { return _mm512_reduce_add_pd(v); }
};
#include "scaling_simd_body.h"
}  // namespace avx512
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif  // LW_SCALING_X86

CustomEvalFn custom_simd_eval() {
#if LW_SCALING_X86
  switch (simd_level()) {
    case SimdLevel::Avx512: return avx512::custom_eval;
    case SimdLevel::Avx2: return avx2::custom_eval;
    default: break;
  }
#endif
  return nullptr;
}

ChinchillaEvalFn chinchilla_simd_eval() {
#if LW_SCALING_X86
  switch (simd_level()) {
    case SimdLevel::Avx512: return avx512::chinchilla_eval;
    case SimdLevel::Avx2: return avx2::chinchilla_eval;
    default: break;
  }
#endif
  return nullptr;
}

}  // namespace cpu
}  // namespace lw
