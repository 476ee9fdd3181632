// verifyTree CUDA: the logits processors of core/processors.h (allowedTokens, logitBias, penalties) on the device,
// applied on the fly: every load of a row value in the walk (tree_walk_kernel.cuh) passes through them, so a
// processed row is never materialised and the walk streams the caller's rows in their own dtype.
//   - dense part: one mask bit test per element, and one bit test against `any` (the tokens with an edit);
//     a lane tests its whole 16-byte vector (4 or 8 consecutive tokens) with one word of each.
//   - edits (rare): a token of the request's sorted edit list (bias, history count) is found by rank, first[w] +
//     popcount of the listed bits below it; a drafted token of the tree adds its occurrences on the row's path.
//     Both go through core's edit_logit, so the processed values are bit-identical to the CPU's.
// The bit indexes (any, listed, tree, first: batch × ceil(V/32) words each) are built on the device per call
// from the plan's sorted lists (index_kernel, tree_bits_kernel). Calls without processors never reach this code
// (the walk is compiled without it).
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
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
  int64_t words;          // ceil(V / 32)
  const uint32_t* mask;   // [rows × words] or null
  // Edits (null when the call has none): per request b, word w of each index covers tokens [32w, 32w + 32).
  const uint32_t* any;    // [batch × words] token listed or drafted in b's tree: the element needs a look
  const uint32_t* listed; // [batch × words] token in b's sorted edit list
  const uint32_t* tree;   // [batch × words] token drafted in b's tree (path counts), or null
  const int32_t* first;   // [batch × words] global index of b's first listed id >= 32w
  const int32_t* off;     // [batch + 1] into ids / bias / count
  const int32_t* ids;     // sorted, distinct within a request
  const float* bias;
  const int32_t* count;
  const float* rep;       // [batch]
  const float* freq;
  const float* pres;
  const int32_t* tokens;  // [nodes] the trees' tokens and LOCAL parents (path counts)
  const int32_t* parents;
  const int32_t* roots;   // [batch + 1] tree offsets
};

// The processors of one row the walk reads: request b at global node g.
struct ProcRow {
  const uint32_t* mask = nullptr;  // the row's mask words, or null
  const uint32_t* any = nullptr;   // request b's index rows, or null (no edits)
  const uint32_t* listed = nullptr;
  const uint32_t* tree = nullptr;
  const int32_t* first = nullptr;
  int32_t g = 0, root = 0;
  float rep = 1.f, freq = 0.f, pres = 0.f;
};

__device__ __forceinline__ ProcRow proc_row(const DeviceProcessors& pr, int64_t b, int32_t g) {
  ProcRow r;
  if (pr.mask) r.mask = pr.mask + (pr.per_node ? static_cast<int64_t>(g) : b) * pr.words;
  if (pr.any) {
    const int64_t o = b * pr.words;
    r.any = pr.any + o;
    r.listed = pr.listed + o;
    r.tree = pr.tree ? pr.tree + o : nullptr;
    r.first = pr.first + o;
    r.rep = pr.rep[b];
    r.freq = pr.freq[b];
    r.pres = pr.pres[b];
  }
  r.g = g;
  r.root = pr.roots[b];
  return r;
}

// Occurrences of token t on the path of global node g (root exclusive, g inclusive).
__device__ __forceinline__ int32_t path_count(const DeviceProcessors& pr, int32_t root, int32_t g, int32_t t) {
  int32_t c = 0;
  for (int32_t n = g; n != root; n = root + pr.parents[n]) c += pr.tokens[n] == t;
  return c;
}

