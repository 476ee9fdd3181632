// Keeps this shared library mapped for the life of the process.
#pragma once

namespace lw {
namespace addon {

// Node unloads an addon when the last environment that loaded it goes away (a worker_thread that ends). The
// native thread pool (and the CUDA runtime's threads) outlive any one environment and would then return into
// unmapped code. Pinning makes the unload a no-op; later loads reuse the same mapping. Safe to call repeatedly.
void pin_module();

}  // namespace addon
}  // namespace lw
