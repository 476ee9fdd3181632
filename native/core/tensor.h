// A plain view of caller-owned data: host memory or device memory (from DeviceTensor upload/wrap).
#pragma once
#include <cstdint>
#include "dtype.h"

namespace lw {

enum class Backend : int { Cpu = 0, Cuda = 1 };

struct MemView {
  const void* data = nullptr;
  bool on_device = false;  // true: `data` is a CUDA device pointer on `device`
  int device = 0;
};

// rows × vocab logits, row-major, contiguous.
struct LogitsView {
  MemView mem;
  DType dtype = DType::F32;
  int64_t rows = 0;
  int64_t vocab = 0;
};

}  // namespace lw
