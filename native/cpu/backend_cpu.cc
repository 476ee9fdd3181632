// The CPU backend's KernelTable (core/backend.h). Host memory only; no device timers.
#include "core/backend.h"
#include "kernels_cpu.h"

namespace lw {
namespace {

KernelTable cpu_table() {
  KernelTable t;
  t.name = "cpu";
  t.device_memory = false;
  t.logit_stats = logit_stats_cpu;
  t.xl3m_rows = xl3m_row_values_cpu;
  t.multistart = scaling::multistart_cpu;
  t.verify_tree = verify_tree_cpu;
  return t;
}

const KernelTable kCpu = cpu_table();
const BackendRegistrar kRegisterCpu(kCpu);

}  // namespace
}  // namespace lw
