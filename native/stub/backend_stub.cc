// A minimal third backend: what adding one takes (this folder plus a sources.json group). It fills only the
// logitStats entry, with a plain float64 loop over host float32 logits; every other entry stays null, so core
// reports "the stub backend of this build has no …" for it. Linked only by the backend_stub check.
#include <cmath>
#include <limits>

#include "core/backend.h"
#include "core/error.h"
#include "core/logit_stats.h"

namespace lw {
namespace {

void logit_stats_stub(const LogitStatsArgs& a, LogitStatsOut& out) {
  const LogitsView& l = a.logits;
  if (l.dtype != DType::F32) throw_range("the stub backend reads float32 logits only");
  const float* z = static_cast<const float*>(l.mem.data);
  for (int64_t r = 0; r < l.rows; ++r) {
    const float* row = z + r * l.vocab;
    double m = -std::numeric_limits<double>::infinity();
    int64_t arg = 0;
    for (int64_t v = 0; v < l.vocab; ++v) {
      if (row[v] > m) m = row[v], arg = v;
    }
    if (m == -std::numeric_limits<double>::infinity()) {
      if (out.all_neg_inf_row < 0) out.all_neg_inf_row = r;
      continue;
    }
    const double t = a.temperature;
    double s = 0, s1 = 0, s2 = 0;
    for (int64_t v = 0; v < l.vocab; ++v) {
      const double x = (row[v] - m) / t, e = std::exp(x);
      s += e, s1 += e * x, s2 += e * x * x;
    }
    const double lse = std::log(s), mean = s1 / s;
    if (out.logsumexp) out.logsumexp[r] = static_cast<float>(m / t + lse);
    if (out.entropy) out.entropy[r] = static_cast<float>(lse - mean);
    if (out.varentropy) out.varentropy[r] = static_cast<float>(s2 / s - mean * mean);
    if (out.max_prob) out.max_prob[r] = static_cast<float>(1 / s);
    if (out.argmax) out.argmax[r] = static_cast<int32_t>(arg);
    if (a.targets && out.nll) out.nll[r] = static_cast<float>(lse - (row[a.targets[r]] - m) / t);
  }
}

KernelTable stub_table() {
  KernelTable t;
  t.name = "stub";
  t.logit_stats = logit_stats_stub;
  return t;
}

const KernelTable kStub = stub_table();
const BackendRegistrar kRegisterStub(kStub);

}  // namespace
}  // namespace lw
