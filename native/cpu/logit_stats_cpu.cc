#include <algorithm>
#include <vector>

#include "core/logit_stats.h"
#include "core/parallel.h"
#include "kernels_cpu.h"
#include "row_stats_cpu.h"

namespace lw {

namespace {

void write_row(const LogitStatsArgs& a, LogitStatsOut& out, int64_t r, const RowPartial& p, bool& nan_seen,
               int64_t& neg_inf_row) {
  bool has_t = a.targets != nullptr;
  float inv_t = 1.f / a.temperature;
  float tv = has_t ? load_as_float(a.logits.mem.data, a.logits.dtype, r * a.logits.vocab + a.targets[r]) * inv_t : 0.f;
  RowStats s = finalize_partial(p, has_t, tv);
  out.logsumexp[r] = s.logsumexp;
  out.entropy[r] = s.entropy;
  out.varentropy[r] = s.varentropy;
  out.max_prob[r] = s.max_prob;
  out.argmax[r] = s.argmax;
  if (has_t) {
    out.nll[r] = s.nll;
    out.target_rank[r] = s.target_rank;
  }
  if (s.nan) nan_seen = true;
  if (s.all_neg_inf && neg_inf_row < 0) neg_inf_row = r;
}

}  // namespace

void logit_stats_cpu(const LogitStatsArgs& a, LogitStatsOut& out) {
  const TuningScope tuning(a.tuning);  // the call's SIMD cap, seen by every pool thread it uses
  const LogitsView& l = a.logits;
  const int64_t rows = l.rows, vocab = l.vocab;
  const size_t esize = dtype_size(l.dtype);
  const float inv_t = 1.f / a.temperature;
  const bool has_t = a.targets != nullptr;
  auto row_ptr = [&](int64_t r) { return static_cast<const uint8_t*>(l.mem.data) + r * vocab * esize; };
  auto target_raw = [&](int64_t r) {
    return has_t ? load_as_float(l.mem.data, l.dtype, r * vocab + a.targets[r]) : 0.f;
  };

  // Few rows: split each row into column slices so every thread has work, then merge the partials.
  const int threads = pool_threads();
  const int64_t min_slice = 16384;
  int64_t splits = 1;
  if (rows < threads * 2) {
    splits = std::min<int64_t>((threads * 4 + rows - 1) / std::max<int64_t>(rows, 1), (vocab + min_slice - 1) / min_slice);
    splits = std::max<int64_t>(splits, 1);
  }
  std::vector<char> nan_flags(static_cast<size_t>(rows), 0);
  std::vector<int64_t> neg_inf(static_cast<size_t>(rows), -1);

  if (splits == 1) {
    parallel_for(static_cast<size_t>(rows), 1, [&](size_t b, size_t e) {
      for (size_t r = b; r < e; ++r) {
        a.cancel.check();
        RowPartial p;
        cpu::row_partial(row_ptr(r), l.dtype, 0, vocab, inv_t, has_t, target_raw(r), &p);
        bool nan = false;
        int64_t ni = -1;
        write_row(a, out, static_cast<int64_t>(r), p, nan, ni);
        nan_flags[r] = nan;
        neg_inf[r] = ni;
      }
    });
  } else {
    std::vector<RowPartial> parts(static_cast<size_t>(rows * splits));
    const int64_t slice = (vocab + splits - 1) / splits;
    parallel_for(static_cast<size_t>(rows * splits), 1, [&](size_t b, size_t e) {
      for (size_t t = b; t < e; ++t) {
        int64_t r = static_cast<int64_t>(t) / splits, k = static_cast<int64_t>(t) % splits;
        int64_t lo = k * slice, hi = std::min(vocab, lo + slice);
        if (lo < hi) cpu::row_partial(row_ptr(r), l.dtype, lo, hi, inv_t, has_t, target_raw(r), &parts[t]);
      }
    });
    a.cancel.check();
    for (int64_t r = 0; r < rows; ++r) {
      RowPartial p = parts[r * splits];
      for (int64_t k = 1; k < splits; ++k) merge_partial(p, parts[r * splits + k]);
      bool nan = false;
      int64_t ni = -1;
      write_row(a, out, r, p, nan, ni);
      nan_flags[r] = nan;
      neg_inf[r] = ni;
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    if (nan_flags[r]) out.has_nan = true;
    if (neg_inf[r] >= 0 && out.all_neg_inf_row < 0) out.all_neg_inf_row = neg_inf[r];
  }
}

}  // namespace lw
