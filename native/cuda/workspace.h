// Named, aligned carve-outs of one device buffer (FlashInfer's AlignedAllocator is the model). A layout is
// described once on the host, counting bytes only; the same slices then address a host staging copy (filled
// by the caller) and the device buffer it is uploaded to in one copy, so no offset is computed by hand.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace lw {
namespace cuda {

// `count` elements of T at `offset` bytes into a workspace.
template <typename T>
struct Slice {
  size_t offset = 0;
  int64_t count = 0;
  T* in(void* base) const { return reinterpret_cast<T*>(static_cast<uint8_t*>(base) + offset); }
  const T* in(const void* base) const { return reinterpret_cast<const T*>(static_cast<const uint8_t*>(base) + offset); }
  // Copies `count` values from `src` into this slice of the host staging buffer.
  void fill(std::vector<uint8_t>& staging, const T* src) const {
    if (count > 0) std::memcpy(in(staging.data()), src, static_cast<size_t>(count) * sizeof(T));
  }
  // The same into a raw staging area (e.g. pinned host memory) of at least the workspace's bytes.
  void fill(uint8_t* staging, const T* src) const {
    if (count > 0) std::memcpy(in(static_cast<void*>(staging)), src, static_cast<size_t>(count) * sizeof(T));
  }
};

class Workspace {
 public:
  // Every slice starts on a 16-byte boundary (vector loads) or its type's alignment if larger.
  template <typename T>
  Slice<T> take(int64_t count) {
    constexpr size_t align = alignof(T) > 16 ? alignof(T) : 16;
    Slice<T> s;
    s.offset = (bytes_ + align - 1) / align * align;
    s.count = count;
    if (count > 0) bytes_ = s.offset + static_cast<size_t>(count) * sizeof(T);  // empty slices take no room
    return s;
  }
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_ = 0;
};

}  // namespace cuda
}  // namespace lw
