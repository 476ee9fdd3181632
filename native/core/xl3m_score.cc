#include "xl3m_score.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "backend.h"
#include "error.h"

namespace lw {

void xl3m_pool_init(double* state, int64_t segments) {
  for (int64_t s = 0; s < segments; ++s) {
    double* st = state + s * kXl3mStateStride;
    st[0] = 0.0;
    st[1] = std::numeric_limits<double>::infinity();
    st[2] = std::numeric_limits<double>::quiet_NaN();
    st[3] = 0.0;
  }
}

void xl3m_pool_rows(const float* values, int64_t first_row, int64_t n, int64_t positions, double* state) {
  for (int64_t i = 0; i < n; ++i) {
    double* st = state + ((first_row + i) / positions) * kXl3mStateStride;
    double v = values[i];
    st[0] += v;
    if (std::isnan(v) || v < st[1]) st[1] = std::isnan(st[1]) ? st[1] : v;
    st[2] = v;
    st[3] += 1.0;
  }
}

void xl3m_pool_finish(const double* state, int64_t segments, int64_t positions, Xl3mPooling pooling, float* scores) {
  for (int64_t s = 0; s < segments; ++s) {
    const double* st = state + s * kXl3mStateStride;
    if (st[3] != static_cast<double>(positions)) {
      throw_range("segment " + std::to_string(s) + " has " + std::to_string(static_cast<int64_t>(st[3])) +
                  " of its " + std::to_string(positions) + " rows: push all segments × positionsPerSegment rows first");
    }
    double v = pooling == Xl3mPooling::Mean ? st[0] / st[3] : pooling == Xl3mPooling::Min ? st[1] : st[2];
    scores[s] = static_cast<float>(v);
  }
}

void xl3m_push(Backend backend, const Xl3mChunkArgs& a, double* state) {
  const LogitsView& l = a.logits;
  if (a.segments < 1 || a.positions < 1) throw_range("segments and positionsPerSegment must be integers >= 1");
  if (a.row_offset < 0 || a.row_offset + l.rows > a.segments * a.positions) {
    throw_range("logits.rows = " + std::to_string(l.rows) + " at row " + std::to_string(a.row_offset) +
                " exceeds segments × positionsPerSegment = " + std::to_string(a.segments * a.positions));
  }
  if (!(a.temperature > 0.f) || !std::isfinite(a.temperature)) throw_range("temperature must be a finite number > 0");
  if (a.metric == Xl3mMetric::Nll) {
    if (!a.targets) throw_range("metric 'nll' needs targets (one Int32 per row)");
    for (int64_t r = 0; r < l.rows; ++r) {
      if (a.targets[r] < 0 || a.targets[r] >= l.vocab) {
        throw_range("targets[" + std::to_string(r) + "] = " + std::to_string(a.targets[r]) +
                    " is out of range [0, vocab = " + std::to_string(l.vocab) + ")");
      }
    }
  }
  const KernelTable& t = dispatch(backend, l.mem.on_device, "logits.data");
  const Xl3mRowsFn row_values = entry(t, t.xl3m_rows, "XL3M scoring");
  // Row values are produced in blocks of at most kRowBlock rows, so scratch stays bounded for any input.
  constexpr int64_t kRowBlock = 1 << 16;
  std::vector<float> values(static_cast<size_t>(std::min(l.rows, kRowBlock)));
  const size_t row_bytes = static_cast<size_t>(l.vocab) * dtype_size(l.dtype);
  for (int64_t r0 = 0; r0 < l.rows; r0 += kRowBlock) {
    Xl3mChunkArgs sub = a;
    sub.logits.rows = std::min(kRowBlock, l.rows - r0);
    sub.logits.mem.data = static_cast<const uint8_t*>(l.mem.data) + static_cast<size_t>(r0) * row_bytes;
    sub.targets = a.targets ? a.targets + r0 : nullptr;
    sub.row_offset = a.row_offset + r0;
    row_values(sub, values.data());
    xl3m_pool_rows(values.data(), sub.row_offset, sub.logits.rows, a.positions, state);
  }
}

double xl3m_row_value_reference(const void* row, DType dtype, int64_t vocab, Xl3mMetric metric, int32_t target,
                                double temperature) {
  double m = -std::numeric_limits<double>::infinity();
  for (int64_t v = 0; v < vocab; ++v) m = std::max(m, load_as_float(row, dtype, v) / temperature);
  double s = 0, u = 0;
  for (int64_t v = 0; v < vocab; ++v) {
    double x = load_as_float(row, dtype, v) / temperature;
    if (x == -std::numeric_limits<double>::infinity()) continue;
    double e = std::exp(x - m);
    s += e;
    u += e * (x - m);
  }
  if (metric == Xl3mMetric::Entropy) return std::log(s) - u / s;
  return m + std::log(s) - load_as_float(row, dtype, target) / temperature;
}

}  // namespace lw
