// Code-path knobs: read from the environment once per process, then carried by value in each call's args
// (`tuning` field), so a test or benchmark picks a path by setting the field, never the environment.
#pragma once
#include <vector>

namespace lw {

struct Tuning {
  // LENGTHWISE_THREADS: threads of the native pool (0 = one per hardware thread). The pool is made once, with
  // the process's value; a call's copy does not resize it.
  int threads = 0;
  // LENGTHWISE_SIMD ('scalar' | 'avx2' | 'avx512'): the highest CPU SIMD level a call uses (0 scalar, 1 AVX2,
  // 2 AVX-512); the CPU's own support caps it further.
  int simd_cap = 2;
  // LENGTHWISE_TREE_PATH ('lazy' | 'rows'): verifyTree CUDA path; 0 = chosen per call, 1 = lazy walk, 2 = rows.
  int tree_path = 0;
  // LENGTHWISE_TREE_CLUSTER (n >= 1): verifyTree CUDA blocks per request, the largest resident power of two
  // <= n; 0 = chosen from occupancy.
  int tree_cluster = 0;
  // XL3M CUDA inner loop (no environment variable; benchmarks and checks): 0 = lean s,u loop with 128-thread
  // blocks, 1 = lean with 256-thread blocks, 2 = the shared full-statistics loop with 128-thread blocks.
  int xl3m_variant = 0;
  // Custom scaling laws on CUDA (no environment variable; benchmarks and checks): false = the register evaluator
  // wherever the program fits it (core/scaling/custom_plan.h), true = always the stack interpreter.
  bool custom_interpreter = false;
  // LENGTHWISE_HOST_TIMING=1: record host timestamps of each call's phases (unpack, plan, upload, launch, sync,
  // results, thread hop) for the per-call overhead benchmark (`_hostTimings()` of the addon reads them).
  bool host_timing = false;
  // LENGTHWISE_HOST_LEGACY=1: the CUDA host path as it was before the overhead work (pageable staging, the
  // device memory pool trimmed at every synchronisation), for same-run before/after benchmarks.
  bool host_legacy = false;
};

// Host phase timestamps (process-wide, only while process_tuning().host_timing): mark() appends
// (name, steady-clock ns); take_marks() returns and clears them. A benchmark makes one call at a time.
struct HostMark {
  const char* name;
  long long ns;
};
void host_mark(const char* name);
// A measured value (not a timestamp) recorded among the marks, e.g. a call's GPU time in ns from CUDA events.
void host_value(const char* name, long long value);
std::vector<HostMark> take_host_marks();

// The process's values, read from the environment on first use (the only place lengthwise reads it natively).
const Tuning& process_tuning();

// The tuning of the call running on this thread: the innermost TuningScope's, else process_tuning(). Pool
// workers see the scope of the thread that submitted the parallel_for they are running. CPU entry points open
// a scope with their args' tuning, so code deep below them (SIMD dispatch) follows the call's field.
const Tuning& current_tuning();

class TuningScope {
 public:
  explicit TuningScope(const Tuning& t);
  ~TuningScope();
  TuningScope(const TuningScope&) = delete;
  TuningScope& operator=(const TuningScope&) = delete;

 private:
  const Tuning* prev_;
};

}  // namespace lw
