// Static registration of addon exports: each capability file adds its functions with a file-scope
// `static lw::addon::Registrar r("name", fn);` so module.cc never lists capabilities.
#pragma once
#include <napi.h>
#include <functional>
#include <vector>

namespace lw {
namespace addon {

using Initializer = std::function<void(Napi::Env, Napi::Object exports)>;

std::vector<Initializer>& registry();

struct Registrar {
  explicit Registrar(Initializer init) { registry().push_back(std::move(init)); }
  Registrar(const char* name, Napi::Function (*)(Napi::Env)) = delete;
};

// Registers exports[name] = fn.
#define LW_EXPORT_FUNCTION(name, fn)                                                             \
  static ::lw::addon::Registrar lw_registrar_##fn([](Napi::Env env, Napi::Object exports) {     \
    exports.Set(name, Napi::Function::New(env, fn, name));                                      \
  })

}  // namespace addon
}  // namespace lw
