// multidraftOptimal(p, q, n, opts) → Promise<{ lower, upper }>   (equal when exact)
// opts: { replacement?: boolean (default true), bounds?: boolean, cancel }
#include <memory>

#include "async.h"
#include "core/multidraft.h"
#include "registry.h"
#include "unpack.h"

namespace lw {
namespace addon {
namespace {

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

LW_EXPORT_FUNCTION("multidraftOptimal", MultidraftOptimal);

}  // namespace addon
}  // namespace lw
