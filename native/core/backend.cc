#include "backend.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "error.h"

namespace lw {
namespace {

constexpr int kBackends = 8;

// Constant-initialised, so registrars in other translation units may run before or after this file's statics.
const KernelTable* g_tables[kBackends] = {};

const char* spelled(Backend b) {
  switch (b) {
    case Backend::Cpu: return "CPU";
    case Backend::Cuda: return "CUDA";
  }
  return "requested";
}

int slot_for(const char* name) {
  if (std::strcmp(name, "cpu") == 0) return static_cast<int>(Backend::Cpu);
  if (std::strcmp(name, "cuda") == 0) return static_cast<int>(Backend::Cuda);
  for (int i = 2; i < kBackends; ++i) {
    if (!g_tables[i] || std::strcmp(g_tables[i]->name, name) == 0) return i;
  }
  return -1;
}

}  // namespace

BackendRegistrar::BackendRegistrar(const KernelTable& table) {
  const int i = table.name ? slot_for(table.name) : -1;
  if (i < 0) std::abort();  // a static initialiser cannot throw: a nameless table or more than kBackends is a build bug
  g_tables[i] = &table;
}

Backend backend_named(const char* name) {
  std::string names;
  for (int i = 0; i < kBackends; ++i) {
    const KernelTable* t = g_tables[i];
    if (!t) continue;
    if (std::strcmp(t->name, name) == 0) return static_cast<Backend>(i);
    names += (names.empty() ? "'" : ", '") + std::string(t->name) + "'";
  }
  throw_range(std::string("backend '") + name + "' is not in this build (it has " + names + ")");
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
