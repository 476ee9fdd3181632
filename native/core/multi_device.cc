#include "multi_device.h"

#include <exception>
#include <thread>

#include "error.h"

namespace lw {

std::vector<int> resolve_devices(const std::vector<int>& requested, int visible, const char* what) {
  std::vector<int> out;
  if (requested.empty()) {
    for (int d = 0; d < visible; ++d) out.push_back(d);
    return out;
  }
  for (size_t i = 0; i < requested.size(); ++i) {
    const int d = requested[i];
    if (d < 0 || d >= visible)
      throw_range(std::string(what) + "[" + std::to_string(i) + "] = " + std::to_string(d) + " is not a visible CUDA device (" +
                  std::to_string(visible) + " visible)");
    out.push_back(d);
  }
  return out;
}

void for_each_device(const std::vector<int>& devices, int64_t total,
                     const std::function<void(int, int64_t, int64_t)>& f) {
  const int n = static_cast<int>(devices.size());
  if (n <= 1) {
    if (total > 0) f(n == 1 ? devices[0] : 0, 0, total);
    return;
  }
  std::vector<std::exception_ptr> errors(static_cast<size_t>(n));
  auto slot = [&](int i) {
    int64_t b, e;
    device_range(total, i, n, &b, &e);
    if (b >= e) return;
    try {
      f(devices[i], b, e);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  };
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(n - 1));
  for (int i = 1; i < n; ++i) threads.emplace_back(slot, i);
  slot(0);
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace lw
