// verifyTree CUDA: the logits processors of core/processors.h (allowedTokens, logitBias, penalties) on the device,
// applied on the fly: every load of a row value in the walk (tree_walk_kernel.cuh) passes through them, so a
// processed row is never materialised and the walk streams the caller's rows in their own dtype.
//   - dense part: one mask bit test per element, and one bit test against `any` (the request's flagged tokens:
//     listed in its sorted edit list, or drafted in its tree). The chunk passes load the index words of a chunk
//     with the row (one word per lane, 32 words = one chunk) and hand each lane its bits by shuffle.
//   - edits (rare): when the walk moves to a row, the block computes the processed value of every flagged token
//     of that row once, into a table (shared memory when it fits); a flagged element then costs one table load,
//     found by rank: rank[w] + popcount of the flagged bits below it. The path counts of the drafted tokens are
//     kept incrementally as the walk descends (one token per step). Values go through core's edit_logit, so they
//     are bit-identical to the CPU's.
// The indexes (any, rank: batch × ceil(V/32) words each) and the flagged lists are built on the device per call
// from the plan's sorted lists (index_kernel, tree_bits_kernel, flag_kernel). Calls without processors never
// reach this code (the walk is compiled without it).
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

constexpr int32_t kTableSmem = 1024;  // flagged tokens per request up to which a block's tables sit in shared memory

// The processors of one call as the kernels read them (device memory). active == 0: everything else unused.
struct DeviceProcessors {
  int32_t active;
  int32_t per_node;       // mask rows are global nodes (else requests)
  int32_t path_counts;    // penalties on: the path's drafted tokens add to the counts
  int32_t stride;         // table entries per block: the largest request's flagged capacity (0: no edits)
  int64_t words;          // ceil(V / 32)
  const uint32_t* mask;   // [rows × words] or null
  // Edits (null when the call has none): per request b, word w of each index covers tokens [32w, 32w + 32).
  const uint32_t* any;    // [batch × words] flagged: listed or drafted in b's tree
  const int32_t* rank;    // [batch × words] index in b's flagged list of its first flagged token >= 32w
  const int32_t* fl_off;  // [batch + 1] b's flagged list: fl_*[fl_off[b] .. fl_off[b] + fl_n[b])
  const int32_t* fl_n;
  const int32_t* fl_id;   // ascending
  const float* fl_bias;
  const int32_t* fl_count;  // history count; -1: not listed (drafted only)
  const int32_t* off;     // [batch + 1] the plan's sorted edit lists (the index kernels' input)
  const int32_t* ids;     // sorted, distinct within a request
  const float* bias;
  const int32_t* count;
  uint32_t* listed;       // [batch × words] scratch of the index kernels: ids in b's edit list
  const float* rep;       // [batch]
  const float* freq;
  const float* pres;
  const int32_t* tokens;  // [nodes] the trees' tokens and LOCAL parents (path counts)
  const int32_t* parents;
  const int32_t* roots;   // [batch + 1] tree offsets
  float* tables;          // global tables [grid × 3 × stride] when they do not fit shared memory, else null
  // Per block (the kernel's shared copy only): the p row's and q row's value tables, the path counts, the node
  // they were made for.
  float* tab_p;
  float* tab_q;
  int32_t* pc;
  int32_t at_g;
};

// The processors of one row the walk reads.
struct ProcRow {
  const uint32_t* mask = nullptr;  // the row's mask words, or null
  const uint32_t* any = nullptr;   // the request's index rows, or null (no edits)
  const int32_t* rank = nullptr;
  const float* val = nullptr;      // the row's processed values of the flagged tokens
};

// Table index of flagged token x (its `any` bit set).
__device__ __forceinline__ int32_t flag_index(const ProcRow& r, int64_t x) {
  const int64_t w = x >> 5;
  return r.rank[w] + __popc(r.any[w] & ((1u << (x & 31)) - 1u));
}

