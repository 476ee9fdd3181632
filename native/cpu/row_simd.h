// Vectorised row reductions for the CPU kernels, with runtime dispatch (baseline scalar, AVX2+FMA+F16C; the exp
// sums also AVX-512, bit-identical to AVX2).
#pragma once
#include <cstdint>
#include <vector>

#include "../core/dtype.h"

namespace lw {
namespace cpu {

struct RowMax {
  float max;
  int64_t arg;     // lowest index attaining max
  bool nonfinite;  // a NaN or +Inf is present
};

// Max, first argmax and a NaN/+Inf flag of z[0..n).
RowMax row_max(const float* z, int64_t n);
// Σ exp((z[i] - m) * inv_t), accumulated in double lanes.
double row_sum_exp(const float* z, int64_t n, float m, float inv_t);
// w[i] = exp((z[i] - m) * inv_t) for every i; returns Σ w[i], bit-identical to row_sum_exp(z, n, m, inv_t).
double row_weights(const float* z, int64_t n, float m, float inv_t, float* w);
// Σ w[i] (double lanes) and the count over the i with z[i] >= t.
struct MassCount {
  double mass;
  int64_t count;
};
MassCount row_mass_at_least(const float* z, const float* w, int64_t n, float t);
// Appends to `out` every index i with z[i] >= t, in increasing order (z holds no NaN).
void row_indices_at_least(const float* z, int64_t n, float t, std::vector<int32_t>* out);
// dst[i] = src[i] as float for float16 / bfloat16 / float32 rows.
void row_to_float(const void* src, DType t, int64_t n, float* dst);
// Name of the SIMD level in use ("avx512", "avx2" or "scalar").
const char* row_simd_level();

}  // namespace cpu
}  // namespace lw
