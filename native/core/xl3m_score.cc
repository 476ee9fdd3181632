#include "xl3m_score.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "backend.h"
#include "device.h"
#include "error.h"
#include "multi_device.h"

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
  // Devices: only CUDA with host logits is ever split (device data lives on one device; the CPU backend ignores
  // the list, as the scaling fit does). An explicit list is resolved up front so a bad ordinal fails before any work.
  const bool split_host = backend == Backend::Cuda && !l.mem.on_device;
  if (backend == Backend::Cuda && l.mem.on_device && !a.devices.empty()) {
    throw_range("opts.devices applies to host logits; device data runs on its own device (device " +
                std::to_string(l.mem.device) + ")");
  }
  const int visible = split_host ? device::count() : 0;
  std::vector<int> devs;
  if (split_host && !a.devices.empty()) devs = resolve_devices(a.devices, visible, "opts.devices");
  // Row values are produced in blocks of at most kRowBlock rows, so scratch stays bounded for any input.
  constexpr int64_t kRowBlock = 1 << 16;
  std::vector<float> values(static_cast<size_t>(std::min(l.rows, kRowBlock)));
  const size_t row_bytes = static_cast<size_t>(l.vocab) * dtype_size(l.dtype);
  for (int64_t r0 = 0; r0 < l.rows; r0 += kRowBlock) {
    Xl3mChunkArgs sub = a;
    sub.devices.clear();
    sub.logits.rows = std::min(kRowBlock, l.rows - r0);
    sub.logits.mem.data = static_cast<const uint8_t*>(l.mem.data) + static_cast<size_t>(r0) * row_bytes;
    sub.targets = a.targets ? a.targets + r0 : nullptr;
    sub.row_offset = a.row_offset + r0;
    std::vector<int> block_devs = devs;
    if (split_host && a.devices.empty() && visible > 1 &&
        static_cast<int64_t>(static_cast<size_t>(sub.logits.rows) * row_bytes) >= kXl3mMultiDeviceMinBytes) {
      block_devs = resolve_devices({}, visible, "opts.devices");  // automatic: every visible device
    }
    if (block_devs.empty()) {
      row_values(sub, values.data());  // one device: `device` (or the data's own), unchanged single-device path
    } else {
      // Each slot scores a contiguous range of the block's rows on its device, and pooling below runs in row
      // order. A row's value depends on nothing but its data and its address modulo 16 (the CUDA kernel streams
      // 16-byte vectors between scalar head and tail elements): ranges start at multiples of `unit` rows, so every
      // row keeps, in its range's fresh staging buffer, the alignment it has in the whole block's, and the scores
      // are the same bits for any device list.
      const int64_t unit = 16 / static_cast<int64_t>(std::gcd(row_bytes, size_t(16)));
      const int64_t units = (sub.logits.rows + unit - 1) / unit;
      for_each_device(block_devs, units, [&](int dev, int64_t ub, int64_t ue) {
        const int64_t b = ub * unit, e = std::min(ue * unit, sub.logits.rows);
        Xl3mChunkArgs part = sub;
        part.device = dev;
        part.logits.rows = e - b;
        part.logits.mem.data = static_cast<const uint8_t*>(sub.logits.mem.data) + static_cast<size_t>(b) * row_bytes;
        part.targets = sub.targets ? sub.targets + b : nullptr;
        part.row_offset = sub.row_offset + b;
        row_values(part, values.data() + b);
      });
    }
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
