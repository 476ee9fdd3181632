// The element types of logits on the device, one trait set per real type (float, __half, __nv_bfloat16), and
// the one switch from the runtime DType to that type. Kernels are templated on the type and load rows through
// Elem<T>: 16-byte vectors (4 × fp32 or 8 × 16-bit) unpacked to float, single elements, and the monotone radix
// key (an unsigned integer whose order is the values' order, ±0 equal) that the radix selects sort by.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "core/dtype.h"

namespace lw {
namespace cuda {

template <typename T>
struct Elem;

template <>
struct Elem<float> {
  static constexpr DType kDType = DType::F32;
  static constexpr int kSize = 4;     // bytes per element
  static constexpr int kPerVec = 4;   // elements per 16-byte vector
  static constexpr int kKeyBits = 32;
  __device__ static float load(const void* row, int64_t i) { return static_cast<const float*>(row)[i]; }
  // Elements [i, i + kPerVec) of a row, i a multiple of kPerVec (16-byte aligned).
  __device__ static void load_vec(const void* row, int64_t i, float* x) {
    float4 v = *reinterpret_cast<const float4*>(static_cast<const float*>(row) + i);
    x[0] = v.x; x[1] = v.y; x[2] = v.z; x[3] = v.w;
  }
  __device__ static void unpack(uint4 v, float* x) {
    x[0] = __uint_as_float(v.x); x[1] = __uint_as_float(v.y); x[2] = __uint_as_float(v.z); x[3] = __uint_as_float(v.w);
  }
  // Max and min of an unpacked vector (NaN-ignoring like fmaxf / fminf).
  __device__ static void max_min(uint4, const float* x, float& mx, float& mn) {
    mx = fmaxf(fmaxf(x[0], x[1]), fmaxf(x[2], x[3]));
    mn = fminf(fminf(x[0], x[1]), fminf(x[2], x[3]));
  }
  __device__ static uint32_t key(const void* row, int64_t i) { return key_of(load(row, i)); }
  __device__ static uint32_t key_of(float z) {
    uint32_t b = z == 0.f ? 0u : __float_as_uint(z);
    return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
  }
  __device__ static float from_key(uint32_t u) {
    uint32_t b = (u & 0x80000000u) ? (u & 0x7fffffffu) : ~u;
    return __uint_as_float(b);
  }
};

// The 16-bit types share the vector layout and the key; only the bits → float conversion differs.
template <typename T>
struct Elem16 {
  static constexpr int kSize = 2;
  static constexpr int kPerVec = 8;
  static constexpr int kKeyBits = 16;
  __device__ static float load(const void* row, int64_t i) { return Elem<T>::to_float(static_cast<const uint16_t*>(row)[i]); }
  __device__ static void load_vec(const void* row, int64_t i, float* x) {
    Elem<T>::unpack(*reinterpret_cast<const uint4*>(static_cast<const uint16_t*>(row) + i), x);
  }
  __device__ static uint32_t key(const void* row, int64_t i) {
    uint32_t h = static_cast<const uint16_t*>(row)[i];
    if ((h & 0x7fffu) == 0) h = 0;
    return (h & 0x8000u) ? (~h & 0xffffu) : (h | 0x8000u);
  }
  __device__ static float from_key(uint32_t u) {
    uint32_t h = (u & 0x8000u) ? (u & 0x7fffu) : (~u & 0xffffu);
    return Elem<T>::to_float(static_cast<uint16_t>(h));
  }
};

template <>
struct Elem<__half> : Elem16<__half> {
  static constexpr DType kDType = DType::F16;
  __device__ static float to_float(uint16_t bits) { return __half2float(__ushort_as_half(bits)); }
  __device__ static void unpack(uint4 v, float* x) {
    const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      float2 f = __half22float2(*reinterpret_cast<const __half2*>(&w[j]));
      x[2 * j] = f.x; x[2 * j + 1] = f.y;
    }
  }
  // Packed half2 max/min: 3 + 3 instructions for 8 values instead of 7 + 7.
  __device__ static void max_min(uint4 v, const float*, float& mx, float& mn) {
    __half2 a = *reinterpret_cast<const __half2*>(&v.x), b = *reinterpret_cast<const __half2*>(&v.y);
    __half2 c = *reinterpret_cast<const __half2*>(&v.z), d = *reinterpret_cast<const __half2*>(&v.w);
    __half2 hx = __hmax2(__hmax2(a, b), __hmax2(c, d));
    __half2 hn = __hmin2(__hmin2(a, b), __hmin2(c, d));
    mx = fmaxf(__low2float(hx), __high2float(hx));
    mn = fminf(__low2float(hn), __high2float(hn));
  }
};

template <>
struct Elem<__nv_bfloat16> : Elem16<__nv_bfloat16> {
  static constexpr DType kDType = DType::BF16;
  __device__ static float to_float(uint16_t bits) { return __uint_as_float(static_cast<uint32_t>(bits) << 16); }
  __device__ static void unpack(uint4 v, float* x) {
    const uint32_t w[4] = {v.x, v.y, v.z, v.w};
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      x[2 * j] = __uint_as_float(w[j] << 16);
      x[2 * j + 1] = __uint_as_float(w[j] & 0xffff0000u);
    }
  }
  __device__ static void max_min(uint4 v, const float*, float& mx, float& mn) {
    __nv_bfloat162 a = *reinterpret_cast<const __nv_bfloat162*>(&v.x), b = *reinterpret_cast<const __nv_bfloat162*>(&v.y);
    __nv_bfloat162 c = *reinterpret_cast<const __nv_bfloat162*>(&v.z), d = *reinterpret_cast<const __nv_bfloat162*>(&v.w);
    __nv_bfloat162 hx = __hmax2(__hmax2(a, b), __hmax2(c, d));
    __nv_bfloat162 hn = __hmin2(__hmin2(a, b), __hmin2(c, d));
    mx = fmaxf(__low2float(hx), __high2float(hx));
    mn = fminf(__low2float(hn), __high2float(hn));
  }
};