// One value of the row: -inf when masked out, the table's when flagged, else as loaded.
__device__ __forceinline__ float proc_value(const ProcRow& r, int64_t x, float z) {
  const int64_t w = x >> 5;
  const uint32_t bit = 1u << (x & 31);
  if (r.mask && !(r.mask[w] & bit)) return -INFINITY;
  if (r.any) {
    const uint32_t a = r.any[w];
    if (a & bit) return r.val[r.rank[w] + __popc(a & (bit - 1u))];
  }
  return z;
}

// E consecutive values v[0..E) of tokens i, i + 1, ... (i a multiple of E, E | 32: one index word), past V
// untouched (they are -inf).
template <int E>
__device__ __forceinline__ void proc_run(const ProcRow& r, int64_t i, int64_t V, float* v) {
  if (i >= V) return;
  const int64_t w = i >> 5;
  const int s = static_cast<int>(i & 31);
  constexpr uint32_t kLanes = E == 32 ? ~0u : (1u << E) - 1u;
  const uint32_t drop = r.mask ? ~(r.mask[w] >> s) & kLanes : 0u;
  const uint32_t a = r.any ? r.any[w] : 0u;
  const uint32_t look = (a >> s) & kLanes & ~drop;
  if (!(drop | look)) return;
  const int32_t k = look ? r.rank[w] : 0;
#pragma unroll
  for (int e = 0; e < E; ++e) {
    if ((drop >> e) & 1u) v[e] = -INFINITY;
    else if ((look >> e) & 1u) v[e] = r.val[k + __popc(a & ((1u << (s + e)) - 1u))];
  }
}

// Index words of one chunk (32 words, 1024 tokens) for a warp: lane l holds word 32c + l of each index.
struct ChunkWords {
  uint32_t m, a;
  int32_t k;
};
__device__ __forceinline__ ChunkWords chunk_words(const ProcRow& r, int32_t c, int64_t words) {
  const int64_t w = static_cast<int64_t>(c) * 32 + (threadIdx.x & 31);
  ChunkWords q{~0u, 0u, 0};
  if (w < words) {
    if (r.mask) q.m = r.mask[w];
    if (r.any) {
      q.a = r.any[w];
      q.k = r.rank[w];
    }
  }
  return q;
}
// Applies them to the E values v of token offset `off` (a multiple of E) in the chunk, off = k·WT + lane·E.
template <int E>
__device__ __forceinline__ void chunk_words_apply(const ProcRow& r, const ChunkWords& q, int off, float* v) {
  constexpr uint32_t kLanes = E == 32 ? ~0u : (1u << E) - 1u;
  const int src = off >> 5, s = off & 31;
  uint32_t drop = 0u, look = 0u, a = 0u;
  int32_t k = 0;
  if (r.mask) drop = ~(__shfl_sync(0xffffffffu, q.m, src) >> s) & kLanes;  // r.mask, r.any: warp-uniform
  if (r.any) {
    a = __shfl_sync(0xffffffffu, q.a, src);
    k = __shfl_sync(0xffffffffu, q.k, src);
    look = (a >> s) & kLanes & ~drop;
  }
  if (!(drop | look)) return;
#pragma unroll
  for (int e = 0; e < E; ++e) {
    if ((drop >> e) & 1u) v[e] = -INFINITY;
    else if ((look >> e) & 1u) v[e] = r.val[k + __popc(a & ((1u << (s + e)) - 1u))];
  }
}

// The view of request b's row g; the caller sets `val` (its own table).
__device__ __forceinline__ ProcRow proc_row(const DeviceProcessors& pr, int64_t b, int32_t g, const float* val) {
  ProcRow r;
  if (pr.mask) r.mask = pr.mask + (pr.per_node ? static_cast<int64_t>(g) : b) * pr.words;
  if (pr.any) {
    r.any = pr.any + b * pr.words;
    r.rank = pr.rank + b * pr.words;
    r.val = val;
  }
  return r;
}