// The processed value of an allowed token x whose `any` bit is set (core's apply_processors, one token).
__device__ __noinline__ float proc_edit(const DeviceProcessors& pr, const ProcRow& r, int64_t x, float z) {
  const int64_t w = x >> 5;
  const uint32_t bit = 1u << (x & 31);
  const uint32_t lw = r.listed[w];
  float bias = 0.f;
  int32_t c = 0;
  const bool listed = (lw & bit) != 0;
  if (listed) {
    const int32_t i = r.first[w] + __popc(lw & (bit - 1u));
    bias = pr.bias[i];
    c = pr.count[i];
  }
  if (r.tree && (r.tree[w] & bit)) c += path_count(pr, r.root, r.g, static_cast<int32_t>(x));
  return listed || c > 0 ? edit_logit(z, bias, c, r.rep, r.freq, r.pres) : z;
}

// One value of the row: -inf when masked out, edited when it has an edit, else as loaded.
__device__ __forceinline__ float proc_value(const DeviceProcessors& pr, const ProcRow& r, int64_t x, float z) {
  const int64_t w = x >> 5;
  const uint32_t bit = 1u << (x & 31);
  if (r.mask && !(r.mask[w] & bit)) return -INFINITY;
  if (r.any && (r.any[w] & bit)) return proc_edit(pr, r, x, z);
  return z;
}

// E consecutive values v[0..E) of tokens i, i + 1, ... (i a multiple of E, E | 32: one index word), past V
// untouched (they are -inf).
template <int E>
__device__ __forceinline__ void proc_run(const DeviceProcessors& pr, const ProcRow& r, int64_t i, int64_t V, float* v) {
  if (i >= V) return;
  const int64_t w = i >> 5;
  const int s = static_cast<int>(i & 31);
  constexpr uint32_t kLanes = E == 32 ? ~0u : (1u << E) - 1u;
  const uint32_t drop = r.mask ? ~(r.mask[w] >> s) & kLanes : 0u;
  const uint32_t look = r.any ? (r.any[w] >> s) & kLanes & ~drop : 0u;
  if (!(drop | look)) return;
#pragma unroll
  for (int e = 0; e < E; ++e) {
    if ((drop >> e) & 1u) v[e] = -INFINITY;
    else if ((look >> e) & 1u) v[e] = proc_edit(pr, r, i + e, v[e]);
  }
}

// Index rows of request b (grid: word blocks × batch): the listed bits and ranks from the sorted ids.
__global__ void proc_index_kernel(DeviceProcessors pr, int64_t b0, uint32_t* any, uint32_t* listed, uint32_t* tree,
                                  int32_t* first) {
  const int64_t b = b0 + blockIdx.y, w = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (w >= pr.words) return;
  const int32_t lo = pr.off[b], hi = pr.off[b + 1];
  const int64_t x0 = w * 32;
  int32_t a = lo, e = hi;
  while (a < e) {
    const int32_t mid = (a + e) >> 1;
    if (pr.ids[mid] < x0) a = mid + 1;
    else e = mid;
  }
  uint32_t bits = 0;
  for (int32_t k = a; k < hi && pr.ids[k] < x0 + 32; ++k) bits |= 1u << (pr.ids[k] & 31);
  const int64_t o = b * pr.words + w;
  any[o] = bits;
  listed[o] = bits;
  first[o] = a;
  if (tree) tree[o] = 0;
}

// Drafted tokens (non-root nodes, placeholders skipped) into tree and any: one thread per node.
__global__ void proc_tree_bits_kernel(DeviceProcessors pr, int64_t batch, int64_t nodes, uint32_t* any, uint32_t* tree) {
  const int64_t g = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (g >= nodes) return;
  int64_t lo = 0, hi = batch;  // request of g: the last b with roots[b] <= g
  while (hi - lo > 1) {
    const int64_t mid = (lo + hi) >> 1;
    if (pr.roots[mid] <= g) lo = mid;
    else hi = mid;
  }
  const int32_t t = pr.tokens[g];
  if (g == pr.roots[lo] || t < 0) return;
  const int64_t o = lo * pr.words + (t >> 5);
  const uint32_t bit = 1u << (t & 31);
  atomicOr(tree + o, bit);
  atomicOr(any + o, bit);
}

}  // namespace tv

// ------------------------------------------------------------------------------------------------ host side

