#include "unpack.h"

#include <cmath>

#include "device_buffer.h"

namespace lw {
namespace addon {

const char* typed_array_name(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "TypedArray";
  }
}

void* typed_array_data(const Napi::Value& v, size_t* elements, size_t* bytes) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_value buffer;
  size_t offset = 0;
  if (napi_get_typedarray_info(v.Env(), v, &type, &length, &data, &buffer, &offset) != napi_ok) {
    throw_type("expected a TypedArray");
  }
  if (elements) *elements = length;
  if (bytes) *bytes = length * v.As<Napi::TypedArray>().ElementSize();
  return data;
}

Napi::Object object(const Napi::Value& v, const char* name) {
  if (!v.IsObject()) throw_type(std::string(name) + " must be an object");
  return v.As<Napi::Object>();
}

double number(const Napi::Object& o, const char* key, const char* name) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw_type(std::string(name) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

bool boolean(const Napi::Object& o, const char* key, const char* name) {
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) throw_type(std::string(name) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

uint64_t uint64(const Napi::Value& v, const char* name) {
  if (!v.IsBigInt()) throw_type(std::string(name) + " must be a bigint");
  bool lossless = true;
  const uint64_t x = v.As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) throw Error(ErrorKind::Range, std::string(name) + " must be a bigint in [0, 2^64)");
  return x;
}

void throw_not_enum(const Napi::Value& v, const std::string& name, const std::vector<const char*>& names) {
  std::string allowed;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) allowed += i + 1 == names.size() ? " or " : ", ";
    allowed += std::string("'") + names[i] + "'";
  }
  throw Error(v.IsString() ? ErrorKind::Range : ErrorKind::Type, name + " must be " + allowed);
}

double number_or(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsNumber()) throw_type(std::string(key) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

int64_t integer(const Napi::Object& o, const char* key, const char* name) {
  double d = number(o, key, name);
  if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9007199254740991.0) {
    throw Error(ErrorKind::Range, std::string(name) + " must be an integer");
  }
  return static_cast<int64_t>(d);
}

bool boolean_or(const Napi::Object& o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  return v.ToBoolean().Value();
}

