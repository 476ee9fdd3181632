// Build and runtime facts for backendInfo(), plus test-only switches (underscore-prefixed).
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

Napi::Value SetSimd(const Napi::CallbackInfo& info) {
  int level = info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : -1;
  cpu::set_simd_override(level);
  return Napi::String::New(info.Env(), cpu::simd_level_name(cpu::simd_level()));
}

}  // namespace

LW_EXPORT_FUNCTION("info", Info);
LW_EXPORT_FUNCTION("_setSimd", SetSimd);

}  // namespace addon
}  // namespace lw