// Path counts of the block at node g (all threads call; pr is the block's shared copy): zero at the root, one
// more token per step down (tree::walk only descends), recounted from scratch otherwise.
__device__ void proc_path_counts(DeviceProcessors& pr, int64_t b, int32_t g) {
  if (!pr.path_counts || g == pr.at_g) return;
  const int32_t root = pr.roots[b];
  const int32_t n = pr.fl_n[b];
  const int32_t at = pr.at_g;
  const bool step = g != root && at >= root && root + pr.parents[g] == at;
  __syncthreads();  // every thread has read at_g
  if (!step)
    for (int32_t j = threadIdx.x; j < n; j += blockDim.x) pr.pc[j] = 0;
  __syncthreads();
  if (threadIdx.x == 0) {
    const uint32_t* any = pr.any + b * pr.words;
    const int32_t* rank = pr.rank + b * pr.words;
    for (int32_t u = g; u != root; u = root + pr.parents[u]) {
      const int32_t t = pr.tokens[u];
      if (t >= 0) {
        const int32_t w = t >> 5;
        ++pr.pc[rank[w] + __popc(any[w] & ((1u << (t & 31)) - 1u))];
      }
      if (step) break;  // the parent's counts are already in
    }
    pr.at_g = g;
  }
  __syncthreads();
}

// The processed values of request b's flagged tokens in `row` (dtype D) into `tab` (all threads call; path
// counts current).
template <int D>
__device__ void proc_fill_table(const DeviceProcessors& pr, int64_t b, const void* row, float* tab) {
  const int32_t n = pr.fl_n[b], o = pr.fl_off[b];
  const float rep = pr.rep[b], freq = pr.freq[b], pres = pr.pres[b];
  for (int32_t j = threadIdx.x; j < n; j += blockDim.x) {
    const float z = ElemOfCode<D>::load(row, pr.fl_id[o + j]);
    const int32_t hc = pr.fl_count[o + j];
    const int32_t c = (hc > 0 ? hc : 0) + (pr.path_counts ? pr.pc[j] : 0);
    tab[j] = hc >= 0 || c > 0 ? edit_logit(z, pr.fl_bias[o + j], c, rep, freq, pres) : z;
  }
}

// Index rows of request b (grid: word blocks × batch): the listed bits from the sorted ids.
__global__ void proc_index_kernel(DeviceProcessors pr, int64_t b0, uint32_t* any) {
  const int32_t* off = pr.off;
  const int32_t* ids = pr.ids;
  const int64_t b = b0 + blockIdx.y, w = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (w >= pr.words) return;
  const int32_t lo = off[b], hi = off[b + 1];
  const int64_t x0 = w * 32;
  int32_t a = lo, e = hi;
  while (a < e) {
    const int32_t mid = (a + e) >> 1;
    if (ids[mid] < x0) a = mid + 1;
    else e = mid;
  }
  uint32_t bits = 0;
  for (int32_t k = a; k < hi && ids[k] < x0 + 32; ++k) bits |= 1u << (ids[k] & 31);
  const int64_t o = b * pr.words + w;
  any[o] = bits;
  pr.listed[o] = bits;
}

// Drafted tokens (non-root nodes, placeholders skipped) into any: one thread per node.
__global__ void proc_tree_bits_kernel(DeviceProcessors pr, int64_t batch, int64_t nodes, uint32_t* any) {
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
  atomicOr(any + lo * pr.words + (t >> 5), 1u << (t & 31));
}

