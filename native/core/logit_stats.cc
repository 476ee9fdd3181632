#include "logit_stats.h"

#include <cmath>
#include <string>

#include "backend.h"
#include "error.h"
#include "row_error.h"

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
  const KernelTable& t = dispatch(backend, l.mem.on_device, "logits.data");
  entry(t, t.logit_stats, "logitStats")(args, out);
  if (out.all_neg_inf_row >= 0) throw_row_error("logits", out.all_neg_inf_row, RowError::AllNegInf);
}

std::vector<float> logit_stats_timing(Backend backend, const LogitStatsArgs& args, int iters) {
  const KernelTable& t = dispatch(backend, args.logits.mem.on_device, "logits.data");
  return entry(t, t.logit_stats_timing, "logitStats kernel timer")(args, iters);
}

}  // namespace lw
