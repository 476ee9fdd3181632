#include "row_simd.h"
#include "simd.h"

#include <cmath>
#include <cstring>
#include <limits>

#if defined(__x86_64__) || defined(_M_X64)
// GCC 12 warns about _mm512_undefined_* inside its own intrinsics headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#define LW_X86 1
#endif

namespace lw {
namespace cpu {
namespace {

RowMax row_max_scalar(const float* z, int64_t n) {
  RowMax r{-std::numeric_limits<float>::infinity(), 0, false};
  for (int64_t i = 0; i < n; ++i) {
    float v = z[i];
    if (!(v < std::numeric_limits<float>::infinity())) r.nonfinite = true;
    if (v > r.max) { r.max = v; r.arg = i; }
  }
  return r;
}

double row_sum_exp_scalar(const float* z, int64_t n, float m, float inv_t) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += std::exp((z[i] - m) * inv_t);
  return s;
}

double row_weights_scalar(const float* z, int64_t n, float m, float inv_t, float* w) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += (w[i] = std::exp((z[i] - m) * inv_t));
  return s;
}

MassCount row_mass_at_least_scalar(const float* z, const float* w, int64_t n, float t) {
  MassCount r{0.0, 0};
  for (int64_t i = 0; i < n; ++i)
    if (z[i] >= t) { r.mass += w[i]; ++r.count; }
  return r;
}

void row_indices_at_least_scalar(const float* z, int64_t n, float t, std::vector<int32_t>* out) {
  for (int64_t i = 0; i < n; ++i)
    if (z[i] >= t) out->push_back(static_cast<int32_t>(i));
}

void row_to_float_scalar(const void* src, DType t, int64_t n, float* dst) {
  if (t == DType::F32) { std::memcpy(dst, src, n * sizeof(float)); return; }
  const uint16_t* h = static_cast<const uint16_t*>(src);
  if (t == DType::BF16) for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_float(h[i]);
  else for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_float(h[i]);
}

#if LW_X86
__attribute__((target("avx2,fma"))) RowMax row_max_avx2(const float* z, int64_t n) {
  const __m256 inf = _mm256_set1_ps(std::numeric_limits<float>::infinity());
  __m256 mx = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  __m256 bad = _mm256_setzero_ps();
  int64_t i = 0;
  // Pass 1: the max (4 independent accumulators hide latency); NaN/+Inf via !(v < inf).
  __m256 m1 = mx, m2 = mx, m3 = mx;
  for (; i + 32 <= n; i += 32) {
    __m256 a = _mm256_loadu_ps(z + i), b = _mm256_loadu_ps(z + i + 8);
    __m256 c = _mm256_loadu_ps(z + i + 16), d = _mm256_loadu_ps(z + i + 24);
    bad = _mm256_or_ps(bad, _mm256_or_ps(_mm256_or_ps(_mm256_cmp_ps(a, inf, _CMP_NLT_UQ), _mm256_cmp_ps(b, inf, _CMP_NLT_UQ)),
                                         _mm256_or_ps(_mm256_cmp_ps(c, inf, _CMP_NLT_UQ), _mm256_cmp_ps(d, inf, _CMP_NLT_UQ))));
    mx = _mm256_max_ps(mx, a); m1 = _mm256_max_ps(m1, b); m2 = _mm256_max_ps(m2, c); m3 = _mm256_max_ps(m3, d);
  }
  mx = _mm256_max_ps(_mm256_max_ps(mx, m1), _mm256_max_ps(m2, m3));
  float lanes[8];
  _mm256_storeu_ps(lanes, mx);
  float m = lanes[0];
  for (int k = 1; k < 8; ++k) m = lanes[k] > m ? lanes[k] : m;
  RowMax r{m, -1, _mm256_movemask_ps(bad) != 0};
  for (; i < n; ++i) {
    float v = z[i];
    if (!(v < std::numeric_limits<float>::infinity())) r.nonfinite = true;
    if (v > r.max) r.max = v;
  }
  if (r.nonfinite) return row_max_scalar(z, n);
  // Pass 2 (cache-hot): first index equal to the max.
  const __m256 vm = _mm256_set1_ps(r.max);
  for (i = 0; i + 8 <= n; i += 8) {
    int mask = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(z + i), vm, _CMP_EQ_OQ));
    if (mask) { r.arg = i + __builtin_ctz(mask); return r; }
  }
  for (; i < n; ++i)
    if (z[i] == r.max) { r.arg = i; return r; }
  r.arg = 0;  // all -inf
  return r;
}

