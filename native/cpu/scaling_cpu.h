// CPU scaling-law fitting internals: the vectorised Chinchilla objective (null when the CPU has no AVX2).
#pragma once
#include <cstdint>

#include "core/scaling/model.h"

namespace lw {
namespace cpu {

// f and ∇f over `npad` points (a multiple of 8, padding has weight 0); see scaling_simd_body.h.
using ChinchillaEvalFn = double (*)(const scaling::Problem& pb, const double* ln_n, const double* ln_d,
                                    const double* ln_l, const double* w, int64_t npad, const double* th, double* g);

ChinchillaEvalFn chinchilla_simd_eval();

// f and ∇f of a custom law (the bytecode in pb.prog) over `npad` points, vectorised across points; ln_u may be
// null (then U reads D). Same arithmetic order as model.h's objective_eval_any up to the vector exp/log.
using CustomEvalFn = double (*)(const scaling::Problem& pb, const double* ln_n, const double* ln_d, const double* ln_u,
                                const double* ln_l, const double* w, int64_t npad, const double* th, double* g);
CustomEvalFn custom_simd_eval();

}  // namespace cpu
}  // namespace lw
