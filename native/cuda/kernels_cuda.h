// The CUDA backend's entry points (each with the contract of its capability header). backend_cuda.cu puts them
// in the CUDA KernelTable; GPU checks may call them directly.
#pragma once
#include <cstddef>
#include <vector>

#include "core/logit_stats.h"
#include "core/scaling/scaling.h"
#include "core/tree_verify.h"
#include "core/xl3m_score.h"

namespace lw {

void logit_stats_cuda(const LogitStatsArgs& args, LogitStatsOut& out);
// Kernel-only times (ms) of `iters` launches, measured with CUDA events.
std::vector<float> logit_stats_cuda_timing(const LogitStatsArgs& args, int iters);
void xl3m_row_values_cuda(const Xl3mChunkArgs& args, float* values);
TreeVerifyResult verify_tree_cuda(const TreeVerifyArgs& a, const TreePlan& plan);
// Times (ms) of `iters` device-to-device copies of `bytes` (read + write = 2 × bytes moved).
std::vector<float> device_copy_timing_cuda(int dev, size_t bytes, int iters);
namespace scaling {
void multistart_cuda(const MultiStartJob& job, FitResult* out /* resamples */);
}  // namespace scaling

}  // namespace lw