// The processors' slices of the verify plan's workspace (taken before ws.bytes() is read). A request mask goes
// into the plan's one pinned upload; a per-node mask (nodes × ceil(V/32) words) is uploaded on its own.
struct ProcessorSlices {
  Slice<int32_t> off, ids, count, tokens, parents;
  Slice<float> bias, rep, freq, pres;
  Slice<uint32_t> mask;
};

inline ProcessorSlices take_processor_slices(Workspace& ws, const ProcessorPlan& pp, const TreeBatchView& t) {
  ProcessorSlices s;
  if (!pp.active) return s;
  const int64_t B = t.batch, N = t.offsets[B];
  if (pp.mask && !pp.mask_per_node && !pp.mask_on_device) s.mask = ws.take<uint32_t>(B * pp.words);
  if (!pp.has_edits()) return s;
  const int64_t E = static_cast<int64_t>(pp.ids.size());
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
  if (!pp.active) return;
  if (s.mask.count) s.mask.fill(host, pp.mask);
  if (!pp.has_edits()) return;
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

// The device view once the plan is uploaded to `d` (roots_dev: the plan's tree offsets there). A per-node mask
// is uploaded into `mask_dev`; the bit indexes are carved from `index_dev` (filled by launch_processor_index).
inline tv::DeviceProcessors device_processors(const ProcessorSlices& s, const void* d, const int32_t* roots_dev,
                                              const ProcessorPlan& pp, const TreeBatchView& t, Scratch& mask_dev,
                                              Scratch& index_dev) {
  tv::DeviceProcessors pr{};
  if (!pp.active) return pr;
  const int64_t B = t.batch;
  pr.active = 1;
  pr.per_node = pp.mask_per_node ? 1 : 0;
  pr.path_counts = pp.path_counts ? 1 : 0;
  pr.words = pp.words;
  if (pp.mask_on_device) pr.mask = pp.mask;  // the caller's device memory, used in place
  else if (pp.mask) pr.mask = pp.mask_per_node ? upload(pp.mask, t.offsets[B] * pp.words, mask_dev) : s.mask.in(d);
  pr.roots = roots_dev;
  if (!pp.has_edits()) return pr;
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
  Workspace ws;
  const int64_t n = B * pp.words;
  const auto any = ws.take<uint32_t>(n), listed = ws.take<uint32_t>(n), tree = ws.take<uint32_t>(pp.path_counts ? n : 0);
  const auto first = ws.take<int32_t>(n);
  index_dev.reset(ws.bytes());
  void* x = index_dev.as<void>();
  pr.any = any.in(x);
  pr.listed = listed.in(x);
  pr.tree = pp.path_counts ? tree.in(x) : nullptr;
  pr.first = first.in(x);
  return pr;
}

// Fills the bit indexes of `pr` (stream-ordered, before the walk): listed ids, then the drafted tokens.
inline void launch_processor_index(const tv::DeviceProcessors& pr, int64_t batch, int64_t nodes) {
  if (!pr.active || !pr.any) return;
  uint32_t* any = const_cast<uint32_t*>(pr.any);
  uint32_t* tree = const_cast<uint32_t*>(pr.tree);
  for (int64_t b0 = 0; b0 < batch; b0 += 65535) {
    dim3 grid(static_cast<unsigned>((pr.words + 255) / 256), static_cast<unsigned>(std::min<int64_t>(65535, batch - b0)));
    tv::proc_index_kernel<<<grid, 256, 0, cudaStreamPerThread>>>(pr, b0, any, const_cast<uint32_t*>(pr.listed), tree,
                                                                 const_cast<int32_t*>(pr.first));
  }
  if (tree && nodes > 0)
    tv::proc_tree_bits_kernel<<<static_cast<unsigned>((nodes + 255) / 256), 256, 0, cudaStreamPerThread>>>(
        pr, batch, nodes, any, tree);
  check(cudaGetLastError(), "verifyTree processors index kernels launch");
}

}  // namespace cuda
}  // namespace lw
