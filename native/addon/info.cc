// Build and runtime facts for backendInfo() (the process's tuning: a call may cap SIMD lower, core/tuning.h).
#include "async.h"
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

}  // namespace

LW_EXPORT_FUNCTION("info", Info);

}  // namespace addon
}  // namespace lw
