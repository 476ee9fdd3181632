// Cooperative cancellation and progress for long native work. The flag lives in memory the caller owns
// (an Int32Array shared with JavaScript), so an AbortSignal can set it while native threads poll it.
#pragma once
#include <atomic>
#include <cstdint>
#include "error.h"

namespace lw {

struct Cancel {
  const volatile int32_t* flag = nullptr;  // non-zero = abort requested; may be null
  bool requested() const {
    if (!flag) return false;
    std::atomic_thread_fence(std::memory_order_acquire);
    return *flag != 0;
  }
  void check() const {
    if (requested()) throw_aborted();
  }
};

}  // namespace lw
