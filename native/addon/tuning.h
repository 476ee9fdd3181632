// opts.tuning → core Tuning: the process's values (core/tuning.h) with the keys the call sets replaced.
// { simd?: 'scalar' | 'avx2' | 'avx512', treePath?: 'auto' | 'lazy' | 'rows', treeCluster?: number,
//   xl3mVariant?: 0 | 1 | 2 }; tests and benchmarks pick code paths this way.
#pragma once
#include <napi.h>

#include "core/tuning.h"

namespace lw {
namespace addon {

Tuning tuning_of(const Napi::Object& opts);

}  // namespace addon
}  // namespace lw
