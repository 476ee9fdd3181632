#include "device_buffer.h"

#include <string>

#include "async.h"
#include "core/device.h"
#include "registry.h"
#include "unpack.h"

namespace lw {
namespace addon {

namespace {
// Per-environment state (one per main thread / worker_thread): the DeviceBuffer constructor.
struct InstanceData {
  Napi::FunctionReference device_buffer;
};
}  // namespace

DeviceAllocation::~DeviceAllocation() {
  if (owned && ptr) device::release(device, ptr);
}

Napi::Function DeviceBuffer::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "DeviceBuffer",
                                    {InstanceMethod("dispose", &DeviceBuffer::Dispose),
                                     InstanceMethod("download", &DeviceBuffer::Download),
                                     InstanceAccessor("byteLength", &DeviceBuffer::ByteLength, nullptr),
                                     InstanceAccessor("device", &DeviceBuffer::Device, nullptr),
                                     InstanceAccessor("disposed", &DeviceBuffer::Disposed, nullptr)});
  auto* data = new InstanceData();
  data->device_buffer = Napi::Persistent(ctor);
  env.SetInstanceData<InstanceData>(data);
  return ctor;
}

bool DeviceBuffer::Is(Napi::Env env, const Napi::Value& v) {
  auto* data = env.GetInstanceData<InstanceData>();
  if (!data || !v.IsObject()) return false;
  return v.As<Napi::Object>().InstanceOf(data->device_buffer.Value());
}

DeviceBuffer::DeviceBuffer(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DeviceBuffer>(info) {}

void DeviceBuffer::set(std::shared_ptr<DeviceAllocation> a) {
  unreport();
  alloc_ = std::move(a);
  if (alloc_ && alloc_->owned && alloc_->bytes > 0) {
    int64_t total = 0;
    reported_ = static_cast<int64_t>(alloc_->bytes);
    napi_adjust_external_memory(Env(), reported_, &total);  // C API: a finalizer must not throw
  }
}

void DeviceBuffer::unreport() {
  if (reported_ == 0) return;
  int64_t total = 0;
  napi_adjust_external_memory(Env(), -reported_, &total);
  reported_ = 0;
}

Napi::Value DeviceBuffer::Dispose(const Napi::CallbackInfo& info) {
  unreport();
  alloc_.reset();  // freed now, or when the last in-flight call using it settles
  return info.Env().Undefined();
}
Napi::Value DeviceBuffer::ByteLength(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), alloc_ ? static_cast<double>(alloc_->bytes) : 0.0);
}
Napi::Value DeviceBuffer::Device(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), alloc_ ? alloc_->device : -1);
}
Napi::Value DeviceBuffer::Disposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !alloc_);
}

Napi::Value DeviceBuffer::Download(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    auto a = alloc_;
    if (!a) throw Error(ErrorKind::Type, "download: this DeviceTensor was disposed");
    Napi::ArrayBuffer out = Napi::ArrayBuffer::New(env, a->bytes);
    Pins pins;
    pins.pin(out);
    pins.pin(info.This());
    pins.holds.push_back(a);
    void* dst = out.Data();
    auto ref = std::make_shared<Napi::ObjectReference>(Napi::Persistent(out.As<Napi::Object>()));
    return run_async(
        env, [a, dst]() { device::to_host(a->device, dst, a->ptr, a->bytes); },
        [ref](Napi::Env) -> Napi::Value { return ref->Value(); }, std::move(pins));
  });
}

