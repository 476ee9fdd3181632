// One persistent process-wide thread pool. parallel_for splits [0, n) into chunks and runs them on the pool's
// workers and on the calling thread; it returns when every chunk is done and rethrows the first exception.
// Several callers (several AsyncWorkers, several worker_threads) may submit at once; nested calls run inline.
#pragma once
#include <cstddef>
#include <functional>

namespace lw {

// Number of threads that work on a parallel_for (workers + caller). LENGTHWISE_THREADS overrides (tuning.h).
int pool_threads();

// f(begin, end) over disjoint chunks of [0, n); `grain` = smallest chunk worth a task.
void parallel_for(size_t n, size_t grain, const std::function<void(size_t, size_t)>& f);

}  // namespace lw