// Request b's flagged list from its bits (one block of NF threads per request): ranks, ids, and the bias / count
// of the listed ones (their index in the sorted edit list is the rank among the listed bits).
constexpr int NF = 256;
__global__ void __launch_bounds__(NF) proc_flag_kernel(DeviceProcessors pr, int32_t* rank, int32_t* fl_n,
                                                       int32_t* fl_id, float* fl_bias, int32_t* fl_count) {
  __shared__ int32_t sa[NF], sl[NF];
  const int64_t b = blockIdx.x, W = pr.words;
  const int64_t per = (W + NF - 1) / NF;
  const int64_t w0 = min(static_cast<int64_t>(threadIdx.x) * per, W), w1 = min(w0 + per, W);
  const uint32_t* any = pr.any + b * W;
  const uint32_t* lst = pr.listed + b * W;
  int32_t na = 0, nl = 0;
  for (int64_t w = w0; w < w1; ++w) na += __popc(any[w]), nl += __popc(lst[w]);
  sa[threadIdx.x] = na;
  sl[threadIdx.x] = nl;
  __syncthreads();
  for (int d = 1; d < NF; d <<= 1) {  // inclusive scans
    const int32_t xa = threadIdx.x >= d ? sa[threadIdx.x - d] : 0, xl = threadIdx.x >= d ? sl[threadIdx.x - d] : 0;
    __syncthreads();
    sa[threadIdx.x] += xa;
    sl[threadIdx.x] += xl;
    __syncthreads();
  }
  int32_t j = sa[threadIdx.x] - na, li = pr.off[b] + sl[threadIdx.x] - nl;
  const int32_t o = pr.fl_off[b];
  for (int64_t w = w0; w < w1; ++w) {
    rank[b * W + w] = j;
    uint32_t a = any[w];
    const uint32_t l = lst[w];
    while (a) {
      const int bit = __ffs(a) - 1;
      a &= a - 1u;
      fl_id[o + j] = static_cast<int32_t>(w * 32 + bit);
      if ((l >> bit) & 1u) {
        fl_bias[o + j] = pr.bias[li];
        fl_count[o + j] = pr.count[li];
        ++li;
      } else {
        fl_bias[o + j] = 0.f;
        fl_count[o + j] = -1;
      }
      ++j;
    }
  }
  if (threadIdx.x == NF - 1) fl_n[b] = sa[NF - 1];
}

}  // namespace tv

// ------------------------------------------------------------------------------------------------ host side

// The processors' slices of the verify plan's workspace (taken before ws.bytes() is read). A request mask goes
// into the plan's one pinned upload; a per-node mask (nodes × ceil(V/32) words) is uploaded on its own.
struct ProcessorSlices {
  Slice<int32_t> off, ids, count, tokens, parents, fl_off;
  Slice<float> bias, rep, freq, pres;
  Slice<uint32_t> mask;
};

// Request b's flagged capacity: its edit list plus its drafted tokens (penalties on), at most V.
inline std::vector<int32_t> flagged_offsets(const ProcessorPlan& pp, const TreeBatchView& t, int64_t V) {
  std::vector<int32_t> o(static_cast<size_t>(t.batch) + 1, 0);
  for (int64_t b = 0; b < t.batch; ++b) {
    int64_t cap = pp.offsets[b + 1] - pp.offsets[b];
    if (pp.path_counts) cap += t.offsets[b + 1] - t.offsets[b] - 1;
    o[b + 1] = o[b] + static_cast<int32_t>(std::min<int64_t>(cap, V));
  }
  return o;
}

