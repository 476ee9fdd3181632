// logitStats (docs/logit-statistics.md §1): per-row logsumexp, entropy, varentropy, maxProb, argmax, and with targets the NLL
// and target rank, in one pass over each row.
#pragma once
#include <cstdint>
#include <vector>

#include "cancel.h"
#include "tensor.h"
#include "tuning.h"

namespace lw {

struct LogitStatsArgs {
  LogitsView logits;
  const int32_t* targets = nullptr;  // host, one per row, or null
  float temperature = 1.f;
  Cancel cancel;
  Tuning tuning = process_tuning();
};

// Host outputs, `rows` elements each; nll / target_rank only written when targets are given.
struct LogitStatsOut {
  float* logsumexp = nullptr;
  float* entropy = nullptr;
  float* varentropy = nullptr;
  float* max_prob = nullptr;
  int32_t* argmax = nullptr;
  float* nll = nullptr;
  int32_t* target_rank = nullptr;
  bool has_nan = false;           // some row contained NaN (its outputs are NaN)
  int64_t all_neg_inf_row = -1;   // first row whose logits are all −inf (an input error), or −1
};

// Validates and runs on `backend` (KernelTable::logit_stats; every backend has this contract).
void logit_stats(Backend backend, const LogitStatsArgs& args, LogitStatsOut& out);

// Benchmark support: kernel-only times (ms) of `iters` launches (KernelTable::logit_stats_timing).
std::vector<float> logit_stats_timing(Backend backend, const LogitStatsArgs& args, int iters);

}  // namespace lw
