// The CUDA backend's KernelTable (core/backend.h): reads device-resident logits in place; host inputs are
// staged by each entry point.
#include "core/backend.h"
#include "kernels_cuda.h"

namespace lw {
namespace {

KernelTable cuda_table() {
  KernelTable t;
  t.name = "cuda";
  t.device_memory = true;
  t.logit_stats = logit_stats_cuda;
  t.xl3m_rows = xl3m_row_values_cuda;
  t.multistart = scaling::multistart_cuda;
  t.verify_tree = verify_tree_cuda;
  t.logit_stats_timing = logit_stats_cuda_timing;
  t.copy_timing = device_copy_timing_cuda;
  return t;
}

const KernelTable kCuda = cuda_table();
const BackendRegistrar kRegisterCuda(kCuda);

}  // namespace
}  // namespace lw
