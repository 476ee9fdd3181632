// Lean XL3M slice reduction (xl3m_row_cpu.h). Per block of kBlock columns: pass 1 streams the block from memory
// once for its max (16-bit inputs are widened into an L1 buffer on the way); pass 2 re-reads it from L1 and
// accumulates s = Σ e^(x−M) (and u = Σ e^(x−M)(x−M)) in vector lanes against the slice's running max M, while it
// prefetches the next block. The lanes are rescaled only when a block raises M (rare), so blocks need no
// horizontal sums and no per-block merges; the lanes are summed once, in a fixed order, at the slice's end.
// Exceptional blocks: a block whose max is +inf (or whose values are all −inf / NaN) is scanned for +inf and NaN
// counts only; a NaN anywhere else propagates into s (max(lo, NaN) keeps the NaN), and s = NaN flags the slice.
#include "xl3m_row_cpu.h"

#include "simd.h"
#if LW_SIMD_X86
// GCC 12 warns about _mm512_undefined_* inside its own intrinsics headers.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

#include "avx2_reduce.h"
#include "simd.h"

namespace lw {
namespace cpu {
namespace {

constexpr int kBlock = 2048;  // columns per block: pass 2 re-reads it from L1
constexpr float kInf = std::numeric_limits<float>::infinity();

// Per column d = x·inv_temp − M (one fused rounding, as logitStats) and e^d = 2^t, t = d·log2(e), split as 2^n · 2^r
// (n = round(t), r = t − n ∈ [−½, ½], exact); 2^r = 1 + r·(c1 + r·(c2 + … + r·c6)), near-minimax: relative error
// ≤ 1.0e-7 in fp32. The rounding of t adds a relative error ≤ |d|·6e-8 to e^d, the size of d's own rounding.
constexpr float kC1 = 6.931471825e-01f, kC2 = 2.402264774e-01f, kC3 = 5.550332367e-02f, kC4 = 9.618436918e-03f,
                kC5 = 1.339887502e-03f, kC6 = 1.535336196e-04f;
constexpr float kLog2e = 1.44269504088896341f;
// d below −86.5 (e^−86.5 ≈ 2.7e-38, still normal) is clamped: such a term cannot change an fp32 sum that holds
// the max's term 1, and −inf logits become this negligible constant instead of NaN.
constexpr float kMinD = -86.5f;

struct Acc {
  float raw = -kInf;  // max raw value of the finite blocks so far
  float m = -kInf;    // raw · inv_temp: the lanes hold e^(x·inv_temp − m)
  int64_t pos_inf = 0;
  bool nan = false;
};

// Blocks whose max is +inf, or that hold no finite value: count +inf and NaN (the finite values cannot matter:
// a row with +inf puts all its mass there; an all −inf block adds nothing).
void scan_special(const float* x, int n, Acc& a) {
  for (int i = 0; i < n; ++i) {
    if (std::isnan(x[i])) a.nan = true;
    else if (x[i] == kInf) ++a.pos_inf;
  }
}

// A finite block max `bmax`: when it raises the running max, returns true with the factors that move the lane
// sums to the new max: s' = f·s, u' = f·(u − δ·s), δ = new m − old m, f = e^−δ (false: nothing to move).
inline bool raise_max(Acc& a, float bmax, float inv_t, float* f, float* delta) {
  if (!(bmax > a.raw)) return false;
  const float m = bmax * inv_t;
  const bool had = a.raw != -kInf;
  *delta = had ? m - a.m : 0.f;
  *f = had ? std::exp(-*delta) : 1.f;
  a.raw = bmax;
  a.m = m;
  return had;
}

void finish(const Acc& a, float s, float u, RowPartial* out) {
  RowPartial p;
  p.pos_inf = a.pos_inf;
  p.nan = a.nan || std::isnan(s) || std::isnan(u);
  if (a.raw != -kInf) {
    p.m = a.m;
    p.s = s;
    p.u = u;
  }
  *out = p;
}

// ---------------------------------------------------------------------------------------------- scalar
inline float widen(const void* row, DType dt, int64_t i) { return load_as_float(row, dt, static_cast<size_t>(i)); }

template <DType DT, bool U>
void slice_scalar(const void* row, int64_t begin, int64_t end, float inv_t, RowPartial* out) {
  constexpr int kLanes = 16;  // independent partial sums, as the vector paths keep (a single fp32 sum drifts)
  float buf[kBlock];
  float s[kLanes] = {}, u[kLanes] = {};
  Acc a;
  for (int64_t b = begin; b < end; b += kBlock) {
    const int n = static_cast<int>(std::min<int64_t>(kBlock, end - b));
    float bmax = -kInf;
    for (int i = 0; i < n; ++i) {
      float v = DT == DType::F32 ? static_cast<const float*>(row)[b + i] : widen(row, DT, b + i);
      buf[i] = v;
      bmax = v > bmax ? v : bmax;  // NaN never wins
    }
    if (bmax == kInf || bmax == -kInf) {
      scan_special(buf, n, a);
      continue;
    }
    float f, dl;
    if (raise_max(a, bmax, inv_t, &f, &dl)) {
      for (int k = 0; k < kLanes; ++k) {
        u[k] = f * (u[k] - dl * s[k]);
        s[k] = f * s[k];
      }
    }
    for (int i = 0; i < n; ++i) {
      float d = std::fma(buf[i], inv_t, -a.m);
      d = d < kMinD ? kMinD : d;  // NaN stays NaN
      float e = std::exp(d);
      s[i % kLanes] += e;
      if (U) u[i % kLanes] += e * d;
    }
  }
  float st = 0.f, ut = 0.f;
  for (int k = 0; k < kLanes; ++k) {
    st += s[k];
    ut += u[k];
  }
  finish(a, st, U ? ut : 0.f, out);
}

#if LW_SIMD_X86
// ---------------------------------------------------------------------------------------------- AVX2

// e^d for d ∈ [kMinD, 0] (NaN → NaN).
LW_AVX2 inline __m256 exp_avx2(__m256 d) {
  __m256 t = _mm256_mul_ps(d, _mm256_set1_ps(kLog2e));
  __m256 n = _mm256_round_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_sub_ps(t, n);
  __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(kC6), r, _mm256_set1_ps(kC5));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kC4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kC3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kC2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kC1));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
  // n ∈ [−125, 0]: 2^n is a normal float built from its exponent bits.
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

template <bool U>
LW_AVX2 inline void step_avx2(__m256 x, __m256 vit, __m256 vm, __m256& s, __m256& u) {
  __m256 d = _mm256_max_ps(_mm256_set1_ps(kMinD), _mm256_fmsub_ps(x, vit, vm));  // NaN stays NaN
  __m256 e = exp_avx2(d);
  s = _mm256_add_ps(s, e);
  if (U) u = _mm256_fmadd_ps(e, d, u);
}

template <DType DT>
LW_AVX2 inline __m256 load8_avx2(const void* row, int64_t i) {
  if (DT == DType::F32) return _mm256_loadu_ps(static_cast<const float*>(row) + i);
  __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(row) + i));
  if (DT == DType::BF16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  return _mm256_cvtph_ps(h);
}

