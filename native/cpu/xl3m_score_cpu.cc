// CPU row values for XL3M scoring. Every row is reduced in fixed column slices merged left to right, so a row's
// value is bit-identical however the rows are chunked or threaded (streaming == one-shot exactly). Slices use the
// lean reduction of xl3m_row_cpu.h (max, Σe, and Σe·(x−m) for entropy only), not logitStats' full statistics.
#include <algorithm>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "core/row_error.h"
#include "core/row_stats.h"
#include "core/xl3m_score.h"
#include "kernels_cpu.h"
#include "xl3m_row_cpu.h"

namespace lw {

namespace {

constexpr int64_t kSlice = 16384;  // columns per slice; a multiple of the slice kernel's block

float row_value(const Xl3mChunkArgs& a, int64_t r, const RowPartial& p) {
  const LogitsView& l = a.logits;
  const bool nll = a.metric == Xl3mMetric::Nll;
  const float inv_t = 1.f / a.temperature;
  float tv = nll ? load_as_float(l.mem.data, l.dtype, static_cast<size_t>(r * l.vocab + a.targets[r])) * inv_t : 0.f;
  RowStats s = finalize_partial(p, nll, tv);
  if (s.all_neg_inf) throw_row_error("logits", a.row_offset + r, RowError::AllNegInf);
  return nll ? s.nll : s.entropy;
}

}  // namespace

void xl3m_row_values_cpu(const Xl3mChunkArgs& a, float* values) {
  const TuningScope tuning(a.tuning);  // the call's SIMD cap, seen by every pool thread it uses
  const LogitsView& l = a.logits;
  const int64_t rows = l.rows, vocab = l.vocab;
  const size_t esize = dtype_size(l.dtype);
  const float inv_t = 1.f / a.temperature;
  const int64_t slices = (vocab + kSlice - 1) / kSlice;
  auto row_ptr = [&](int64_t r) { return static_cast<const uint8_t*>(l.mem.data) + r * vocab * esize; };
  const bool want_u = a.metric == Xl3mMetric::Entropy;
  auto slice_partial = [&](int64_t r, int64_t k, RowPartial* p) {
    int64_t lo = k * kSlice, hi = std::min(vocab, lo + kSlice);
    cpu::xl3m_slice_partial(row_ptr(r), l.dtype, lo, hi, inv_t, want_u, p);
  };
  const int threads = pool_threads();
  if (slices == 1 || rows >= 2 * threads) {
    // Enough rows: a task reduces whole rows, slices in order. Small rows are grouped so a task is >= ~16k columns.
    size_t grain = static_cast<size_t>(std::max<int64_t>(1, kSlice / vocab));
    parallel_for(static_cast<size_t>(rows), grain, [&](size_t b, size_t e) {
      a.cancel.check();
      for (size_t r = b; r < e; ++r) {
        RowPartial acc, p;
        for (int64_t k = 0; k < slices; ++k) {
          slice_partial(static_cast<int64_t>(r), k, &p);
          if (k == 0) acc = p;
          else merge_partial(acc, p);
        }
        values[r] = row_value(a, static_cast<int64_t>(r), acc);
      }
    });
    return;
  }
  // Few long rows: one task per (row, slice), then the same left-to-right merge.
  std::vector<RowPartial> parts(static_cast<size_t>(rows * slices));
  parallel_for(parts.size(), 1, [&](size_t b, size_t e) {
    a.cancel.check();
    for (size_t t = b; t < e; ++t) slice_partial(static_cast<int64_t>(t) / slices, static_cast<int64_t>(t) % slices, &parts[t]);
  });
  for (int64_t r = 0; r < rows; ++r) {
    RowPartial acc = parts[r * slices];
    for (int64_t k = 1; k < slices; ++k) merge_partial(acc, parts[r * slices + k]);
    values[r] = row_value(a, r, acc);
  }
}

}  // namespace lw
