// LW_HD marks small functions shared by host C++ and CUDA device code (core stays free of CUDA headers).
#pragma once

#if defined(__CUDACC__)
#define LW_HD __host__ __device__ __forceinline__
#else
#define LW_HD inline
#endif
