#include <napi.h>
#include "pin_module.h"
#include "registry.h"

namespace lw {
namespace addon {

std::vector<Initializer>& registry() {
  static std::vector<Initializer> r;
  return r;
}

}  // namespace addon
}  // namespace lw

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  lw::addon::pin_module();
  for (auto& init : lw::addon::registry()) init(env, exports);
  return exports;
}

NODE_API_MODULE(lengthwise, Init)
