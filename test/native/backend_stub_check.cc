// Native check of the backend interface (core/backend.h): a third backend (native/stub, its own folder plus a
// sources.json group) registers by name and core dispatches to it beside the CPU one; its missing entries and an
// absent backend give core's one message each. Built and run by `npm run check:native` (check backend_stub).
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/error.h"
#include "core/logit_stats.h"
#include "core/tree_batch.h"
#include "core/tree_verify.h"

#include "check.h"

using namespace lw;

static std::string error_of(void (*f)()) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

int main() {
  const Backend stub = backend_named("stub");
  CHECK(stub != Backend::Cpu && stub != Backend::Cuda, "the stub got a built-in id");
  CHECK(backend_named("cpu") == Backend::Cpu, "cpu is not Backend::Cpu");
  CHECK(std::string(dispatch(stub, false, "logits").name) == "stub", "dispatch found another table");

  // logitStats through core on both backends: same validation, results within float32 rounding.
  std::mt19937 g(7);
  std::normal_distribution<float> n(0.f, 3.f);
  for (int64_t V : {1, 5, 257, 4099}) {
    const int64_t rows = 3;
    std::vector<float> z(rows * V);
    for (float& x : z) x = n(g);
    std::vector<int32_t> targets(rows);
    for (int64_t r = 0; r < rows; ++r) targets[r] = static_cast<int32_t>((r * 7919) % V);
    LogitStatsArgs a;
    a.logits.mem.data = z.data();
    a.logits.rows = rows;
    a.logits.vocab = V;
    a.targets = targets.data();
    a.temperature = 0.8f;
    std::vector<float> l[2], h[2], vh[2], mp[2], nll[2];
    std::vector<int32_t> am[2], rk[2];
    for (int b = 0; b < 2; ++b) {
      for (auto* v : {&l[b], &h[b], &vh[b], &mp[b], &nll[b]}) v->assign(rows, NAN);
      am[b].assign(rows, -1), rk[b].assign(rows, -1);
      LogitStatsOut o;
      o.logsumexp = l[b].data(), o.entropy = h[b].data(), o.varentropy = vh[b].data(), o.max_prob = mp[b].data();
      o.argmax = am[b].data(), o.nll = nll[b].data(), o.target_rank = rk[b].data();
      logit_stats(b == 0 ? Backend::Cpu : stub, a, o);
    }
    for (int64_t r = 0; r < rows; ++r) {
      auto close = [](float x, float y) { return std::fabs(x - y) <= 2e-5f * std::fmax(1.f, std::fabs(y)); };
      CHECK(close(l[1][r], l[0][r]) && close(h[1][r], h[0][r]) && close(vh[1][r], vh[0][r]) &&
                close(mp[1][r], mp[0][r]) && close(nll[1][r], nll[0][r]) && am[1][r] == am[0][r],
            "V=%lld row %lld: stub (%g %g %g %g %g %d) != cpu (%g %g %g %g %g %d)", static_cast<long long>(V),
            static_cast<long long>(r), l[1][r], h[1][r], vh[1][r], mp[1][r], nll[1][r], am[1][r], l[0][r], h[0][r],
            vh[0][r], mp[0][r], nll[0][r], am[0][r]);
    }
  }

  // Core's shared rules, one message each.
  const std::string no_entry = error_of([] {
    const KernelTable& t = dispatch(backend_named("stub"), false, "target");
    entry(t, t.verify_tree, "verifyTree");
  });
  CHECK(no_entry == "the stub backend of this build has no verifyTree", "missing entry: '%s'", no_entry.c_str());
  const std::string device = error_of([] { dispatch(backend_named("stub"), true, "logits.data"); });
  CHECK(device.find("device memory, which needs the CUDA backend") != std::string::npos, "device data: '%s'",
        device.c_str());
  const std::string absent = error_of([] { dispatch(Backend::Cuda, false, "logits.data"); });
  CHECK(absent.find("has no CUDA backend") != std::string::npos, "absent backend: '%s'", absent.c_str());
  const std::string unknown = error_of([] { backend_named("metal"); });
  CHECK(unknown == "backend 'metal' is not in this build (it has 'cpu', 'stub')", "unknown name: '%s'", unknown.c_str());

  if (failures) {
    std::printf("backend_stub: %d FAILURES\n", failures);
    return 1;
  }
  std::printf("backend_stub: a third backend registered by name and dispatched beside cpu; its missing entries, "
              "device data and an absent backend give core's messages: ok\n");
  return 0;
}
