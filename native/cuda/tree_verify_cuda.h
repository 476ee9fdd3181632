// CUDA verifyTree split into setup / enqueue / finish, so benchmarks can time the kernels alone (CUDA events
// around enqueue()) with the plan already on the device.
#pragma once
#include <memory>

#include "core/tree_verify.h"

namespace lw {
namespace cuda {

class TreeVerifyCuda {
 public:
  TreeVerifyCuda(const TreeVerifyArgs& a, const TreePlan& plan);  // uploads inputs and the plan
  ~TreeVerifyCuda();
  void enqueue();                 // launches the kernels on cudaStreamPerThread
  TreeVerifyResult finish();      // copies results back, synchronises, raises input errors
  bool rows_path() const;         // true: all rows reduced in parallel first (small batches)
  int cluster() const;            // blocks per request
  struct Impl;                    // defined in tree_verify.cu

 private:
  std::unique_ptr<Impl> impl_;
};

#ifdef LW_TREE_PROFILE
void tree_profile(unsigned long long* out, bool reset);  // block 0's stage clocks (GPU check's profile build)
#endif

}  // namespace cuda
}  // namespace lw
