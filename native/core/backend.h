// The backend interface (docs/architecture.md §2), in the spirit of ggml's ggml_backend_i: every backend folder (cpu/,
// cuda/, …) fills one KernelTable and registers it at load time (BackendRegistrar); core finds it with
// dispatch() and never names a backend's functions or build flags. A backend missing from the build simply has
// no table, so "not in this build" is one rule here instead of an #if in every capability.
#pragma once
#include <cstddef>
#include <vector>

#include "tensor.h"

namespace lw {

struct LogitStatsArgs;
struct LogitStatsOut;
struct Xl3mChunkArgs;
struct TreeVerifyArgs;
struct TreePlan;
struct TreeVerifyResult;
namespace scaling {
struct MultiStartJob;
struct FitResult;
}  // namespace scaling

using LogitStatsFn = void (*)(const LogitStatsArgs&, LogitStatsOut&);
using Xl3mRowsFn = void (*)(const Xl3mChunkArgs&, float* values);
using MultistartFn = void (*)(const scaling::MultiStartJob&, scaling::FitResult* out /* resamples */);
using TreeVerifyFn = TreeVerifyResult (*)(const TreeVerifyArgs&, const TreePlan&);
using LogitStatsTimingFn = std::vector<float> (*)(const LogitStatsArgs&, int iters);
using CopyTimingFn = std::vector<float> (*)(int device, size_t bytes, int iters);

// Entry points of one backend; each has the contract of its capability header (logit_stats.h, …).
struct KernelTable {
  const char* name = nullptr;    // as the `backend` option spells it: "cpu", "cuda"
  bool device_memory = false;    // reads device pointers (MemView::on_device) in place
  LogitStatsFn logit_stats = nullptr;
  Xl3mRowsFn xl3m_rows = nullptr;
  MultistartFn multistart = nullptr;
  TreeVerifyFn verify_tree = nullptr;
  // Benchmark support (optional): kernel-only times in ms measured on the device's own clock.
  LogitStatsTimingFn logit_stats_timing = nullptr;
  CopyTimingFn copy_timing = nullptr;
};

// Registers `table` under table.name: "cpu" and "cuda" take their Backend values; any other name (a new backend
// folder) takes the next free id, found with backend_named(). Nothing outside the backend's folder changes.
struct BackendRegistrar {
  explicit BackendRegistrar(const KernelTable& table);
};

// The id of the registered backend spelled `name`; a Range error listing the registered names otherwise.
Backend backend_named(const char* name);

// The table of `backend` for a call whose data is on a device (on_device) or in host memory. Applies the rules
// every capability shares, each with one message: a backend not in this build is a Runtime error; device data
// is a Range error when no backend of this build reads device memory, or when the chosen backend needs host
// memory. `what` names the argument holding the data (e.g. "logits").
const KernelTable& dispatch(Backend backend, bool on_device, const char* what);

// The table of `backend` if this build has it, else null (no rule applied).
const KernelTable* find_backend(Backend backend);

// `fn` if the backend provides it; otherwise a Runtime error naming the backend and `what` (a backend may leave
// entries it does not implement null).
template <typename Fn>
Fn entry(const KernelTable& t, Fn fn, const char* what);

[[noreturn]] void throw_no_entry(const KernelTable& t, const char* what);

template <typename Fn>
Fn entry(const KernelTable& t, Fn fn, const char* what) {
  if (!fn) throw_no_entry(t, what);
  return fn;
}

}  // namespace lw
