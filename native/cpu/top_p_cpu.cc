#include "top_p_cpu.h"

#include <algorithm>
#include <cmath>

#include "row_simd.h"

namespace lw {
namespace cpu {
namespace {

constexpr double kMargin = 1e-5;   // relative slack of the bisection's masses (float weights, any order)
constexpr int64_t kCompact = 4096;  // bracket size from which the bisection works on a copy of the bracket
constexpr int64_t kRank = 64;       // bracket size that is ranked directly

}  // namespace

bool top_p_pivot(const float* z, const float* w, int64_t V, float m, float inv_t, double P, double Z, TopPScratch& s,
                 TopPPivot* out) {
  const double target = P * Z;
  // Invariants: mass(z >= lo) >= target (lo = -inf: the whole row), mass(z >= hi) = mhi < target.
  float lo = -INFINITY, hi = std::nextafter(m, INFINITY);
  int64_t nlo = V, nhi = 0;
  double mhi = 0.0;
  // The arrays the masses are taken over: the whole row, then (once the bracket is small) a copy of the bracket,
  // with the count and mass of what lies above it kept aside.
  const float* zs = z;
  const float* ws = w;
  int64_t n = V, above_n = 0;
  double above_m = 0.0;
  bool compacted = false;
  auto compact = [&] {
    s.ids.clear();
    row_indices_at_least(z, V, lo, &s.ids);
    s.z.clear();
    s.w.clear();
    size_t k = 0;
    for (int32_t x : s.ids)
      if (z[x] < hi) {
        s.ids[k++] = x;
        s.z.push_back(z[x]);
        s.w.push_back(w[x]);
      }
    s.ids.resize(k);
    zs = s.z.data();
    ws = s.w.data();
    n = static_cast<int64_t>(k);
    above_n = nhi;
    above_m = mhi;
    compacted = true;
  };
  for (int it = 0; it < 64 && nlo - nhi > kRank; ++it) {
    if (!compacted && nlo - nhi <= kCompact) compact();
    const float mid = lo == -INFINITY ? m - 20.f / inv_t : 0.5f * lo + 0.5f * hi;
    if (!(mid > lo && mid < hi)) break;
    const MassCount mc = row_mass_at_least(zs, ws, n, mid);
    const double S = above_m + mc.mass;
    if (S >= target * (1.0 + kMargin)) {
      lo = mid;
      nlo = above_n + mc.count;
    } else if (S < target * (1.0 - kMargin)) {
      hi = mid;
      nhi = above_n + mc.count;
      mhi = S;
    } else {
      break;  // the crossing is within rounding of mid's mass: rank the whole bracket
    }
  }
  if (!compacted) compact();
  // Rank the bracket [lo, hi) and run the mass down it, starting from the mass above it.
  size_t k = 0;
  for (int32_t x : s.ids)
    if (z[x] >= lo && z[x] < hi) s.ids[k++] = x;
  s.ids.resize(k);
  std::sort(s.ids.begin(), s.ids.end(), [z](int32_t a, int32_t b) { return z[a] > z[b] || (z[a] == z[b] && a < b); });
  double cum = mhi;
  if (cum >= target) return false;
  for (int32_t x : s.ids) {
    cum += w[x];
    if (cum >= target) {
      *out = TopPPivot{z[x], x};
      return true;
    }
  }
  return false;
}

}  // namespace cpu
}  // namespace lw
