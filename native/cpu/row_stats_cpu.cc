#include "row_stats_cpu.h"

#include "simd.h"
#if LW_SIMD_X86
// GCC 12 warns about _mm512_undefined_* inside its own intrinsics headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "avx2_reduce.h"
#include "simd.h"

namespace lw {
namespace cpu {
namespace {

constexpr int kBlock = 2048;            // floats per block: converted + reduced while in L1
constexpr float kMinExponent = -87.0f;  // e^-87 ≈ 1.6e-38: below it a term cannot change an fp32 sum
constexpr float kInf = std::numeric_limits<float>::infinity();

// Blocks containing +inf or NaN take this path: the row's mass sits on the +inf entries (or the row is NaN).
void block_special(const float* x, int n, float inv_t, bool has_t, float t_raw, int64_t base, RowPartial& acc) {
  for (int i = 0; i < n; ++i) {
    float v = x[i];
    if (std::isnan(v)) { acc.nan = true; continue; }
    if (has_t && v > t_raw) ++acc.greater;
    float sv = v * inv_t;
    if (sv > acc.best) { acc.best = sv; acc.best_index = base + i; }
    if (v == kInf) ++acc.pos_inf;
  }
}

void finish_block(float bmax_raw, float inv_t, float s, float u, float w, int64_t greater, RowPartial& acc) {
  RowPartial b;
  b.m = bmax_raw * inv_t;
  b.s = s; b.u = u; b.w = w;
  b.greater = greater;
  merge_partial(acc, b);
}

// First index in x[0..n) equal to v.
int first_index_of(const float* x, int n, float v) {
  for (int i = 0; i < n; ++i)
    if (x[i] == v) return i;
  return 0;
}

void update_argmax(const float* x, int n, float bmax_raw, float inv_t, int64_t base, RowPartial& acc) {
  float sv = bmax_raw * inv_t;
  if (sv > acc.best || acc.best_index < 0) {
    acc.best = sv;
    acc.best_index = base + first_index_of(x, n, bmax_raw);
  }
}

// ---------------------------------------------------------------------------------------------- scalar
void block_scalar(const float* x, int n, float inv_t, bool has_t, float t_raw, int64_t base, RowPartial& acc) {
  float bmax = -kInf;
  bool nan = false;
  for (int i = 0; i < n; ++i) {
    nan |= std::isnan(x[i]);
    bmax = x[i] > bmax ? x[i] : bmax;
  }
  if (nan || bmax == kInf) return block_special(x, n, inv_t, has_t, t_raw, base, acc);
  if (bmax == -kInf) return;  // contributes nothing; no x > t is possible unless t = -inf, and -inf > -inf is false
  update_argmax(x, n, bmax, inv_t, base, acc);
  float m = bmax * inv_t;
  float s = 0, u = 0, w = 0;
  int64_t greater = 0;
  for (int i = 0; i < n; ++i) {
    float d = std::max(x[i] * inv_t - m, kMinExponent);
    float e = std::exp(d);
    s += e; u += e * d; w += e * d * d;
    greater += (has_t && x[i] > t_raw);
  }
  finish_block(bmax, inv_t, s, u, w, greater, acc);
}

void convert_scalar(const void* row, DType dt, int64_t begin, int n, float* out) {
  for (int i = 0; i < n; ++i) out[i] = load_as_float(row, dt, begin + i);
}

#if LW_SIMD_X86
// ---------------------------------------------------------------------------------------------- AVX2

LW_AVX2 inline __m256 exp_avx2(__m256 d) {
  const __m256 log2e = _mm256_set1_ps(1.44269504088896341f);
  const __m256 ln2_hi = _mm256_set1_ps(0.693145751953125f);
  const __m256 ln2_lo = _mm256_set1_ps(1.428606765330187e-06f);
  __m256 n = _mm256_round_ps(_mm256_mul_ps(d, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, ln2_hi, d);
  r = _mm256_fnmadd_ps(n, ln2_lo, r);
  __m256 p = _mm256_set1_ps(1.f / 720.f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 120.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 24.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 6.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

LW_AVX2 void block_avx2(const float* x, int n, float inv_t, bool has_t, float t_raw, int64_t base, RowPartial& acc) {
  __m256 vmax = _mm256_set1_ps(-kInf);
  __m256 vnan = _mm256_setzero_ps();
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    vmax = _mm256_max_ps(vmax, v);
    vnan = _mm256_or_ps(vnan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
  }
  float bmax = hmax_avx2(vmax);
  bool nan = _mm256_movemask_ps(vnan) != 0;
  for (int j = i; j < n; ++j) {
    nan |= std::isnan(x[j]);
    bmax = x[j] > bmax ? x[j] : bmax;
  }
  if (nan || bmax == kInf) return block_special(x, n, inv_t, has_t, t_raw, base, acc);
  if (bmax == -kInf) return;
  update_argmax(x, n, bmax, inv_t, base, acc);
  const float m = bmax * inv_t;
  const __m256 vm = _mm256_set1_ps(m), vit = _mm256_set1_ps(inv_t), lo = _mm256_set1_ps(kMinExponent);
  const __m256 vt = _mm256_set1_ps(t_raw);
  __m256 s0 = _mm256_setzero_ps(), u0 = s0, w0 = s0, s1 = s0, u1 = s0, w1 = s0;
  int64_t greater = 0;
  i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
    __m256 da = _mm256_max_ps(_mm256_fmsub_ps(a, vit, vm), lo);
    __m256 db = _mm256_max_ps(_mm256_fmsub_ps(b, vit, vm), lo);
    __m256 ea = exp_avx2(da), eb = exp_avx2(db);
    s0 = _mm256_add_ps(s0, ea); s1 = _mm256_add_ps(s1, eb);
    __m256 eda = _mm256_mul_ps(ea, da), edb = _mm256_mul_ps(eb, db);
    u0 = _mm256_add_ps(u0, eda); u1 = _mm256_add_ps(u1, edb);
    w0 = _mm256_fmadd_ps(eda, da, w0); w1 = _mm256_fmadd_ps(edb, db, w1);
    if (has_t) {
      greater += __builtin_popcount(_mm256_movemask_ps(_mm256_cmp_ps(a, vt, _CMP_GT_OQ)));
      greater += __builtin_popcount(_mm256_movemask_ps(_mm256_cmp_ps(b, vt, _CMP_GT_OQ)));
    }
  }
  float s = hsum_avx2(_mm256_add_ps(s0, s1)), u = hsum_avx2(_mm256_add_ps(u0, u1)),
        w = hsum_avx2(_mm256_add_ps(w0, w1));
  for (; i < n; ++i) {
    float d = std::max(x[i] * inv_t - m, kMinExponent);
    float e = std::exp(d);
    s += e; u += e * d; w += e * d * d;
    greater += (has_t && x[i] > t_raw);
  }
  finish_block(bmax, inv_t, s, u, w, greater, acc);
}

LW_AVX2 void convert_avx2(const void* row, DType dt, int64_t begin, int n, float* out) {
  const uint16_t* src = static_cast<const uint16_t*>(row) + begin;
  int i = 0;
  if (dt == DType::BF16) {
    for (; i + 8 <= n; i += 8) {
      __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
      _mm256_storeu_ps(out + i, _mm256_castsi256_ps(_mm256_slli_epi32(w, 16)));
    }
  } else {
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  }
  for (; i < n; ++i) out[i] = load_as_float(row, dt, begin + i);
}

// ---------------------------------------------------------------------------------------------- AVX-512
#define LW_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx2,fma,f16c")))

LW_AVX512 inline __m512 exp_avx512(__m512 d) {
  const __m512 log2e = _mm512_set1_ps(1.44269504088896341f);
  const __m512 ln2_hi = _mm512_set1_ps(0.693145751953125f);
  const __m512 ln2_lo = _mm512_set1_ps(1.428606765330187e-06f);
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(d, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, ln2_hi, d);
  r = _mm512_fnmadd_ps(n, ln2_lo, r);
  __m512 p = _mm512_set1_ps(1.f / 720.f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  return _mm512_scalef_ps(p, n);
}

LW_AVX512 void block_avx512(const float* x, int n, float inv_t, bool has_t, float t_raw, int64_t base,
                            RowPartial& acc) {
  const __m512 ninf = _mm512_set1_ps(-kInf);
  __m512 vmax0 = ninf, vmax1 = ninf;
  __mmask16 nanm = 0;
  int i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
    vmax0 = _mm512_max_ps(vmax0, a);
    vmax1 = _mm512_max_ps(vmax1, b);
    nanm |= _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q);
  }
  for (; i < n; i += 16) {
    __mmask16 k = n - i >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << (n - i)) - 1);
    __m512 a = _mm512_mask_loadu_ps(ninf, k, x + i);
    vmax0 = _mm512_max_ps(vmax0, a);
    nanm |= _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q);
  }
  float bmax = _mm512_reduce_max_ps(_mm512_max_ps(vmax0, vmax1));
  if (nanm || bmax == kInf) return block_special(x, n, inv_t, has_t, t_raw, base, acc);
  if (bmax == -kInf) return;
  update_argmax(x, n, bmax, inv_t, base, acc);
  const float m = bmax * inv_t;
  const __m512 vm = _mm512_set1_ps(m), vit = _mm512_set1_ps(inv_t), lo = _mm512_set1_ps(kMinExponent);
  const __m512 vt = _mm512_set1_ps(t_raw);
  __m512 s0 = _mm512_setzero_ps(), u0 = s0, w0 = s0, s1 = s0, u1 = s0, w1 = s0;
  int64_t greater = 0;
  i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
    __m512 da = _mm512_max_ps(_mm512_fmsub_ps(a, vit, vm), lo);
    __m512 db = _mm512_max_ps(_mm512_fmsub_ps(b, vit, vm), lo);
    __m512 ea = exp_avx512(da), eb = exp_avx512(db);
    s0 = _mm512_add_ps(s0, ea); s1 = _mm512_add_ps(s1, eb);
    __m512 eda = _mm512_mul_ps(ea, da), edb = _mm512_mul_ps(eb, db);
    u0 = _mm512_add_ps(u0, eda); u1 = _mm512_add_ps(u1, edb);
    w0 = _mm512_fmadd_ps(eda, da, w0); w1 = _mm512_fmadd_ps(edb, db, w1);
    if (has_t) {
      greater += __builtin_popcount(_mm512_cmp_ps_mask(a, vt, _CMP_GT_OQ));
      greater += __builtin_popcount(_mm512_cmp_ps_mask(b, vt, _CMP_GT_OQ));
    }
  }
  for (; i < n; i += 16) {
    __mmask16 k = n - i >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << (n - i)) - 1);
    __m512 a = _mm512_mask_loadu_ps(ninf, k, x + i);
    __m512 da = _mm512_max_ps(_mm512_fmsub_ps(a, vit, vm), lo);
    __m512 ea = _mm512_maskz_mov_ps(k, exp_avx512(da));
    s0 = _mm512_add_ps(s0, ea);
    __m512 eda = _mm512_mul_ps(ea, da);
    u0 = _mm512_add_ps(u0, eda);
    w0 = _mm512_fmadd_ps(eda, da, w0);
    if (has_t) greater += __builtin_popcount(_mm512_mask_cmp_ps_mask(k, a, vt, _CMP_GT_OQ));
  }
  finish_block(bmax, inv_t, _mm512_reduce_add_ps(_mm512_add_ps(s0, s1)), _mm512_reduce_add_ps(_mm512_add_ps(u0, u1)),
               _mm512_reduce_add_ps(_mm512_add_ps(w0, w1)), greater, acc);
}

