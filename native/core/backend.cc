#include "backend.h"

#include <string>

#include "error.h"

namespace lw {
namespace {

constexpr int kBackends = 2;

// Constant-initialised, so registrars in other translation units may run before or after this file's statics.
const KernelTable* g_tables[kBackends] = {};

const char* spelled(Backend b) { return b == Backend::Cuda ? "CUDA" : "CPU"; }

}  // namespace

BackendRegistrar::BackendRegistrar(Backend backend, const KernelTable& table) {
  g_tables[static_cast<int>(backend)] = &table;
}

const KernelTable* find_backend(Backend backend) {
  const int i = static_cast<int>(backend);
  return i >= 0 && i < kBackends ? g_tables[i] : nullptr;
}

const KernelTable& dispatch(Backend backend, bool on_device, const char* what) {
  const KernelTable* t = find_backend(backend);
  if (!t) {
    throw_runtime(std::string("this build of lengthwise has no ") + spelled(backend) +
                  " backend (build the CUDA addon with `npm run build:cuda`)");
  }
  if (on_device && !t->device_memory) {
    bool any = false;
    for (const KernelTable* o : g_tables) any = any || (o && o->device_memory);
    if (!any) {
      throw_range(std::string(what) + " is device memory, which needs the CUDA backend; this build has none");
    }
    throw_range(std::string(what) + " is a DeviceTensor; the " + t->name +
                " backend needs host memory (download() it, or use backend 'cuda')");
  }
  return *t;
}

void throw_no_entry(const KernelTable& t, const char* what) {
  throw_runtime(std::string("the ") + t.name + " backend of this build has no " + what);
}

}  // namespace lw