std::string string_or(const Napi::Object& o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsString()) throw_type(std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

MemView memory(Napi::Env env, const Napi::Value& data, const char* name, Pins& pins, size_t* byte_length) {
  MemView m;
  if (data.IsTypedArray()) {
    size_t elements = 0;
    void* p = typed_array_data(data, &elements, byte_length);
    if (*byte_length > 0 && p == nullptr) throw_type(std::string(name) + " is detached");
    m.data = p;
    pins.pin(data);
    return m;
  }
  if (DeviceBuffer::Is(env, data)) {
    auto* db = DeviceBuffer::Unwrap(data.As<Napi::Object>());
    auto a = db->allocation();
    if (!a) throw Error(ErrorKind::Type, std::string(name) + " is a disposed DeviceTensor");
    m.data = a->ptr;
    m.on_device = true;
    m.device = a->device;
    *byte_length = a->bytes;
    pins.pin(data);
    pins.holds.push_back(a);
    return m;
  }
  throw_type(std::string(name) + " must be a TypedArray or a DeviceTensor");
}

LogitsView logits(Napi::Env env, const Napi::Value& v, const char* name, Pins& pins) {
  Napi::Object o = object(v, name);
  LogitsView l;
  std::string n(name);
  l.dtype = enum_of<DType>(o, "dtype", n + ".dtype",
                           {{"float32", DType::F32}, {"float16", DType::F16}, {"bfloat16", DType::BF16}});
  l.rows = integer(o, "rows", (n + ".rows").c_str());
  l.vocab = integer(o, "vocab", (n + ".vocab").c_str());
  if (l.rows < 0 || l.vocab <= 0) throw Error(ErrorKind::Range, n + ".rows must be >= 0 and " + n + ".vocab >= 1");
  size_t bytes = 0;
  l.mem = memory(env, o.Get("data"), (n + ".data").c_str(), pins, &bytes);
  // Overflow-safe: rows * vocab * size must equal the byte length.
  long double need = static_cast<long double>(l.rows) * l.vocab * dtype_size(l.dtype);
  if (need != static_cast<long double>(bytes)) {
    throw Error(ErrorKind::Range, n + ".data holds " + std::to_string(bytes) + " bytes but rows × vocab = " +
                                      std::to_string(l.rows) + " × " + std::to_string(l.vocab) + " needs " +
                                      std::to_string(static_cast<unsigned long long>(need)));
  }
  return l;
}

TreeBatchView unpack_trees(const Napi::Value& v, Pins& pins) {
  Napi::Object o = object(v, "trees");
  TreeBatchView t;
  size_t nt = 0, np = 0, no = 0;
  t.tokens = optional_typed_array<int32_t>(o, "tokens", napi_int32_array, "trees.tokens", &nt, pins);
  t.parents = optional_typed_array<int32_t>(o, "parents", napi_int32_array, "trees.parents", &np, pins);
  t.offsets = optional_typed_array<int32_t>(o, "offsets", napi_int32_array, "trees.offsets", &no, pins);
  if (!t.tokens || !t.parents || !t.offsets)
    throw_type("trees must be { tokens: Int32Array; parents: Int32Array; offsets: Int32Array }");
  if (no < 2) throw Error(ErrorKind::Range, "trees.offsets must have batch + 1 >= 2 entries");
  t.batch = static_cast<int64_t>(no) - 1;
  if (np != nt || t.offsets[t.batch] != static_cast<int64_t>(nt))
    throw Error(ErrorKind::Range, "trees: tokens, parents and offsets[batch] must agree on the node count");
  return t;
}

namespace {

template <class T>
void knob(const Napi::Object& opts, const char* key, napi_typedarray_type type, int64_t batch, Pins& pins,
          PerRequest<T>& out, const char* prefix = "opts.") {
  Napi::Value v = opts.Get(key);
  if (v.IsUndefined() || v.IsNull()) return;
  const std::string name = std::string(prefix) + key;
  if (v.IsNumber()) {
    out.value = static_cast<T>(v.As<Napi::Number>().DoubleValue());
    return;
  }
  size_t n = 0;
  out.array = typed_array<T>(v, type, name.c_str(), &n);
  pins.pin(v);
  if (static_cast<int64_t>(n) != batch)
    throw Error(ErrorKind::Range, name + " must have one entry per tree (" + std::to_string(batch) + "), got " +
                                      std::to_string(n));
}

// { offsets: Int32Array(batch + 1), <a>: Int32Array, <b>: Int32Array | Float32Array } with a and b of one length.
template <class B>
void ragged(const Napi::Object& o, const std::string& name, const char* a, const char* bkey, napi_typedarray_type bt,
            int64_t batch, Pins& pins, const int32_t** off, const int32_t** ids, const B** vals, int64_t* len) {
  size_t no = 0, na = 0, nb = 0;
  pins.pin(o);
  *off = typed_array<int32_t>(o.Get("offsets"), napi_int32_array, (name + ".offsets").c_str(), &no);
  *ids = typed_array<int32_t>(o.Get(a), napi_int32_array, (name + "." + a).c_str(), &na);
  *vals = typed_array<B>(o.Get(bkey), bt, (name + "." + bkey).c_str(), &nb);
  if (static_cast<int64_t>(no) != batch + 1)
    throw Error(ErrorKind::Range, name + ".offsets must have batch + 1 = " + std::to_string(batch + 1) +
                                      " entries, got " + std::to_string(no));
  if (na != nb)
    throw Error(ErrorKind::Range, name + "." + a + " and " + name + "." + bkey + " must have the same length (" +
                                      std::to_string(na) + " vs " + std::to_string(nb) + ")");
  *len = static_cast<int64_t>(na);
}

// opts.allowedTokens / opts.logitBias / opts.penalties as lib/tree/sampling.ts normalises them.
void unpack_processors(const Napi::Object& opts, int64_t batch, Pins& pins, ProcessorsView& p) {
  size_t words = 0;
  Napi::Value mask = opts.Get("allowedTokens");
  if (!mask.IsUndefined() && !mask.IsNull() && !mask.IsTypedArray()) {
    size_t bytes = 0;
    const MemView m = memory(opts.Env(), mask, "opts.allowedTokens", pins, &bytes);  // a DeviceTensor
    if (bytes % 4 != 0)
      throw Error(ErrorKind::Range, "opts.allowedTokens (a DeviceTensor) must hold whole 32-bit words, got " +
                                        std::to_string(bytes) + " bytes");
    p.allowed = static_cast<const uint32_t*>(m.data);
    p.allowed_on_device = true;
    p.allowed_device = m.device;
    words = bytes / 4;
  } else {
    p.allowed = optional_typed_array<uint32_t>(opts, "allowedTokens", napi_uint32_array, "opts.allowedTokens", &words,
                                              pins);
  }
  p.allowed_words = static_cast<int64_t>(words);
  Napi::Value bias = opts.Get("logitBias");
  if (!bias.IsUndefined() && !bias.IsNull())
    ragged<float>(object(bias, "opts.logitBias"), "opts.logitBias", "ids", "values", napi_float32_array, batch, pins,
                  &p.bias_offsets, &p.bias_ids, &p.bias_values, &p.bias_len);
  Napi::Value pen = opts.Get("penalties");
  if (pen.IsUndefined() || pen.IsNull()) return;
  Napi::Object po = object(pen, "opts.penalties");
  p.penalties = true;
  knob(po, "repetition", napi_float32_array, batch, pins, p.repetition, "opts.penalties.");
  knob(po, "frequency", napi_float32_array, batch, pins, p.frequency, "opts.penalties.");
  knob(po, "presence", napi_float32_array, batch, pins, p.presence, "opts.penalties.");
  ragged<int32_t>(object(po.Get("history"), "opts.penalties.history"), "opts.penalties.history", "ids", "counts",
                  napi_int32_array, batch, pins, &p.hist_offsets, &p.hist_ids, &p.hist_counts, &p.hist_len);
}

}  // namespace

SamplingParams unpack_sampling(const Napi::Object& opts, int64_t batch, Pins& pins) {
  SamplingParams s;
  s.greedy = enum_of<bool>(opts, "mode", "opts.mode", {{"sample", false}, {"greedy", true}});
  knob(opts, "temperature", napi_float32_array, batch, pins, s.temperature);
  knob(opts, "topK", napi_int32_array, batch, pins, s.top_k);
  knob(opts, "topP", napi_float32_array, batch, pins, s.top_p);
  knob(opts, "minP", napi_float32_array, batch, pins, s.min_p);
  unpack_processors(opts, batch, pins, s.processors);
  return s;
}

DraftKind unpack_draft_kind(const Napi::Object& opts) {
  return enum_of<DraftKind>(opts, "drafts", "opts.drafts",
                            {{"deterministic", DraftKind::Deterministic},
                             {"iid", DraftKind::Iid},
                             {"without-replacement", DraftKind::WithoutReplacement}});
}

PerRequest<int32_t> unpack_max_accepted(const Napi::Object& opts, int64_t batch, Pins& pins) {
  PerRequest<int32_t> cap{kNoCap};
  knob(opts, "maxAccepted", napi_int32_array, batch, pins, cap);
  return cap;
}

Backend backend_of(const Napi::Object& opts) {
  return enum_of<Backend>(opts, "backend", "backend", {{"cpu", Backend::Cpu}, {"cuda", Backend::Cuda}});
}

std::vector<int> devices_of(const Napi::Object& opts) {
  std::vector<int> out;
  Napi::Value dv = opts.Get("devices");
  if (!dv.IsArray()) return out;
  Napi::Array a = dv.As<Napi::Array>();
  if (a.Length() == 0) throw Error(ErrorKind::Range, "opts.devices must list at least one device");
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value e = a.Get(i);
    const std::string name = "opts.devices[" + std::to_string(i) + "]";
    if (!e.IsNumber()) throw Error(ErrorKind::Type, name + " must be a device ordinal");
    const double d = e.As<Napi::Number>().DoubleValue();
    if (!(d >= 0) || d != std::floor(d) || d > 2147483647.0) {
      throw Error(ErrorKind::Range, name + " must be an integer >= 0 (a device ordinal)");
    }
    out.push_back(static_cast<int>(d));
  }
  return out;
}

const volatile int32_t* cancel_flag(const Napi::Object& opts, Pins& pins) {
  size_t n = 0;
  int32_t* p = optional_typed_array<int32_t>(opts, "cancel", napi_int32_array, "cancel", &n, pins);
  if (p && n < 1) throw_type("cancel must be an Int32Array of length 1");
  return p;
}

}  // namespace addon
}  // namespace lw
