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

  // Shared so that an in-flight kernel keeps the memory alive even if dispose() runs meanwhile.
  std::shared_ptr<DeviceAllocation> allocation() const { return alloc_; }
  void set(std::shared_ptr<DeviceAllocation> a) { alloc_ = std::move(a); }

 private:
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value ByteLength(const Napi::CallbackInfo& info);
  Napi::Value Device(const Napi::CallbackInfo& info);
  Napi::Value Disposed(const Napi::CallbackInfo& info);
  Napi::Value Download(const Napi::CallbackInfo& info);
  std::shared_ptr<DeviceAllocation> alloc_;
};

}  // namespace addon
}  // namespace lw