// exp for x <= 0 (arguments here are (z - max) / T); Cephes-style range reduction + degree-5 polynomial. One set
// of constants for the AVX2 and AVX-512 versions, which must agree lane for lane.
namespace expc {
constexpr float kLo = -87.0f, kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
constexpr float kPoly[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                            4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
}  // namespace expc

__attribute__((target("avx2,fma"))) inline __m256 exp_neg_avx2(__m256 x) {
  const __m256 lo = _mm256_set1_ps(expc::kLo);
  __m256 keep = _mm256_cmp_ps(x, lo, _CMP_GE_OQ);
  x = _mm256_max_ps(x, lo);
  __m256 fx = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(expc::kLog2e), _mm256_set1_ps(0.5f)));
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(expc::kLn2Hi), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(expc::kLn2Lo), x);
  __m256 y = _mm256_set1_ps(expc::kPoly[0]);
  for (int k = 1; k < 6; ++k) y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(expc::kPoly[k]));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(fx), _mm256_set1_epi32(127)), 23);
  return _mm256_and_ps(_mm256_mul_ps(y, _mm256_castsi256_ps(e)), keep);
}

// Adds the 8 terms of e to the two double accumulators (low half to s0, high half to s1).
__attribute__((target("avx2"))) inline void add8(__m256 e, __m256d& s0, __m256d& s1) {
  s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
  s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
}

// Σ exp((z - m) * inv_t) over [i, n) added to the running accumulators, storing each term in w when it is not
// null (one loop, so a weighted and an unweighted sum are identical); then the horizontal sum and scalar tail.
__attribute__((target("avx2,fma"))) inline double sum_exp_from_avx2(const float* z, int64_t n, int64_t i, float m,
                                                                    float inv_t, float* w, __m256d s0, __m256d s1) {
  const __m256 vm = _mm256_set1_ps(m), vt = _mm256_set1_ps(inv_t);
  for (; i + 8 <= n; i += 8) {
    __m256 e = exp_neg_avx2(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(z + i), vm), vt));
    if (w) _mm256_storeu_ps(w + i, e);
    add8(e, s0, s1);
  }
  double lanes[4];
  _mm256_storeu_pd(lanes, _mm256_add_pd(s0, s1));
  double s = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (; i < n; ++i) {
    float e = std::exp((z[i] - m) * inv_t);
    if (w) w[i] = e;
    s += e;
  }
  return s;
}

__attribute__((target("avx2,fma"))) inline double sum_exp_avx2(const float* z, int64_t n, float m, float inv_t, float* w) {
  return sum_exp_from_avx2(z, n, 0, m, inv_t, w, _mm256_setzero_pd(), _mm256_setzero_pd());
}

// AVX-512: the same exp, lane for lane, 16 at a time; the sums are taken in exactly the AVX2 loop's order
// (low then high half of each 8-lane group, into the same two accumulators), so results are bit-identical.
#define LW_ROW_AVX512 __attribute__((target("avx512f,avx512dq,avx2,fma")))
LW_ROW_AVX512 inline __m512 exp_neg_avx512(__m512 x) {
  const __m512 lo = _mm512_set1_ps(expc::kLo);
  const __mmask16 keep = _mm512_cmp_ps_mask(x, lo, _CMP_GE_OQ);
  x = _mm512_max_ps(x, lo);
  __m512 fx = _mm512_roundscale_ps(_mm512_fmadd_ps(x, _mm512_set1_ps(expc::kLog2e), _mm512_set1_ps(0.5f)),
                                   _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(expc::kLn2Hi), x);
  x = _mm512_fnmadd_ps(fx, _mm512_set1_ps(expc::kLn2Lo), x);
  __m512 y = _mm512_set1_ps(expc::kPoly[0]);
  for (int k = 1; k < 6; ++k) y = _mm512_fmadd_ps(y, x, _mm512_set1_ps(expc::kPoly[k]));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(x, x), _mm512_add_ps(x, _mm512_set1_ps(1.0f)));
  __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(fx), _mm512_set1_epi32(127)), 23);
  return _mm512_maskz_mov_ps(keep, _mm512_mul_ps(y, _mm512_castsi512_ps(e)));
}

LW_ROW_AVX512 double sum_exp_avx512(const float* z, int64_t n, float m, float inv_t, float* w) {
  const __m512 vm = _mm512_set1_ps(m), vt = _mm512_set1_ps(inv_t);
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 e = exp_neg_avx512(_mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(z + i), vm), vt));
    if (w) _mm512_storeu_ps(w + i, e);
    add8(_mm512_castps512_ps256(e), s0, s1);
    add8(_mm512_extractf32x8_ps(e, 1), s0, s1);
  }
  return sum_exp_from_avx2(z, n, i, m, inv_t, w, s0, s1);  // at most one 8-lane group, then the tail
}

__attribute__((target("avx2,fma"))) double row_sum_exp_avx2(const float* z, int64_t n, float m, float inv_t) {
  return sum_exp_avx2(z, n, m, inv_t, nullptr);
}

__attribute__((target("avx2,fma"))) double row_weights_avx2(const float* z, int64_t n, float m, float inv_t, float* w) {
  return sum_exp_avx2(z, n, m, inv_t, w);
}

LW_ROW_AVX512 double row_sum_exp_avx512(const float* z, int64_t n, float m, float inv_t) {
  return sum_exp_avx512(z, n, m, inv_t, nullptr);
}

LW_ROW_AVX512 double row_weights_avx512(const float* z, int64_t n, float m, float inv_t, float* w) {
  return sum_exp_avx512(z, n, m, inv_t, w);
}

