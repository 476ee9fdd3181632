// treeUtils(trees, target, opts) → Promise<{ expected, reward?, nodeProb }>
// opts: { mode, the target-processing knobs (unpack_sampling), eta?, drafts, draft?, cancel }
// _processedDistribution(z: Float64Array, opts) → Float64Array: the float64 reference p_v (tests only).
#include <memory>
#include <vector>

#include "async.h"
#include "core/tree_utils.h"
#include "registry.h"
#include "unpack.h"

namespace lw {
namespace addon {
namespace {

Napi::Float64Array to_f64(Napi::Env env, const std::vector<double>& v) {
  auto a = Napi::Float64Array::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

Napi::Value TreeUtils(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    Pins pins;
    auto args = std::make_shared<TreeUtilsArgs>();
    args->trees = unpack_trees(info[0], pins);
    args->target = logits(env, info[1], "target", pins);
    Napi::Object opts = object(info[2], "opts");
    args->sampling = unpack_sampling(opts, args->trees.batch, pins);
    args->drafts = unpack_draft_kind(opts);
    if (args->drafts != DraftKind::Deterministic) args->draft = logits(env, opts.Get("draft"), "draft", pins);
    Napi::Value eta = opts.Get("eta");
    if (!eta.IsUndefined() && !eta.IsNull()) {
      args->want_reward = true;
      args->eta = number(opts, "eta", "eta");
    }
    args->cancel.flag = cancel_flag(opts, pins);
    auto out = std::make_shared<TreeUtilsResult>();
    return run_async(
        env, [args, out]() { *out = tree_utils(*args); },
        [out](Napi::Env env) -> Napi::Value {
          Napi::Object r = Napi::Object::New(env);
          r.Set("expected", to_f64(env, out->expected));
          if (!out->reward.empty()) r.Set("reward", to_f64(env, out->reward));
          r.Set("nodeProb", to_f64(env, out->node_prob));
          return r;
        },
        std::move(pins));
  });
}

Napi::Value ProcessedDistribution(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    Pins pins;
    size_t n = 0;
    const double* z = typed_array<double>(info[0], napi_float64_array, "z", &n);
    if (n == 0) throw Error(ErrorKind::Range, "z must not be empty");
    const SamplingParams s = unpack_sampling(object(info[1], "opts"), 1, pins);
    validate_sampling(s, 1);
    std::vector<double> p;
    processed_distribution(std::vector<double>(z, z + n), s.at(0), s.greedy, p);
    return to_f64(env, p);
  });
}

}  // namespace

LW_EXPORT_FUNCTION("treeUtils", TreeUtils);
LW_EXPORT_FUNCTION("_processedDistribution", ProcessedDistribution);

}  // namespace addon
}  // namespace lw
