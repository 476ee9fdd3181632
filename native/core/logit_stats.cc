#include "logit_stats.h"

#include <cmath>
#include <string>

#include "error.h"

namespace lw {

void logit_stats(Backend backend, const LogitStatsArgs& args, LogitStatsOut& out) {
  const LogitsView& l = args.logits;
  if (!(args.temperature > 0.f) || !std::isfinite(args.temperature)) throw_range("temperature must be a finite number > 0");
  if (args.targets) {
    for (int64_t r = 0; r < l.rows; ++r) {
      if (args.targets[r] < 0 || args.targets[r] >= l.vocab) {
        throw_range("targets[" + std::to_string(r) + "] = " + std::to_string(args.targets[r]) +
                    " is out of range [0, vocab = " + std::to_string(l.vocab) + ")");
      }
    }
  }
  if (backend == Backend::Cuda) {
#if LW_WITH_CUDA
    logit_stats_cuda(args, out);
#else
    throw_runtime("this build of lengthwise has no CUDA backend");
#endif
  } else {
    if (l.mem.on_device) throw_range("logits.data is a DeviceTensor; the CPU backend needs host memory (download() it)");
    logit_stats_cpu(args, out);
  }
  if (out.all_neg_inf_row >= 0) {
    throw_range("logits row " + std::to_string(out.all_neg_inf_row) + " is all -Infinity (no distribution)");
  }
}

}  // namespace lw
