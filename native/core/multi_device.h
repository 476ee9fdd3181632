// Work split over the GPUs of one host: contiguous ranges of independent items (bootstrap resamples, XL3M
// segments), one host thread per device, each running the backend's ordinary single-device entry point on its
// range. No inter-GPU communication: every item's result is computed exactly as on one device, so the output does
// not depend on how many devices took part.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lw {

// The devices a call asked for: `requested` empty = every visible device; else each entry checked against
// `visible` (RangeError naming `what`, e.g. "opts.devices", for an ordinal out of range). A device listed twice
// takes two ranges, run concurrently on it (two host threads, two per-thread streams).
std::vector<int> resolve_devices(const std::vector<int>& requested, int visible, const char* what);

// Item range [begin, end) of device slot `i` of `n` when `total` items are split evenly (earlier slots get the
// remainder).
inline void device_range(int64_t total, int i, int n, int64_t* begin, int64_t* end) {
  const int64_t q = total / n, r = total % n;
  *begin = i * q + (i < r ? i : r);
  *end = *begin + q + (i < r ? 1 : 0);
}

// Runs f(device, begin, end) for each device's range, devices.size() > 1 on their own threads (slot 0 on the
// calling thread); waits for all, then rethrows the first error (by slot order). Empty ranges are skipped.
void for_each_device(const std::vector<int>& devices, int64_t total,
                     const std::function<void(int device, int64_t begin, int64_t end)>& f);

}  // namespace lw
