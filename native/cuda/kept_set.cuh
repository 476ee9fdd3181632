// verifyTree CUDA: the kept set of a prepared target row under one request's knobs (core/sampling_params.h says
// what each knob does; cpu/kept_set.cc is the CPU twin). The walk (tree_walk_kernel.cuh) fills the row max and
// the chunk statistics, then kept_cut() applies the request's KeptRule: a new knob is a field of KeptRule and a
// step here. Included by tree_verify.cu only.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "core/sampling_params.h"

namespace lw {
namespace cuda {
namespace tv {

// w(x) = exp((z - max) * inv_t); p(x) = kept(x) ? w(x) * inv_sum_f : 0; kept = a prefix of (logit desc, id asc)
// ending at the pivot (the CPU's cpu::KeptSet fields).
struct KeptSet {
  float max = 0.f;                 // row max
  int32_t argmax = 0;              // lowest id attaining it
  float inv_t = 1.f;               // 1 / temperature
  float pivot_logit = -INFINITY;   // kept iff z > pivot_logit, or z == pivot_logit and x <= pivot_id
  int32_t pivot_id = 0x7fffffff;
  double inv_sum = 1.0;            // 1 / Σ_kept w
  float inv_sum_f = 1.f;
  __device__ bool kept(int32_t x, float z) const { return z > pivot_logit || (z == pivot_logit && x <= pivot_id); }
};

// Sets ks's pivot from rule r and returns Σ_kept w (relative to the row max); ks.max and ks.inv_t are set.
// Ops: the block's row passes over the prepared row — count_at_least(t), kept_mass_sum() (Σ w over the current
// pivot), select_kept(K, P) (the pivot of top-K then top-P, and its mass), chunk_masses(max, inv_t) (the whole row).
template <class Ops>
__device__ double kept_cut(Ops& o, const KeptRule& r, KeptSet& ks, int64_t V) {
  int64_t K = (r.top_k > 0 && r.top_k < V) ? r.top_k : V;
  const float P = r.top_p;
  // min-p keeps the prefix z >= max + offset: it only lowers the count top-k keeps (-inf offset: off).
  bool min_p_cut = false;
  float min_p_logit = -INFINITY;
  if (r.min_p_offset > -INFINITY) {
    min_p_logit = ks.max + r.min_p_offset;
    const int64_t n = o.count_at_least(min_p_logit);
    if (n < K) K = n, min_p_cut = true;
  }
  if (min_p_cut && !(P < 1.f)) {
    ks.pivot_logit = min_p_logit;  // every token at or above the threshold, whatever its id
    return o.kept_mass_sum();
  }
  if (K < V || P < 1.f) return o.select_kept(K, P);
  return o.chunk_masses(ks.max, ks.inv_t);
}

}  // namespace tv
}  // namespace cuda
}  // namespace lw
