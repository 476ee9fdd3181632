// Build and runtime facts for backendInfo() (the process's tuning: a call may cap SIMD lower, core/tuning.h).
#include "async.h"
#include "core/device.h"
#include "core/parallel.h"
#include "cpu/simd.h"
#include "registry.h"

#ifndef LW_VERSION
#define LW_VERSION "0.0.0"
#endif

namespace lw {
namespace addon {
namespace {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("threads", Napi::Number::New(env, pool_threads()));
  o.Set("simd", Napi::String::New(env, cpu::simd_level_name(cpu::simd_level())));
  o.Set("version", Napi::String::New(env, LW_VERSION));
  o.Set("cuda", Napi::Boolean::New(env, LW_WITH_CUDA != 0));
  return o;
}

// The CUDA runtime's view of the machine plus the visible devices; lib/runtime/gpuReport.ts reads it.
Napi::Value CudaReport(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const device::RuntimeReport r = device::runtime_report();
    Napi::Object o = Napi::Object::New(env);
    o.Set("runtimeVersion", Napi::Number::New(env, r.runtime_version));
    o.Set("driverVersion", Napi::Number::New(env, r.driver_version));
    o.Set("archs", Napi::String::New(env, r.archs));
    o.Set("error", Napi::String::New(env, r.error));
    o.Set("errorMessage", Napi::String::New(env, r.error_message));
    const int n = device::count();
    Napi::Array list = Napi::Array::New(env, n);
    for (int i = 0; i < n; ++i) {
      const device::Info d = device::info(i);
      Napi::Object dev = Napi::Object::New(env);
      dev.Set("name", d.name);
      dev.Set("memoryBytes", Napi::Number::New(env, static_cast<double>(d.memory_bytes)));
      dev.Set("computeCapability", std::to_string(d.major) + "." + std::to_string(d.minor));
      list.Set(i, dev);
    }
    o.Set("devices", list);
    return o;
  });
}

}  // namespace

LW_EXPORT_FUNCTION("info", Info);
LW_EXPORT_FUNCTION("cudaReport", CudaReport);

}  // namespace addon
}  // namespace lw
