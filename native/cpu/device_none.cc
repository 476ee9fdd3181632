// The CPU build's device layer: there is no CUDA here, so every device call says so.
#include "core/device.h"
#include "core/error.h"

namespace lw {
namespace device {

bool compiled() { return false; }
int count() { return 0; }
RuntimeReport runtime_report() { return {}; }
std::string status() { return "this is the CPU build of lengthwise (built without CUDA)"; }
Info info(int) { throw_device("no CUDA device: " + status()); }
void* alloc(int, size_t) { throw_device("no CUDA device: " + status()); }
void release(int, void*) noexcept {}
void to_device(int, void*, const void*, size_t) { throw_device("no CUDA device: " + status()); }
void to_host(int, void*, const void*, size_t) { throw_device("no CUDA device: " + status()); }
int pointer_device(const void*) { return -1; }

}  // namespace device
}  // namespace lw