// Pass 2 prefetches the next block (the 32 columns at i + kBlock, i = the columns it is working on), so memory
// keeps streaming while the block in L1 is exponentiated: pass 1 then finds its lines on their way (measured on
// a 2-core Zen 5: at the plain memory-read speed, where the hardware prefetcher alone left ~25% on the table).
template <DType DT>
LW_AVX2 inline void prefetch_next_avx2(const void* row, int64_t i) {
  // Integer arithmetic: the address may lie past the row (a prefetch never faults; pointer arithmetic could be UB).
  const char* p = reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(row) +
                                                static_cast<uintptr_t>(i + kBlock) * (DT == DType::F32 ? 4 : 2));
  _mm_prefetch(p, _MM_HINT_T0);
  if (DT == DType::F32) _mm_prefetch(p + 64, _MM_HINT_T0);
}

template <DType DT, bool U>
LW_AVX2 void slice_avx2(const void* row, int64_t begin, int64_t end, float inv_t, RowPartial* out) {
  alignas(64) float buf[kBlock];
  const __m256 ninf = _mm256_set1_ps(-kInf), zero = _mm256_setzero_ps(), vit = _mm256_set1_ps(inv_t);
  __m256 s0 = zero, s1 = zero, s2 = zero, s3 = zero, u0 = zero, u1 = zero, u2 = zero, u3 = zero;
  float st = 0.f, ut = 0.f;  // scalar tails (< 8 columns per block)
  Acc a;
  for (int64_t b = begin; b < end; b += kBlock) {
    const int n = static_cast<int>(std::min<int64_t>(kBlock, end - b));
    const float* x = DT == DType::F32 ? static_cast<const float*>(row) + b : buf;
    // Pass 1: the block's max, streaming it from memory (16-bit inputs are widened into buf).
    __m256 m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
      __m256 v0 = load8_avx2<DT>(row, b + i), v1 = load8_avx2<DT>(row, b + i + 8);
      __m256 v2 = load8_avx2<DT>(row, b + i + 16), v3 = load8_avx2<DT>(row, b + i + 24);
      if (DT != DType::F32) {
        _mm256_store_ps(buf + i, v0); _mm256_store_ps(buf + i + 8, v1);
        _mm256_store_ps(buf + i + 16, v2); _mm256_store_ps(buf + i + 24, v3);
      }
      m0 = _mm256_max_ps(v0, m0); m1 = _mm256_max_ps(v1, m1);  // NaN in v never wins
      m2 = _mm256_max_ps(v2, m2); m3 = _mm256_max_ps(v3, m3);
    }
    for (; i + 8 <= n; i += 8) {
      __m256 v = load8_avx2<DT>(row, b + i);
      if (DT != DType::F32) _mm256_store_ps(buf + i, v);
      m0 = _mm256_max_ps(v, m0);
    }
    float bmax = hmax_avx2(_mm256_max_ps(_mm256_max_ps(m0, m1), _mm256_max_ps(m2, m3)));
    const int vec_end = i;
    for (; i < n; ++i) {
      float v = DT == DType::F32 ? x[i] : widen(row, DT, b + i);
      if (DT != DType::F32) buf[i] = v;
      bmax = v > bmax ? v : bmax;
    }
    if (bmax == kInf || bmax == -kInf) {
      scan_special(x, n, a);
      continue;
    }
    float f, dl;
    if (raise_max(a, bmax, inv_t, &f, &dl)) {
      const __m256 vf = _mm256_set1_ps(f), vd = _mm256_set1_ps(dl);
      if (U) {
        u0 = _mm256_mul_ps(vf, _mm256_fnmadd_ps(vd, s0, u0)); u1 = _mm256_mul_ps(vf, _mm256_fnmadd_ps(vd, s1, u1));
        u2 = _mm256_mul_ps(vf, _mm256_fnmadd_ps(vd, s2, u2)); u3 = _mm256_mul_ps(vf, _mm256_fnmadd_ps(vd, s3, u3));
        ut = f * (ut - dl * st);
      }
      s0 = _mm256_mul_ps(vf, s0); s1 = _mm256_mul_ps(vf, s1);
      s2 = _mm256_mul_ps(vf, s2); s3 = _mm256_mul_ps(vf, s3);
      st = f * st;
    }
    // Pass 2: the block again, from L1.
    const __m256 vm = _mm256_set1_ps(a.m);
    i = 0;
    for (; i + 32 <= n; i += 32) {
      prefetch_next_avx2<DT>(row, b + i);
      step_avx2<U>(_mm256_loadu_ps(x + i), vit, vm, s0, u0);
      step_avx2<U>(_mm256_loadu_ps(x + i + 8), vit, vm, s1, u1);
      step_avx2<U>(_mm256_loadu_ps(x + i + 16), vit, vm, s2, u2);
      step_avx2<U>(_mm256_loadu_ps(x + i + 24), vit, vm, s3, u3);
    }
    for (; i < vec_end; i += 8) step_avx2<U>(_mm256_loadu_ps(x + i), vit, vm, s0, u0);
    for (; i < n; ++i) {
      float d = std::fma(x[i], inv_t, -a.m);
      d = d < kMinD ? kMinD : d;
      float e = std::exp(d);
      st += e;
      if (U) ut += e * d;
    }
  }
  float s = hsum_avx2(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3))) + st;
  float u = U ? hsum_avx2(_mm256_add_ps(_mm256_add_ps(u0, u1), _mm256_add_ps(u2, u3))) + ut : 0.f;
  finish(a, s, u, out);
}

