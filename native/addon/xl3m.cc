// xl3mScore(logits, opts) → Promise<Float32Array>          one-shot: every segments × positions row at once
// xl3mPush(logits, opts) → Promise<undefined>              streaming: folds a chunk into opts.state (Float64Array)
// xl3mFinish(state, opts) → Float32Array                   streaming: scores from a complete state
// opts: { segments, positions, metric: 'entropy' | 'nll', pooling: 'mean' | 'last' | 'min', targets?, temperature,
//         rowOffset (push), state (push), backend, cancel, devices? }   (every key required except targets and
//         devices: absent = automatic; lib/xl3m/score.ts)
#include <memory>
#include <string>
#include <vector>

#include "async.h"
#include "core/xl3m_score.h"
#include "registry.h"
#include "tuning.h"
#include "unpack.h"

namespace lw {
namespace addon {
namespace {

std::shared_ptr<Xl3mChunkArgs> chunk_args(Napi::Env env, const Napi::CallbackInfo& info, Napi::Object& opts, Pins& pins) {
  opts = object(info[1], "opts");
  auto a = std::make_shared<Xl3mChunkArgs>();
  a->logits = logits(env, info[0], "logits", pins);
  a->segments = integer(opts, "segments", "segments");
  a->positions = integer(opts, "positions", "positionsPerSegment");
  a->metric = enum_of<Xl3mMetric>(opts, "metric", "metric", {{"entropy", Xl3mMetric::Entropy}, {"nll", Xl3mMetric::Nll}});
  size_t nt = 0;
  a->targets = optional_typed_array<int32_t>(opts, "targets", napi_int32_array, "targets", &nt, pins);
  if (a->targets && static_cast<int64_t>(nt) != a->logits.rows) {
    throw Error(ErrorKind::Range, "targets must have one entry per logits row (" + std::to_string(a->logits.rows) + ")");
  }
  a->temperature = static_cast<float>(number(opts, "temperature", "temperature"));
  a->devices = devices_of(opts);  // CUDA, host logits: the GPUs to split rows over (core/xl3m_score.h)
  a->cancel.flag = cancel_flag(opts, pins);
  a->tuning = tuning_of(opts);
  return a;
}

Xl3mPooling pooling_of(const Napi::Object& opts) {
  return enum_of<Xl3mPooling>(opts, "pooling", "pooling",
                              {{"mean", Xl3mPooling::Mean}, {"last", Xl3mPooling::Last}, {"min", Xl3mPooling::Min}});
}

Napi::Value Score(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    Pins pins;
    Napi::Object opts;
    auto a = chunk_args(env, info, opts, pins);
    Xl3mPooling pooling = pooling_of(opts);
    Backend backend = backend_of(opts);
    if (a->segments < 1 || a->positions < 1 || a->logits.rows != a->segments * a->positions) {
      throw Error(ErrorKind::Range, "logits.rows must equal segments × positionsPerSegment");
    }
    auto scores = Napi::Float32Array::New(env, static_cast<size_t>(a->segments));
    auto scores_ref = std::make_shared<Napi::ObjectReference>(Napi::Persistent(scores.As<Napi::Object>()));
    float* out = scores.Data();
    return run_async(
        env,
        [a, backend, pooling, out]() {
          std::vector<double> state(static_cast<size_t>(a->segments * kXl3mStateStride));
          xl3m_pool_init(state.data(), a->segments);
          xl3m_push(backend, *a, state.data());
          xl3m_pool_finish(state.data(), a->segments, a->positions, pooling, out);
        },
        [scores_ref](Napi::Env) -> Napi::Value { return scores_ref->Value(); }, std::move(pins));
  });
}

double* state_of(const Napi::Value& v, int64_t segments) {
  size_t n = 0;
  double* s = typed_array<double>(v, napi_float64_array, "state", &n);
  if (static_cast<int64_t>(n) != segments * kXl3mStateStride) {
    throw Error(ErrorKind::Range, "state must be a Float64Array of 4 × segments entries");
  }
  return s;
}

Napi::Value Push(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    Pins pins;
    Napi::Object opts;
    auto a = chunk_args(env, info, opts, pins);
    a->row_offset = integer(opts, "rowOffset", "rowOffset");
    Backend backend = backend_of(opts);
    Napi::Value sv = opts.Get("state");
    double* state = state_of(sv, a->segments);
    pins.pin(sv);
    return run_async(
        env, [a, backend, state]() { xl3m_push(backend, *a, state); },
        [](Napi::Env env) -> Napi::Value { return env.Undefined(); }, std::move(pins));
  });
}

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    if (!info[0].IsNumber()) throw_type("segments must be a number");
    int64_t segments = info[0].As<Napi::Number>().Int64Value();
    if (segments < 1) throw Error(ErrorKind::Range, "segments must be an integer >= 1");
    auto state = Napi::Float64Array::New(env, static_cast<size_t>(segments * kXl3mStateStride));
    xl3m_pool_init(state.Data(), segments);
    return state;
  });
}

Napi::Value Finish(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    Napi::Object opts = object(info[1], "opts");
    int64_t segments = integer(opts, "segments", "segments");
    int64_t positions = integer(opts, "positions", "positionsPerSegment");
    const double* state = state_of(info[0], segments);
    auto scores = Napi::Float32Array::New(env, static_cast<size_t>(segments));
    xl3m_pool_finish(state, segments, positions, pooling_of(opts), scores.Data());
    return scores;
  });
}

}  // namespace

LW_EXPORT_FUNCTION("xl3mScore", Score);
LW_EXPORT_FUNCTION("xl3mPush", Push);
LW_EXPORT_FUNCTION("xl3mInit", Init);
LW_EXPORT_FUNCTION("xl3mFinish", Finish);

}  // namespace addon
}  // namespace lw