inline ProcessorSlices take_processor_slices(Workspace& ws, const ProcessorPlan& pp, const TreeBatchView& t) {
  ProcessorSlices s;
  if (!pp.active) return s;
  const int64_t B = t.batch, N = t.offsets[B];
  if (pp.mask && !pp.mask_per_node && !pp.mask_on_device) s.mask = ws.take<uint32_t>(B * pp.words);
  if (!pp.has_edits()) return s;
  const int64_t E = static_cast<int64_t>(pp.ids.size());
  s.off = ws.take<int32_t>(B + 1);
  s.fl_off = ws.take<int32_t>(B + 1);
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
void fill_processor_slices(const ProcessorSlices& s, Staging& host, const ProcessorPlan& pp, const TreeBatchView& t,
                           int64_t V) {
  if (!pp.active) return;
  if (s.mask.count) s.mask.fill(host, pp.mask);
  if (!pp.has_edits()) return;
  s.off.fill(host, pp.offsets.data());
  s.fl_off.fill(host, flagged_offsets(pp, t, V).data());
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
// is uploaded into `mask_dev`; the indexes and flagged lists are carved from `index_dev` (filled by
// launch_processor_index); the tables by processor_tables once the grid is known.
inline tv::DeviceProcessors device_processors(const ProcessorSlices& s, const void* d, const int32_t* roots_dev,
                                              const ProcessorPlan& pp, const TreeBatchView& t, int64_t V,
                                              Scratch& mask_dev, Scratch& index_dev) {
  tv::DeviceProcessors pr{};
  if (!pp.active) return pr;
  const int64_t B = t.batch;
  pr.active = 1;
  pr.per_node = pp.mask_per_node ? 1 : 0;
  pr.path_counts = pp.path_counts ? 1 : 0;
  pr.words = pp.words;
  pr.at_g = -1;
  if (pp.mask_on_device) pr.mask = pp.mask;  // the caller's device memory, used in place
  else if (pp.mask) pr.mask = pp.mask_per_node ? upload(pp.mask, t.offsets[B] * pp.words, mask_dev) : s.mask.in(d);
  pr.roots = roots_dev;
  if (!pp.has_edits()) return pr;
  pr.off = s.off.in(d);
  pr.fl_off = s.fl_off.in(d);
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
  const std::vector<int32_t> fo = flagged_offsets(pp, t, V);
  int32_t stride = 0;
  for (int64_t b = 0; b < B; ++b) stride = std::max(stride, fo[b + 1] - fo[b]);
  pr.stride = std::max(stride, 1);
  Workspace ws;
  const int64_t n = B * pp.words, F = fo[B];
  const auto any = ws.take<uint32_t>(n), listed = ws.take<uint32_t>(n);
  const auto rank = ws.take<int32_t>(n), fl_n = ws.take<int32_t>(B), fl_id = ws.take<int32_t>(F);
  const auto fl_count = ws.take<int32_t>(F);
  const auto fl_bias = ws.take<float>(F);
  index_dev.reset(ws.bytes());
  void* x = index_dev.as<void>();
  pr.any = any.in(x);
  pr.listed = listed.in(x);
  pr.rank = rank.in(x);
  pr.fl_n = fl_n.in(x);
  pr.fl_id = fl_id.in(x);
  pr.fl_count = fl_count.in(x);
  pr.fl_bias = fl_bias.in(x);
  return pr;
}

// Shared memory the walk kernel adds for the tables (0 when they go to global memory or there are no edits).
inline size_t processor_table_smem(const tv::DeviceProcessors& pr) {
  return pr.any && pr.stride <= tv::kTableSmem ? static_cast<size_t>(3) * pr.stride * sizeof(float) : 0;
}
// Global tables for `blocks` blocks when they do not fit shared memory.
inline void processor_tables(tv::DeviceProcessors& pr, int64_t blocks, Scratch& tables_dev) {
  if (!pr.any || pr.stride <= tv::kTableSmem) return;
  tables_dev.reset(static_cast<size_t>(blocks) * 3 * pr.stride * sizeof(float));
  pr.tables = tables_dev.as<float>();
}

// Fills the indexes and flagged lists of `pr` (stream-ordered, before the walk): listed ids, drafted tokens, then
// the lists.
inline void launch_processor_index(const tv::DeviceProcessors& pr, int64_t batch, int64_t nodes) {
  if (!pr.active || !pr.any) return;
  uint32_t* any = const_cast<uint32_t*>(pr.any);
  for (int64_t b0 = 0; b0 < batch; b0 += 65535) {
    dim3 grid(static_cast<unsigned>((pr.words + 255) / 256), static_cast<unsigned>(std::min<int64_t>(65535, batch - b0)));
    tv::proc_index_kernel<<<grid, 256, 0, cudaStreamPerThread>>>(pr, b0, any);
  }
  if (pr.path_counts && nodes > 0)
    tv::proc_tree_bits_kernel<<<static_cast<unsigned>((nodes + 255) / 256), 256, 0, cudaStreamPerThread>>>(
        pr, batch, nodes, any);
  tv::proc_flag_kernel<<<static_cast<unsigned>(batch), tv::NF, 0, cudaStreamPerThread>>>(
      pr, const_cast<int32_t*>(pr.rank), const_cast<int32_t*>(pr.fl_n), const_cast<int32_t*>(pr.fl_id),
      const_cast<float*>(pr.fl_bias), const_cast<int32_t*>(pr.fl_count));
  check(cudaGetLastError(), "verifyTree processors index kernels launch");
}

}  // namespace cuda
}  // namespace lw
