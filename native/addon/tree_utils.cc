// treeUtils(trees, target, opts) → Promise<{ expected, reward?, nodeProb }>
// multidraftOptimal(p, q, n, opts) → Promise<{ lower, upper }>   (equal when exact)
#include <memory>
#include <vector>

#include "async.h"
#include "core/multidraft.h"
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

TreeView tree_view(const Napi::Value& v, Pins& pins) {
  Napi::Object o = object(v, "trees");
  TreeView t;
  size_t nt = 0, np = 0, no = 0;
  Napi::Value tok = o.Get("tokens"), par = o.Get("parents"), off = o.Get("offsets");
  t.tokens = typed_array<int32_t>(tok, napi_int32_array, "trees.tokens", &nt);
  t.parents = typed_array<int32_t>(par, napi_int32_array, "trees.parents", &np);
  t.offsets = typed_array<int32_t>(off, napi_int32_array, "trees.offsets", &no);
  pins.pin(tok);
  pins.pin(par);
  pins.pin(off);
  if (np != nt || no < 2 || t.offsets[no - 1] != static_cast<int64_t>(nt)) {
    throw Error(ErrorKind::Range, "trees: parents must match tokens and offsets must end at the node count");
  }
  t.batch = static_cast<int64_t>(no) - 1;
  return t;
}

Napi::Value TreeUtils(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    Pins pins;
    auto args = std::make_shared<TreeUtilsArgs>();
    args->trees = tree_view(info[0], pins);
    args->target = logits(env, info[1], "target", pins);
    Napi::Object opts = object(info[2], "opts");
    SamplingView& s = args->sampling;
    s.greedy = boolean_or(opts, "greedy", false);
    size_t len = 0;
    s.temperature = optional_typed_array<float>(opts, "temperature", napi_float32_array, "temperature", &len, pins);
    s.temperature_len = static_cast<int64_t>(len);
    s.top_k = optional_typed_array<int32_t>(opts, "topK", napi_int32_array, "topK", &len, pins);
    s.top_k_len = static_cast<int64_t>(len);
    s.top_p = optional_typed_array<float>(opts, "topP", napi_float32_array, "topP", &len, pins);
    s.top_p_len = static_cast<int64_t>(len);
    for (int64_t l : {s.temperature_len, s.top_k_len, s.top_p_len}) {
      if (l > 1 && l != args->trees.batch) throw Error(ErrorKind::Range, "sampling parameters need 1 or batch entries");
    }
    const int64_t drafts = static_cast<int64_t>(number_or(opts, "drafts", 0));
    if (drafts < 0 || drafts > 2) throw Error(ErrorKind::Range, "drafts must be 0, 1 or 2");
    args->drafts = static_cast<UtilDrafts>(drafts);
    if (drafts != 0) args->draft = logits(env, opts.Get("draft"), "draft", pins);
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

Napi::Value MultidraftOptimal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    Pins pins;
    size_t np = 0, nq = 0;
    const double* p = typed_array<double>(info[0], napi_float64_array, "p", &np);
    const double* q = typed_array<double>(info[1], napi_float64_array, "q", &nq);
    pins.pin(info[0]);
    pins.pin(info[1]);
    if (np != nq || np == 0) throw Error(ErrorKind::Range, "p and q must be non-empty and of equal length");
    if (!info[2].IsNumber()) throw_type("n must be a number");
    const int n = info[2].As<Napi::Number>().Int32Value();
    Napi::Object opts = object(info[3], "opts");
    const bool replacement = boolean_or(opts, "replacement", true);
    const bool bounds = boolean_or(opts, "bounds", false);
    Cancel cancel;
    cancel.flag = cancel_flag(opts, pins);
    auto out = std::make_shared<AcceptanceBounds>();
    const int64_t vocab = static_cast<int64_t>(np);
    return run_async(
        env,
        [p, q, vocab, n, replacement, bounds, cancel, out]() {
          if (replacement) {
            out->lower = out->upper = optimal_acceptance_iid(p, q, vocab, n);
          } else if (bounds) {
            *out = optimal_acceptance_wor_bounds(p, q, vocab, n, cancel);
          } else {
            out->lower = out->upper = optimal_acceptance_wor_exact(p, q, vocab, n);
          }
        },
        [out](Napi::Env env) -> Napi::Value {
          Napi::Object r = Napi::Object::New(env);
          r.Set("lower", Napi::Number::New(env, out->lower));
          r.Set("upper", Napi::Number::New(env, out->upper));
          return r;
        },
        std::move(pins));
  });
}

}  // namespace

LW_EXPORT_FUNCTION("treeUtils", TreeUtils);
LW_EXPORT_FUNCTION("multidraftOptimal", MultidraftOptimal);

}  // namespace addon
}  // namespace lw
