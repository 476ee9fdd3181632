// verifyTree CUDA: the logits processors of core/processors.h (allowedTokens, logitBias, penalties) on the device.
// A call with processors runs the generic walk on float32 rows: each row the walk visits is first processed by
// the request's cluster into a fresh float32 scratch row (each block over its own chunk range: load in the source
// dtype, mask by one bit test per element, then the few edited ids and path tokens of that range with core's
// edit_logit, so the processed values are bit-identical to the CPU's), and the walk's reductions, selects and
// races then read that row. A scratch row is written once per launch (one slot per visited row): the walk's
// loads take the read-only cache path, which may not see a rewrite. Calls without processors never reach this
// code (the host picks the kernel).
//
// Host side: the plan slices (upload_processors) go into the verify plan's one workspace; the caller's mask is
// uploaded on its own (it can be nodes × ceil(V/32) words).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

#include "core/processors.h"
#include "core/tree_batch.h"
#include "dtype.cuh"
#include "check.cuh"
#include "workspace.h"

namespace lw {
namespace cuda {
namespace tv {

// The processors of one call as the kernels read them (device memory). active == 0: everything else unused.
struct DeviceProcessors {
  int32_t active;
  int32_t per_node;       // mask rows are global nodes (else requests)
  int32_t path_counts;    // penalties on: the path's drafted tokens add to the counts
  int32_t dt_t, dt_q;     // dtype codes of the source target / draft rows
  int64_t words;          // ceil(V / 32)
  const uint32_t* mask;   // [rows × words] or null
  const int32_t* off;     // [batch + 1] into ids / bias / count, or null (no edits)
  const int32_t* ids;     // sorted, distinct within a request
  const float* bias;
  const int32_t* count;
  const float* rep;       // [batch]
  const float* freq;
  const float* pres;
  const int32_t* tokens;  // [nodes] the trees' tokens and LOCAL parents (path counts)
  const int32_t* parents;
  const int32_t* roots;   // [batch + 1] tree offsets
  const void* src_t;      // the caller's rows (device): target, draft (or null)
  const void* src_q;
  float* scratch;         // [batch × slots × stride]: request b's processed rows, in the order the walk visits them
  int64_t stride;         // V rounded up to a multiple of 4 (every scratch row 16-byte aligned: vector loads)
  int32_t slots;          // rows per request: 2 (target, draft) per node of the longest path
};

// Dense part over tokens [x0, x1) of row g: dst[x] = allowed(x) ? src[x] : −inf (the whole block; coalesced).
template <int DS>
__device__ __forceinline__ void processors_dense(const DeviceProcessors& pr, const void* src, const uint32_t* mrow,
                                                 int64_t x0, int64_t x1, float* dst) {
  for (int64_t x = x0 + threadIdx.x; x < x1; x += blockDim.x) {
    float z = ElemOfCode<DS>::load(src, x);
    if (mrow && !((mrow[x >> 5] >> (x & 31)) & 1u)) z = -INFINITY;
    dst[x] = z;
  }
}

// Occurrences of token t on the path of global node g (root exclusive, g inclusive).
__device__ __forceinline__ int32_t path_count(const DeviceProcessors& pr, int32_t root, int32_t g, int32_t t) {
  int32_t c = 0;
  for (int32_t n = g; n != root; n = root + pr.parents[n]) c += pr.tokens[n] == t;
  return c;
}

// Edits of request b at node g on the processed row dst, for the tokens [x0, x1) this block processed (after
// processors_dense, visible to the whole block): the listed ids (bias + history count + path count), then the
// path tokens not listed.
__device__ __forceinline__ void processors_edits(const DeviceProcessors& pr, int64_t b, int32_t g, int64_t x0,
                                                 int64_t x1, float* dst) {
  if (!pr.off) return;
  const int32_t lo = pr.off[b], hi = pr.off[b + 1], root = pr.roots[b];
  const float r = pr.rep[b], f = pr.freq[b], p = pr.pres[b];
  for (int32_t i = lo + threadIdx.x; i < hi; i += blockDim.x) {
    const int32_t x = pr.ids[i];
    if (x < x0 || x >= x1) continue;
    const int32_t c = pr.count[i] + (pr.path_counts ? path_count(pr, root, g, x) : 0);
    dst[x] = edit_logit(dst[x], pr.bias[i], c, r, f, p);
  }
  if (!pr.path_counts) return;
  // Path tokens: thread k takes the k-th node up from g; it edits its token when that is the token's first
  // occurrence from g and the token is not listed (binary search in the sorted list).
  int32_t depth = 0;
  for (int32_t n = g; n != root; n = root + pr.parents[n]) ++depth;
  for (int32_t k = threadIdx.x; k < depth; k += blockDim.x) {
    int32_t n = g;
    for (int32_t s = 0; s < k; ++s) n = root + pr.parents[n];
    const int32_t t = pr.tokens[n];
    if (t < 0 || t < x0 || t >= x1) continue;  // a placeholder draft, or another block's token
    bool first = true;
    for (int32_t m = g; m != n && first; m = root + pr.parents[m]) first = pr.tokens[m] != t;
    if (!first) continue;
    int32_t a = lo, e = hi;
    while (a < e) {
      const int32_t mid = (a + e) >> 1;
      if (pr.ids[mid] < t) a = mid + 1;
      else e = mid;
    }
    if (a < hi && pr.ids[a] == t) continue;
    dst[t] = edit_logit(dst[t], 0.f, path_count(pr, root, g, t), r, f, p);
  }
}

}  // namespace tv

// ------------------------------------------------------------------------------------------------ host side

// The processors' slices of the verify plan's workspace (taken before ws.bytes() is read).
struct ProcessorSlices {
  Slice<int32_t> off, ids, count, tokens, parents;
  Slice<float> bias, rep, freq, pres;
};

inline ProcessorSlices take_processor_slices(Workspace& ws, const ProcessorPlan& pp, const TreeBatchView& t) {
  ProcessorSlices s;
  if (!pp.active || !pp.has_edits()) return s;
  const int64_t B = t.batch, N = t.offsets[B], E = static_cast<int64_t>(pp.ids.size());
  s.off = ws.take<int32_t>(B + 1);
  s.ids = ws.take<int32_t>(E);
  s.count = ws.take<int32_t>(E);
  s.bias = ws.take<float>(E);
  s.rep = ws.take<float>(B);
  s.freq = ws.take<float>(B);
  s.pres = ws.take<float>(B);
  if (pp.path_counts) {
    s.tokens = ws.take<int32_t>(N);
    s.parents = ws.take<int32_t>(N);
  }
  return s;
}

// `host`: the plan's staging (a byte vector or a raw / pinned byte pointer: whatever Slice::fill takes).
template <class Staging>
void fill_processor_slices(const ProcessorSlices& s, Staging& host, const ProcessorPlan& pp, const TreeBatchView& t) {
  if (!pp.active || !pp.has_edits()) return;
  s.off.fill(host, pp.offsets.data());
  s.ids.fill(host, pp.ids.data());
  s.count.fill(host, pp.count.data());
  s.bias.fill(host, pp.bias.data());
  s.rep.fill(host, pp.rep.data());
  s.freq.fill(host, pp.freq.data());
  s.pres.fill(host, pp.pres.data());
  if (pp.path_counts) {
    s.tokens.fill(host, t.tokens);
    s.parents.fill(host, t.parents);
  }
}

// The device view once the plan is uploaded to `d` (offsets: the plan's tree offsets slice there); the mask is
// uploaded into `mask_dev` and the scratch rows allocated in `scratch_dev` (batch × slots × stride floats).
inline tv::DeviceProcessors device_processors(const ProcessorSlices& s, const void* d, const int32_t* roots_dev,
                                              const ProcessorPlan& pp, const TreeBatchView& t, int64_t V,
                                              const void* src_t, int dt_t, const void* src_q, int dt_q,
                                              int32_t slots, Scratch& mask_dev, Scratch& scratch_dev) {
  tv::DeviceProcessors pr{};
  if (!pp.active) return pr;
  const int64_t B = t.batch;
  pr.active = 1;
  pr.per_node = pp.mask_per_node ? 1 : 0;
  pr.path_counts = pp.path_counts ? 1 : 0;
  pr.dt_t = dt_t;
  pr.dt_q = dt_q;
  pr.words = pp.words;
  if (pp.mask) {
    const int64_t rows = pp.mask_per_node ? t.offsets[B] : B;
    pr.mask = upload(pp.mask, rows * pp.words, mask_dev);
  }
  if (pp.has_edits()) {
    pr.off = s.off.in(d);
    pr.ids = s.ids.in(d);
    pr.count = s.count.in(d);
    pr.bias = s.bias.in(d);
    pr.rep = s.rep.in(d);
    pr.freq = s.freq.in(d);
    pr.pres = s.pres.in(d);
    if (pp.path_counts) {
      pr.tokens = s.tokens.in(d);
      pr.parents = s.parents.in(d);
    }
  }
  pr.roots = roots_dev;
  pr.src_t = src_t;
  pr.src_q = src_q;
  pr.stride = (V + 3) / 4 * 4;
  pr.slots = slots;
  scratch_dev.reset(static_cast<size_t>(B) * static_cast<size_t>(slots) * static_cast<size_t>(pr.stride) * sizeof(float));
  pr.scratch = scratch_dev.as<float>();
  return pr;
}

}  // namespace cuda
}  // namespace lw