// ---------------------------------------------------------------------------------------------- AVX-512
#define LW_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx2,fma,f16c")))

// e^d for d ∈ [kMinD, 0] (NaN → NaN).
LW_AVX512 inline __m512 exp_avx512(__m512 d) {
  __m512 t = _mm512_mul_ps(d, _mm512_set1_ps(kLog2e));
  __m512 n = _mm512_roundscale_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_sub_ps(t, n);
  __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(kC6), r, _mm512_set1_ps(kC5));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kC4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kC3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kC2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kC1));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
  return _mm512_scalef_ps(p, n);
}

template <bool U>
LW_AVX512 inline void step_avx512(__m512 x, __m512 vit, __m512 vm, __m512& s, __m512& u) {
  __m512 d = _mm512_max_ps(_mm512_set1_ps(kMinD), _mm512_fmsub_ps(x, vit, vm));  // NaN stays NaN
  __m512 e = exp_avx512(d);
  s = _mm512_add_ps(s, e);
  if (U) u = _mm512_fmadd_ps(e, d, u);
}

template <DType DT>
LW_AVX512 inline __m512 load16_avx512(const void* row, int64_t i) {
  if (DT == DType::F32) return _mm512_loadu_ps(static_cast<const float*>(row) + i);
  __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(row) + i));
  if (DT == DType::BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  return _mm512_cvtph_ps(h);
}

