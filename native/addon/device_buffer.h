// DeviceTensor's native half: device memory owned by this library (upload) or borrowed (wrap).
#pragma once
#include <napi.h>

#include <memory>

namespace lw {
namespace addon {

struct DeviceAllocation {
  void* ptr = nullptr;
  size_t bytes = 0;
  int device = 0;
  bool owned = false;
  ~DeviceAllocation();
};

class DeviceBuffer : public Napi::ObjectWrap<DeviceBuffer> {
 public:
  static Napi::Function Define(Napi::Env env);
  static bool Is(Napi::Env env, const Napi::Value& v);
  explicit DeviceBuffer(const Napi::CallbackInfo& info);
  ~DeviceBuffer() override { unreport(); }

  // Shared so that an in-flight kernel keeps the memory alive even if dispose() runs meanwhile.
  std::shared_ptr<DeviceAllocation> allocation() const { return alloc_; }
  void set(std::shared_ptr<DeviceAllocation> a);

 private:
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value ByteLength(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  Napi::Value Download(const Napi::CallbackInfo& info);
  // Owned device bytes are reported to V8 as external memory while the handle holds them, so dropping many
  // undisposed tensors raises GC pressure and their finalizers free the device memory in time.
  void unreport();
  std::shared_ptr<DeviceAllocation> alloc_;
  int64_t reported_ = 0;
};

}  // namespace addon
}  // namespace lw