// The element type of DType code DT (0 f32, 1 f16, 2 bf16), for kernels templated on the code.
template <int DT> struct TypeOfCode { using type = float; };
template <> struct TypeOfCode<1> { using type = __half; };
template <> struct TypeOfCode<2> { using type = __nv_bfloat16; };
template <int DT>
using ElemOfCode = Elem<typename TypeOfCode<DT>::type>;
template <typename T>
constexpr int kCodeOf = static_cast<int>(Elem<T>::kDType);

// Device code that switches on a runtime dtype code (a draft row's dtype inside a kernel templated on the
// target's): f(std::integral_constant<int, DT>) for DT = dt. Written as the conditional chain the tree walk
// kernels were tuned with: a switch compiles to other branches there (PTX differs).
template <class F>
__device__ __forceinline__ auto with_dtype_code(int dt, F&& f) {
  return dt == 0 ? f(std::integral_constant<int, 0>{}) : dt == 1 ? f(std::integral_constant<int, 1>{}) : f(std::integral_constant<int, 2>{});
}

// Bytes per element of a runtime DType (host or device code).
__host__ __device__ __forceinline__ int elem_bytes(DType dt) { return dt == DType::F32 ? 4 : 2; }

// Row r of a rows × V matrix of T.
template <typename T>
__host__ __device__ __forceinline__ const void* row_of(const void* data, int64_t r, int64_t V) {
  return static_cast<const uint8_t*>(data) + r * V * Elem<T>::kSize;
}

}  // namespace cuda
}  // namespace lw

// Runs the statements that follow with `T` bound to the element type of the runtime DType `dt` (host or device
// code): LW_DISPATCH_DTYPE(l.dtype, T, launch<T>(args));
#define LW_DISPATCH_DTYPE(dt, T, ...)                                       \
  switch (static_cast<::lw::DType>(dt)) {                                   \
    case ::lw::DType::F32: { using T = float; __VA_ARGS__; } break;         \
    case ::lw::DType::F16: { using T = __half; __VA_ARGS__; } break;        \
    default: { using T = __nv_bfloat16; __VA_ARGS__; } break;               \
  }