namespace {

// The device ordinal is always sent (lib/device.ts applies the default 0).
int device_index(const Napi::Value& v) {
  if (!v.IsNumber()) throw Error(ErrorKind::Type, "opts.device must be an integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<int>(d) || d < 0) throw Error(ErrorKind::Range, "opts.device must be an integer >= 0");
  int dev = static_cast<int>(d);
  if (dev >= device::count()) {
    throw Error(ErrorKind::Range, "opts.device = " + std::to_string(dev) + " but " +
                                      std::to_string(device::count()) + " CUDA device(s) are visible");
  }
  return dev;
}

Napi::Object new_buffer(Napi::Env env, std::shared_ptr<DeviceAllocation> a) {
  auto* data = env.GetInstanceData<InstanceData>();
  Napi::Object obj = data->device_buffer.New({});
  DeviceBuffer::Unwrap(obj)->set(std::move(a));
  return obj;
}

// deviceUpload(typedArray, device) → Promise<DeviceBuffer>
Napi::Value Upload(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    if (!device::compiled() || device::count() == 0) {
      throw Error(ErrorKind::Device, "device.upload: no CUDA device (" + device::status() + ")");
    }
    int dev = device_index(info[1]);
    Pins pins;
    size_t bytes = 0;
    MemView src = memory(env, info[0], "data", pins, &bytes);
    if (src.on_device) throw Error(ErrorKind::Type, "data must be host memory (a TypedArray)");
    auto a = std::make_shared<DeviceAllocation>();
    a->device = dev;
    a->bytes = bytes;
    a->owned = true;
    const void* host = src.data;
    return run_async(
        env,
        [a, host]() {
          a->ptr = device::alloc(a->device, a->bytes == 0 ? 1 : a->bytes);
          device::to_device(a->device, a->ptr, host, a->bytes);
        },
        [a](Napi::Env env) -> Napi::Value { return new_buffer(env, a); }, std::move(pins));
  });
}

// deviceWrap(pointer: bigint, byteLength, device) → DeviceBuffer (borrowed memory, never freed by us)
Napi::Value Wrap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    if (!info[0].IsBigInt()) throw Error(ErrorKind::Type, "pointer must be a bigint");
    bool lossless = true;
    uint64_t p = info[0].As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless || p == 0) throw Error(ErrorKind::Range, "pointer must be a non-zero 64-bit address");
    if (!info[1].IsNumber()) throw Error(ErrorKind::Type, "byteLength must be a number");
    double bytes = info[1].As<Napi::Number>().DoubleValue();
    if (!(bytes >= 0) || bytes != static_cast<double>(static_cast<uint64_t>(bytes))) {
      throw Error(ErrorKind::Range, "byteLength must be a non-negative integer");
    }
    if (!device::compiled() || device::count() == 0) {
      throw Error(ErrorKind::Device, "device.wrap: no CUDA device (" + device::status() + ")");
    }
    int dev = device_index(info[2]);
    void* ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(p));
    int owner = device::pointer_device(ptr);
    if (owner < 0) throw Error(ErrorKind::Range, "pointer is not CUDA device memory of this process");
    if (owner != dev) {
      throw Error(ErrorKind::Range, "pointer belongs to device " + std::to_string(owner) + ", not opts.device " +
                                        std::to_string(dev));
    }
    auto a = std::make_shared<DeviceAllocation>();
    a->ptr = ptr;
    a->bytes = static_cast<size_t>(bytes);
    a->device = dev;
    a->owned = false;
    return new_buffer(env, a);
  });
}

Napi::Value DevicePointer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    if (!DeviceBuffer::Is(env, info[0])) throw Error(ErrorKind::Type, "tensor must be a DeviceTensor");
    auto a = DeviceBuffer::Unwrap(info[0].As<Napi::Object>())->allocation();
    if (!a) throw Error(ErrorKind::Type, "tensor was disposed");
    return Napi::BigInt::New(env, static_cast<uint64_t>(reinterpret_cast<uintptr_t>(a->ptr)));
  });
}

Napi::Value Devices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    Napi::Object out = Napi::Object::New(env);
    out.Set("compiled", Napi::Boolean::New(env, device::compiled()));
    int n = device::count();
    out.Set("status", Napi::String::New(env, device::status()));
    Napi::Array list = Napi::Array::New(env, n);
    for (int i = 0; i < n; ++i) {
      device::Info d = device::info(i);
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", d.name);
      o.Set("memoryBytes", Napi::Number::New(env, static_cast<double>(d.memory_bytes)));
      o.Set("computeCapability", std::to_string(d.major) + "." + std::to_string(d.minor));
      list.Set(i, o);
    }
    out.Set("devices", list);
    return out;
  });
}

::lw::addon::Registrar registrar([](Napi::Env env, Napi::Object exports) {
  exports.Set("DeviceBuffer", DeviceBuffer::Define(env));
  exports.Set("deviceUpload", Napi::Function::New(env, Upload, "deviceUpload"));
  exports.Set("deviceWrap", Napi::Function::New(env, Wrap, "deviceWrap"));
  exports.Set("devicePointer", Napi::Function::New(env, DevicePointer, "devicePointer"));
  exports.Set("devices", Napi::Function::New(env, Devices, "devices"));
});

}  // namespace
}  // namespace addon
}  // namespace lw