LW_AVX512 void convert_avx512(const void* row, DType dt, int64_t begin, int n, float* out) {
  const uint16_t* src = static_cast<const uint16_t*>(row) + begin;
  int i = 0;
  if (dt == DType::BF16) {
    for (; i + 16 <= n; i += 16) {
      __m512i w = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i)));
      _mm512_storeu_ps(out + i, _mm512_castsi512_ps(_mm512_slli_epi32(w, 16)));
    }
  } else {
    for (; i + 16 <= n; i += 16)
      _mm512_storeu_ps(out + i, _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
  }
  for (; i < n; ++i) out[i] = load_as_float(row, dt, begin + i);
}

#endif  // LW_SIMD_X86

// ---------------------------------------------------------------------------------------------- dispatch
using BlockFn = void (*)(const float*, int, float, bool, float, int64_t, RowPartial&);
using ConvertFn = void (*)(const void*, DType, int64_t, int, float*);

struct Path {
  BlockFn block;
  ConvertFn convert;
};

Path path_for(SimdLevel level) {
  switch (level) {
#if LW_SIMD_X86
    case SimdLevel::Avx512: return {block_avx512, convert_avx512};
    case SimdLevel::Avx2: return {block_avx2, convert_avx2};
#endif
    default: return {block_scalar, convert_scalar};
  }
}

}  // namespace

const char* simd_name() { return simd_level_name(simd_level()); }

void row_partial(const void* row, DType dtype, int64_t begin, int64_t end, float inv_temp, bool has_target,
                 float target_raw, RowPartial* out) {
  const Path p = path_for(simd_level());
  RowPartial acc;
  alignas(64) float buf[kBlock];
  for (int64_t b = begin; b < end; b += kBlock) {
    int n = static_cast<int>(std::min<int64_t>(kBlock, end - b));
    const float* x;
    if (dtype == DType::F32) {
      x = static_cast<const float*>(row) + b;
    } else {
      p.convert(row, dtype, b, n, buf);
      x = buf;
    }
    p.block(x, n, inv_temp, has_target, target_raw, b, acc);
  }
  *out = acc;
}

}  // namespace cpu
}  // namespace lw
