#include "pin_module.h"

#ifdef _WIN32
#include <windows.h>
#else
#include <dlfcn.h>
#endif

namespace lw {
namespace addon {

void pin_module() {
#ifdef _WIN32
  HMODULE self = nullptr;
  GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_PIN,
                     reinterpret_cast<LPCWSTR>(&pin_module), &self);
#else
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&pin_module), &info) == 0 || info.dli_fname == nullptr) return;
  // RTLD_NOLOAD: take a reference to the copy already mapped; RTLD_NODELETE: never unmap it. The handle is kept
  // open on purpose.
  dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
#endif
}

}  // namespace addon
}  // namespace lw
