// logitStats(logits, opts) → Promise<{ logsumexp, entropy, varentropy, maxProb, argmax, nll?, targetRank?, hasNaN }>
#include <memory>

#include "async.h"
#include "core/logit_stats.h"
#include "registry.h"
#include "tuning.h"
#include "unpack.h"

namespace lw {
namespace addon {
namespace {

Napi::Value LogitStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    host_mark("js call");
    Pins pins;
    Napi::Object opts = object(info[1], "opts");
    auto args = std::make_shared<LogitStatsArgs>();
    args->logits = logits(env, info[0], "logits", pins);
    host_mark("js logits unpacked");
    const int64_t rows = args->logits.rows;
    size_t nt = 0;
    args->targets = optional_typed_array<int32_t>(opts, "targets", napi_int32_array, "targets", &nt, pins);
    if (args->targets && static_cast<int64_t>(nt) != rows) {
      throw Error(ErrorKind::Range, "targets must have one entry per row (" + std::to_string(rows) + ")");
    }
    args->temperature = static_cast<float>(number(opts, "temperature", "temperature"));
    args->cancel.flag = cancel_flag(opts, pins);
    args->tuning = tuning_of(opts);
    Backend backend = backend_of(opts);
    const bool sync = boolean_or(opts, "sync", false);

    // Outputs are the caller's arrays of opts.out where given (validated by lib/logitStats.ts; checked again
    // here for type and length), else allocated here (JS thread); the worker writes them in place.
    Napi::Object result = Napi::Object::New(env);
    auto out = std::make_shared<LogitStatsOut>();
    Napi::Value out_v = opts.Get("out");
    const bool has_out = !out_v.IsUndefined() && !out_v.IsNull();
    Napi::Object given = has_out ? object(out_v, "opts.out") : Napi::Object::New(env);
    auto column = [&](const char* key, napi_typedarray_type type) -> void* {
      Napi::Value v = has_out ? given.Get(key) : env.Undefined();
      if (!v.IsUndefined() && !v.IsNull()) {
        const std::string name = std::string("opts.out.") + key;
        size_t n = 0;
        void* data = type == napi_float32_array ? static_cast<void*>(typed_array<float>(v, type, name.c_str(), &n))
                                                : static_cast<void*>(typed_array<int32_t>(v, type, name.c_str(), &n));
        if (static_cast<int64_t>(n) != rows)
          throw Error(ErrorKind::Range, name + " must have one entry per row (" + std::to_string(rows) + "), got " +
                                            std::to_string(n));
        pins.pin(v);
        result.Set(key, v);
        return data;
      }
      if (type == napi_float32_array) {
        auto a = Napi::Float32Array::New(env, static_cast<size_t>(rows));
        result.Set(key, a);
        return a.Data();
      }
      auto a = Napi::Int32Array::New(env, static_cast<size_t>(rows));
      result.Set(key, a);
      return a.Data();
    };
    auto f32 = [&](const char* key) { return static_cast<float*>(column(key, napi_float32_array)); };
    auto i32 = [&](const char* key) { return static_cast<int32_t*>(column(key, napi_int32_array)); };
    out->logsumexp = f32("logsumexp");
    out->entropy = f32("entropy");
    out->varentropy = f32("varentropy");
    out->max_prob = f32("maxProb");
    out->argmax = i32("argmax");
    if (args->targets) {
      out->nll = f32("nll");
      out->target_rank = i32("targetRank");
    }
    host_mark("js outputs allocated");
    auto result_ref = std::make_shared<Napi::ObjectReference>(Napi::Persistent(result));
    return run_async(
        env, [args, out, backend]() { logit_stats(backend, *args, *out); },
        [result_ref, out](Napi::Env env) -> Napi::Value {
          Napi::Object r = result_ref->Value();
          r.Set("hasNaN", Napi::Boolean::New(env, out->has_nan));
          return r;
        },
        std::move(pins), sync);
  });
}

}  // namespace

LW_EXPORT_FUNCTION("logitStats", LogitStats);

}  // namespace addon
}  // namespace lw