// As prefetch_next_avx2: the 64 columns at i + kBlock.
template <DType DT>
LW_AVX512 inline void prefetch_next_avx512(const void* row, int64_t i) {
  // Integer arithmetic: the address may lie past the row (a prefetch never faults; pointer arithmetic could be UB).
  const char* p = reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(row) +
                                                static_cast<uintptr_t>(i + kBlock) * (DT == DType::F32 ? 4 : 2));
  _mm_prefetch(p, _MM_HINT_T0);
  _mm_prefetch(p + 64, _MM_HINT_T0);
  if (DT == DType::F32) {
    _mm_prefetch(p + 128, _MM_HINT_T0);
    _mm_prefetch(p + 192, _MM_HINT_T0);
  }
}

template <DType DT, bool U>
LW_AVX512 void slice_avx512(const void* row, int64_t begin, int64_t end, float inv_t, RowPartial* out) {
  alignas(64) float buf[kBlock];
  const __m512 ninf = _mm512_set1_ps(-kInf), zero = _mm512_setzero_ps(), vit = _mm512_set1_ps(inv_t);
  __m512 s0 = zero, s1 = zero, s2 = zero, s3 = zero, u0 = zero, u1 = zero, u2 = zero, u3 = zero;
  Acc a;
  for (int64_t b = begin; b < end; b += kBlock) {
    const int n = static_cast<int>(std::min<int64_t>(kBlock, end - b));
    const float* x = DT == DType::F32 ? static_cast<const float*>(row) + b : buf;
    // Pass 1: the block's max, streaming it from memory (16-bit inputs are widened into buf).
    __m512 m0 = ninf, m1 = ninf, m2 = ninf, m3 = ninf;
    int i = 0;
    for (; i + 64 <= n; i += 64) {
      __m512 v0 = load16_avx512<DT>(row, b + i), v1 = load16_avx512<DT>(row, b + i + 16);
      __m512 v2 = load16_avx512<DT>(row, b + i + 32), v3 = load16_avx512<DT>(row, b + i + 48);
      if (DT != DType::F32) {
        _mm512_store_ps(buf + i, v0); _mm512_store_ps(buf + i + 16, v1);
        _mm512_store_ps(buf + i + 32, v2); _mm512_store_ps(buf + i + 48, v3);
      }
      m0 = _mm512_max_ps(v0, m0); m1 = _mm512_max_ps(v1, m1);  // NaN in v never wins
      m2 = _mm512_max_ps(v2, m2); m3 = _mm512_max_ps(v3, m3);
    }
    for (; i + 16 <= n; i += 16) {
      __m512 v = load16_avx512<DT>(row, b + i);
      if (DT != DType::F32) _mm512_store_ps(buf + i, v);
      m0 = _mm512_max_ps(v, m0);
    }
    const __mmask16 tail = static_cast<__mmask16>((1u << (n - i)) - 1);  // the last < 16 columns
    if (tail) {
      if (DT != DType::F32)
        for (int j = i; j < n; ++j) buf[j] = widen(row, DT, b + j);
      m1 = _mm512_max_ps(_mm512_mask_loadu_ps(ninf, tail, x + i), m1);
    }
    const float bmax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(m0, m1), _mm512_max_ps(m2, m3)));
    if (bmax == kInf || bmax == -kInf) {
      scan_special(x, n, a);
      continue;
    }
    float f, dl;
    if (raise_max(a, bmax, inv_t, &f, &dl)) {
      const __m512 vf = _mm512_set1_ps(f), vd = _mm512_set1_ps(dl);
      if (U) {
        u0 = _mm512_mul_ps(vf, _mm512_fnmadd_ps(vd, s0, u0)); u1 = _mm512_mul_ps(vf, _mm512_fnmadd_ps(vd, s1, u1));
        u2 = _mm512_mul_ps(vf, _mm512_fnmadd_ps(vd, s2, u2)); u3 = _mm512_mul_ps(vf, _mm512_fnmadd_ps(vd, s3, u3));
      }
      s0 = _mm512_mul_ps(vf, s0); s1 = _mm512_mul_ps(vf, s1);
      s2 = _mm512_mul_ps(vf, s2); s3 = _mm512_mul_ps(vf, s3);
    }
    // Pass 2: the block again, from L1.
    const __m512 vm = _mm512_set1_ps(a.m);
    int j = 0;
    for (; j + 64 <= n; j += 64) {
      prefetch_next_avx512<DT>(row, b + j);
      step_avx512<U>(_mm512_loadu_ps(x + j), vit, vm, s0, u0);
      step_avx512<U>(_mm512_loadu_ps(x + j + 16), vit, vm, s1, u1);
      step_avx512<U>(_mm512_loadu_ps(x + j + 32), vit, vm, s2, u2);
      step_avx512<U>(_mm512_loadu_ps(x + j + 48), vit, vm, s3, u3);
    }
    for (; j < i; j += 16) step_avx512<U>(_mm512_loadu_ps(x + j), vit, vm, s0, u0);
    if (tail) {  // masked lanes load −inf → d = kMinD, then e is zeroed
      __m512 d = _mm512_max_ps(_mm512_set1_ps(kMinD), _mm512_fmsub_ps(_mm512_mask_loadu_ps(ninf, tail, x + i), vit, vm));
      __m512 e = _mm512_maskz_mov_ps(tail, exp_avx512(d));
      s1 = _mm512_add_ps(s1, e);
      if (U) u1 = _mm512_fmadd_ps(e, d, u1);
    }
  }
  float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
  float u = U ? _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(u0, u1), _mm512_add_ps(u2, u3))) : 0.f;
  finish(a, s, u, out);
}

#endif  // LW_SIMD_X86

// ---------------------------------------------------------------------------------------------- dispatch
using SliceFn = void (*)(const void*, int64_t, int64_t, float, RowPartial*);

template <DType DT, bool U>
SliceFn pick(SimdLevel level) {
  switch (level) {
#if LW_SIMD_X86
    case SimdLevel::Avx512: return slice_avx512<DT, U>;
    case SimdLevel::Avx2: return slice_avx2<DT, U>;
#endif
    default: return slice_scalar<DT, U>;
  }
}

template <bool U>
SliceFn pick(SimdLevel level, DType dt) {
  switch (dt) {
    case DType::F32: return pick<DType::F32, U>(level);
    case DType::F16: return pick<DType::F16, U>(level);
    default: return pick<DType::BF16, U>(level);
  }
}

}  // namespace

void xl3m_slice_partial(const void* row, DType dtype, int64_t begin, int64_t end, float inv_temp, bool want_u,
                        RowPartial* out) {
  const SimdLevel level = simd_level();
  SliceFn f = want_u ? pick<true>(level, dtype) : pick<false>(level, dtype);
  f(row, begin, end, inv_temp, out);
}

}  // namespace cpu
}  // namespace lw
