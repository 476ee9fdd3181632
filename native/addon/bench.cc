// Test/benchmark-only entry points (underscore-prefixed): the CPU memory-read floor; kernel timings on the device
// clock (the CUDA backend's timers; a build without them says so when called).
#include <chrono>

#include "async.h"
#include "core/bench.h"
#include "core/error.h"
#include "core/logit_stats.h"
#include "registry.h"
#include "tuning.h"
#include "unpack.h"

namespace lw {
namespace addon {
namespace {

// _benchReadMemory(typedArray) → ms of one read of its bytes by every pool thread (synchronous: a benchmark helper)
Napi::Value BenchReadMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    if (!info[0].IsTypedArray()) throw Error(ErrorKind::Type, "_benchReadMemory needs a TypedArray");
    Napi::TypedArray a = info[0].As<Napi::TypedArray>();
    const uint8_t* p = static_cast<const uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
    auto t0 = std::chrono::steady_clock::now();
    volatile uint64_t sink = read_all_cpu(p, a.ByteLength());
    (void)sink;
    return Napi::Number::New(env, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  });
}

LW_EXPORT_FUNCTION("_benchReadMemory", BenchReadMemory);

Napi::Float64Array to_array(Napi::Env env, const std::vector<float>& v) {
  auto a = Napi::Float64Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = v[i];
  return a;
}

// _benchCopy(bytes, iters, device) → Float64Array of ms (synchronous: a benchmark helper)
Napi::Value BenchCopy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    size_t bytes = static_cast<size_t>(info[0].As<Napi::Number>().DoubleValue());
    int iters = info[1].As<Napi::Number>().Int32Value();
    int dev = info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 0;
    return to_array(env, device_copy_timing(Backend::Cuda, dev, bytes, iters));
  });
}

// _benchLogitStats(logits, opts, iters) → Float64Array of kernel ms
Napi::Value BenchLogitStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    Pins pins;
    LogitStatsArgs args;
    args.logits = logits(env, info[0], "logits", pins);
    Napi::Object opts = object(info[1], "opts");
    size_t nt = 0;
    args.targets = optional_typed_array<int32_t>(opts, "targets", napi_int32_array, "targets", &nt, pins);
    args.temperature = static_cast<float>(number_or(opts, "temperature", 1.0));
    args.tuning = tuning_of(opts);
    return to_array(env, logit_stats_timing(Backend::Cuda, args, info[2].As<Napi::Number>().Int32Value()));
  });
}

// _hostTimings() → [[name, ns], ...]: the host phase marks recorded since the last read (LENGTHWISE_HOST_TIMING=1;
// empty otherwise), steady-clock nanoseconds.
Napi::Value HostTimings(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::vector<HostMark> marks = take_host_marks();
  Napi::Array a = Napi::Array::New(env, marks.size());
  for (size_t i = 0; i < marks.size(); ++i) {
    Napi::Array m = Napi::Array::New(env, 2);
    m.Set(0u, Napi::String::New(env, marks[i].name));
    m.Set(1u, Napi::Number::New(env, static_cast<double>(marks[i].ns)));
    a.Set(static_cast<uint32_t>(i), m);
  }
  return a;
}

LW_EXPORT_FUNCTION("_benchCopy", BenchCopy);
LW_EXPORT_FUNCTION("_hostTimings", HostTimings);
LW_EXPORT_FUNCTION("_benchLogitStats", BenchLogitStats);

}  // namespace
}  // namespace addon
}  // namespace lw
