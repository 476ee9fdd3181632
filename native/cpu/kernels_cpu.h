// The CPU backend's entry points (each with the contract of its capability header). backend_cpu.cc puts them in
// the CPU KernelTable; native checks may call them directly.
#pragma once
#include "core/logit_stats.h"
#include "core/scaling/scaling.h"
#include "core/tree_verify.h"
#include "core/xl3m_score.h"

namespace lw {

void logit_stats_cpu(const LogitStatsArgs& args, LogitStatsOut& out);
void xl3m_row_values_cpu(const Xl3mChunkArgs& args, float* values);
TreeVerifyResult verify_tree_cpu(const TreeVerifyArgs& a, const TreePlan& plan);
namespace scaling {
void multistart_cpu(const MultiStartJob& job, FitResult* out /* resamples */);
}  // namespace scaling

}  // namespace lw