__attribute__((target("avx2"))) MassCount row_mass_at_least_avx2(const float* z, const float* w, int64_t n, float t) {
  const __m256 vt = _mm256_set1_ps(t);
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  int64_t count = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 keep = _mm256_cmp_ps(_mm256_loadu_ps(z + i), vt, _CMP_GE_OQ);
    __m256 e = _mm256_and_ps(keep, _mm256_loadu_ps(w + i));
    s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    count += __builtin_popcount(static_cast<unsigned>(_mm256_movemask_ps(keep)));
  }
  double lanes[4];
  _mm256_storeu_pd(lanes, _mm256_add_pd(s0, s1));
  MassCount r{lanes[0] + lanes[1] + lanes[2] + lanes[3], count};
  for (; i < n; ++i)
    if (z[i] >= t) { r.mass += w[i]; ++r.count; }
  return r;
}

__attribute__((target("avx2"))) void row_indices_at_least_avx2(const float* z, int64_t n, float t,
                                                               std::vector<int32_t>* out) {
  // Count first (cheap, and the row stays in cache), then write without capacity checks.
  const __m256 vt = _mm256_set1_ps(t);
  const int64_t n8 = n & ~int64_t{7};
  int64_t count = 0;
  for (int64_t i = 0; i < n8; i += 8)
    count += __builtin_popcount(static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(z + i), vt, _CMP_GE_OQ))));
  for (int64_t i = n8; i < n; ++i) count += z[i] >= t;
  const size_t at = out->size();
  out->resize(at + static_cast<size_t>(count));
  int32_t* o = out->data() + at;
  for (int64_t i = 0; i < n8; i += 8) {
    unsigned mask = static_cast<unsigned>(_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(z + i), vt, _CMP_GE_OQ)));
    while (mask) {
      *o++ = static_cast<int32_t>(i + __builtin_ctz(mask));
      mask &= mask - 1;
    }
  }
  for (int64_t i = n8; i < n; ++i)
    if (z[i] >= t) *o++ = static_cast<int32_t>(i);
}

__attribute__((target("avx2,f16c"))) void row_to_float_avx2(const void* src, DType t, int64_t n, float* dst) {
  if (t == DType::F32) { std::memcpy(dst, src, n * sizeof(float)); return; }
  const uint16_t* h = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  if (t == DType::BF16) {
    for (; i + 8 <= n; i += 8) {
      __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i)));
      _mm256_storeu_ps(dst + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
    }
    for (; i < n; ++i) dst[i] = bf16_to_float(h[i]);
  } else {
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
    for (; i < n; ++i) dst[i] = f16_to_float(h[i]);
  }
}

// Follows the process-wide SIMD choice (LENGTHWISE_SIMD caps it); AVX2 machines all have FMA and F16C.
bool has_avx2() {
  static const bool f16c = __builtin_cpu_supports("f16c");
  return f16c && simd_level() >= SimdLevel::Avx2;
}
bool has_avx512() { return has_avx2() && simd_level() >= SimdLevel::Avx512; }
#else
bool has_avx2() { return false; }
bool has_avx512() { return false; }
#endif

}  // namespace

RowMax row_max(const float* z, int64_t n) {
#if LW_X86
  if (has_avx2()) return row_max_avx2(z, n);
#endif
  return row_max_scalar(z, n);
}

double row_sum_exp(const float* z, int64_t n, float m, float inv_t) {
#if LW_X86
  if (has_avx512()) return row_sum_exp_avx512(z, n, m, inv_t);
  if (has_avx2()) return row_sum_exp_avx2(z, n, m, inv_t);
#endif
  return row_sum_exp_scalar(z, n, m, inv_t);
}

double row_weights(const float* z, int64_t n, float m, float inv_t, float* w) {
#if LW_X86
  if (has_avx512()) return row_weights_avx512(z, n, m, inv_t, w);
  if (has_avx2()) return row_weights_avx2(z, n, m, inv_t, w);
#endif
  return row_weights_scalar(z, n, m, inv_t, w);
}

MassCount row_mass_at_least(const float* z, const float* w, int64_t n, float t) {
#if LW_X86
  if (has_avx2()) return row_mass_at_least_avx2(z, w, n, t);
#endif
  return row_mass_at_least_scalar(z, w, n, t);
}

void row_indices_at_least(const float* z, int64_t n, float t, std::vector<int32_t>* out) {
#if LW_X86
  if (has_avx2()) return row_indices_at_least_avx2(z, n, t, out);
#endif
  row_indices_at_least_scalar(z, n, t, out);
}

void row_to_float(const void* src, DType t, int64_t n, float* dst) {
#if LW_X86
  if (has_avx2()) return row_to_float_avx2(src, t, n, dst);
#endif
  row_to_float_scalar(src, t, n, dst);
}

const char* row_simd_level() { return has_avx512() ? "avx512" : has_avx2() ? "avx2" : "scalar"; }

}  // namespace cpu
}  // namespace lw
