// XL3M segment scoring (docs/xl3m.md): per row (one scored position of one sub-context) the entropy of the
// predictive distribution or the NLL of the target token, pooled over each segment's consecutive rows.
// Rows are pushed in order, possibly in chunks of any size; the pooling state is O(segments).
#pragma once
#include <cstdint>
#include <vector>

#include "cancel.h"
#include "tensor.h"
#include "tuning.h"

namespace lw {

enum class Xl3mMetric : int { Entropy = 0, Nll = 1 };
enum class Xl3mPooling : int { Mean = 0, Last = 1, Min = 2 };

// Pooling state: 4 doubles per segment {sum, min, last, count}; init with xl3m_pool_init.
constexpr int kXl3mStateStride = 4;

struct Xl3mChunkArgs {
  LogitsView logits;                  // chunk rows = global rows [row_offset, row_offset + logits.rows)
  const int32_t* targets = nullptr;   // host, one per chunk row; required for Nll
  float temperature = 1.f;
  Xl3mMetric metric = Xl3mMetric::Entropy;
  int64_t segments = 0;
  int64_t positions = 0;              // rows per segment
  int64_t row_offset = 0;
  // CUDA, host logits: the devices each row block is split over (core/multi_device.h; a device listed twice takes
  // two ranges concurrently). Empty = automatic: every visible device for a block of at least
  // kXl3mMultiDeviceMinBytes, else `device` alone. Ignored by the CPU backend; device-resident logits run on their
  // own device, and an explicit list with them is a Range error.
  std::vector<int> devices;
  int device = 0;                     // CUDA device host logits are uploaded to when not split
  Cancel cancel;
  Tuning tuning = process_tuning();
};

// Below this many bytes of host logits per row block an automatic device list keeps the block on one device:
// starting a thread per device (and, on a process's first call, each other GPU's context) costs more than
// uploading and reducing a few MiB on one GPU saves. At 64 MiB one GPU spends milliseconds on the host→device copy
// alone, which splitting spreads over every GPU's own PCIe link.
constexpr int64_t kXl3mMultiDeviceMinBytes = int64_t(64) << 20;

void xl3m_pool_init(double* state, int64_t segments);
// Folds row values (global rows [first_row, first_row + n), in order) into the state.
void xl3m_pool_rows(const float* values, int64_t first_row, int64_t n, int64_t positions, double* state);
// Scores from a state whose every row has been pushed; a segment with missing rows is a Range error.
void xl3m_pool_finish(const double* state, int64_t segments, int64_t positions, Xl3mPooling pooling, float* scores);

// Validates the chunk, computes its row values on `backend` and folds them into `state`.
void xl3m_push(Backend backend, const Xl3mChunkArgs& args, double* state);

// Backends (KernelTable::xl3m_rows): the metric value of every row of the chunk (entropy or NLL, after
// temperature). Rows whose logits are all −inf throw a Range error naming the global row.

// Float64 reference of one row's metric value (tests).
double xl3m_row_value_reference(const void* row, DType dtype, int64_t vocab, Xl3mMetric metric, int32_t target,
                                double temperature);

}  // namespace lw
