// Unpacking JavaScript values into the plain structs of native/core. The TypeScript layer validates first;
// these checks are the last line of defence (a wrong call from JS must never crash the process).
#pragma once
#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "async.h"
#include "core/sampling_params.h"
#include "core/tensor.h"
#include "core/tree_batch.h"

namespace lw {
namespace addon {

[[noreturn]] inline void throw_type(const std::string& msg) { throw Error(ErrorKind::Type, msg); }

const char* typed_array_name(napi_typedarray_type type);

// Data pointer (offset applied), element count and byte length of a TypedArray, read with
// napi_get_typedarray_info: unlike ArrayBuffer().Data(), this also works for views of a SharedArrayBuffer.
void* typed_array_data(const Napi::Value& v, size_t* elements, size_t* bytes);

// A TypedArray of the expected element type; returns its data pointer and element count.
template <typename T>
T* typed_array(const Napi::Value& v, napi_typedarray_type type, const char* name, size_t* length) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type) {
    throw_type(std::string(name) + " must be a " + typed_array_name(type));
  }
  size_t n = 0;
  void* data = typed_array_data(v, &n, nullptr);
  if (length) *length = n;
  if (n > 0 && data == nullptr) throw_type(std::string(name) + " is detached");
  return static_cast<T*>(data);
}

// Optional property: null/undefined → nullptr.
template <typename T>
T* optional_typed_array(const Napi::Object& o, const char* key, napi_typedarray_type type, const char* name,
                        size_t* length, Pins& pins) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    if (length) *length = 0;
    return nullptr;
  }
  pins.pin(v);
  return typed_array<T>(v, type, name, length);
}

double number(const Napi::Object& o, const char* key, const char* name);
bool boolean(const Napi::Object& o, const char* key, const char* name);
// A BigInt in [0, 2^64) (seeds cross as bigint everywhere).
uint64_t uint64(const Napi::Value& v, const char* name);

// Enums cross by name (sharp's AttrAsEnum): `v` must be one of the names in `table`; otherwise a TypeError (not a
// string) or RangeError (another string) that lists the allowed names.
[[noreturn]] void throw_not_enum(const Napi::Value& v, const std::string& name, const std::vector<const char*>& names);
template <typename E>
E enum_value(const Napi::Value& v, const std::string& name, std::initializer_list<std::pair<const char*, E>> table) {
  if (v.IsString()) {
    const std::string s = v.As<Napi::String>().Utf8Value();
    for (const auto& entry : table) {
      if (s == entry.first) return entry.second;
    }
  }
  std::vector<const char*> names;
  for (const auto& entry : table) names.push_back(entry.first);
  throw_not_enum(v, name, names);
}
// opts[key] by name, e.g. enum_of<Xl3mPooling>(opts, "pooling", "pooling", {{"mean", Xl3mPooling::Mean}, …}).
template <typename E>
E enum_of(const Napi::Object& o, const char* key, const std::string& name,
          std::initializer_list<std::pair<const char*, E>> table) {
  return enum_value<E>(o.Get(key), name, table);
}
double number_or(const Napi::Object& o, const char* key, double fallback);
int64_t integer(const Napi::Object& o, const char* key, const char* name);
bool boolean_or(const Napi::Object& o, const char* key, bool fallback);
std::string string_or(const Napi::Object& o, const char* key, const std::string& fallback);
Napi::Object object(const Napi::Value& v, const char* name);

// `data` is a TypedArray (host) or a native DeviceBuffer (device); pins it and reports its byte length.
MemView memory(Napi::Env env, const Napi::Value& data, const char* name, Pins& pins, size_t* byte_length);

// { data, dtype: 'float32' | 'float16' | 'bfloat16', rows, vocab } as normalised by lib/logits.ts.
LogitsView logits(Napi::Env env, const Napi::Value& v, const char* name, Pins& pins);

// { tokens, parents, offsets: Int32Array } (lib/tree/types.ts); checks the three lengths agree.
TreeBatchView unpack_trees(const Napi::Value& v, Pins& pins);

// { mode: 'sample' | 'greedy', ...knobs, ...processors } as lib/tree/sampling.ts normalises them (core/sampling_params.h
// documents each knob once): each knob a number (the whole batch) or a typed array of `batch` entries; the
// processors' shapes are checked here, their values by core (plan_processors, which also needs the vocabulary).
SamplingParams unpack_sampling(const Napi::Object& opts, int64_t batch, Pins& pins);

// opts.drafts: 'deterministic', 'iid' or 'without-replacement' (lib/tree/sampling.ts fills the default).
DraftKind unpack_draft_kind(const Napi::Object& opts);
// opts.maxAccepted: absent (no cap), a number, or an Int32Array with one entry per tree (checked >= 0 in core).
PerRequest<int32_t> unpack_max_accepted(const Napi::Object& opts, int64_t batch, Pins& pins);

// Backend requested by the TS layer for this call (the loader picks the addon; this picks the path).
Backend backend_of(const Napi::Object& opts);

// opts.devices (scaling fit, XL3M): absent or not an array ('all') = automatic, returned empty; else a non-empty
// array of device ordinals (TypeError for a non-number entry, RangeError for an empty array or an entry that is not
// an integer >= 0). Visibility is checked where the devices are used (core/multi_device.h resolve_devices).
std::vector<int> devices_of(const Napi::Object& opts);

// Cancel flag: opts.cancel is an Int32Array(1) set by an AbortSignal listener in TS.
const volatile int32_t* cancel_flag(const Napi::Object& opts, Pins& pins);

}  // namespace addon
}  // namespace lw
