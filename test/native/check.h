// The failure counter and CHECK macro shared by the native check programs (test/native, test/gpu).
#pragma once
#include <cstdio>

static int failures = 0;

// CHECK(condition, printf-format, args...): prints the failure with its location and counts it.
#define CHECK(c, ...)                                  \
  do {                                                 \
    if (!(c)) {                                        \
      ++failures;                                      \
      std::printf("FAIL %s:%d: ", __FILE__, __LINE__); \
      std::printf(__VA_ARGS__);                        \
      std::printf("\n");                               \
    }                                                  \
  } while (0)
