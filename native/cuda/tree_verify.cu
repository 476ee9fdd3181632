// verifyTree on CUDA. One cluster of blocks per request runs the shared walk (core/tree_walk.h) with every
// thread in lockstep; each visited row is split by chunk ranges over the cluster's blocks (16-byte coalesced
// loads, per-warp partials combined in a fixed order) and the per-chunk results are gathered through
// distributed shared memory, so every block then holds the same statistics and takes the same decisions. A
// chunk's statistics do not depend on which block computed it, so results are identical for any cluster size.
// Small batches first reduce ALL rows in parallel across the GPU ("rows" path) so the walk only merges per-chunk
// statistics; large batches reduce only the rows the walk visits ("lazy" path). Greedy batches use the lean
// kernels of tree_greedy.cuh. top-k / top-p use a radix select on the visited row (counts and fixed-point
// masses in 8-bit digits over the dtype's own monotone key), ties resolved by an ordered scan.
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "check.cuh"
#include "core/dtype.h"
#include "core/row_error.h"
#include "core/tree_paths.h"
#include "core/tree_verify.h"
#include "core/tree_walk.h"
#include "tree_greedy.cuh"
#include "tree_rows.cuh"
#include "tree_verify_cuda.h"
#include "tree_walk_kernel.cuh"
#include "processors.cuh"
#include "workspace.h"

namespace lw {
namespace cuda {
namespace tv {

// Rows path: chunk stats of every row (grid: chunk groups × rows), one warp per (row, chunk).
template <int DT>
__global__ void __launch_bounds__(256) rows_kernel(const void* data, int64_t V, int32_t nch, const float* inv_t_row,
                                                   ChunkStat* out) {
  using L = ChunkLayout<DT>;
  const int64_t r = blockIdx.y;
  const int32_t c = blockIdx.x * 8 + (threadIdx.x >> 5);  // 8 warps per block, one chunk each
  if (c >= nch) return;
  const void* row = static_cast<const uint8_t*>(data) + r * V * Elt<DT>::kSize;
  const bool vec_ok = (reinterpret_cast<uintptr_t>(row) & 15) == 0;
  const float it = inv_t_row ? inv_t_row[r] : 1.f;
  uint4 raw[L::SUB];
  float v[L::N];
  load_chunk<DT>(row, c, V, vec_ok, raw);
  unpack_chunk<DT>(row, c, V, vec_ok, raw, v);
  ChunkStat a = chunk_stat<DT, true>(c, v, it);
  if ((threadIdx.x & 31) == 0) out[r * nch + c] = a;
}

}  // namespace tv

// ------------------------------------------------------------------------------------------------ host side
namespace {

using namespace tv;

}  // namespace

struct TreeVerifyCuda::Impl {
  Params P{};
  DType dt_t = DType::F32;
  int32_t max_children = 0;
  int64_t rows = 0;
  bool rows_path = false;
  size_t smem = 0;
  int64_t batch = 0;
  std::vector<int32_t> host_out;
  Scratch staging_t, staging_q, plan_dev, out_dev;
  const float* inv_t_dev = nullptr;
  std::vector<int32_t> path_off_host;
  bool greedy = false;  // the lean greedy kernel instead of the generic walk
  bool greedy_rows = false;  // small greedy batch: one launch reduces every row, then walks
  const void* fn = nullptr;
  size_t zero_bytes = 8;
  unsigned* ticket = nullptr;
  unsigned long long* row_key = nullptr;
  int32_t* row_bad = nullptr;
  bool processors = false;  // logits processors: walk_kernel<DT, PROC> processes every value it loads (processors.cuh)
  tv::DeviceProcessors pr{};
  Scratch proc_mask, proc_index, proc_tables;
  bool pending = false;  // copies from / to this thread's pinned slots may still be in flight
  cudaEvent_t ev[2] = {nullptr, nullptr};  // host_timing: GPU time of the last enqueue (memset + kernels)
  ~Impl() {
    if (pending) cudaStreamSynchronize(cudaStreamPerThread);  // before a later call reuses the pinned slots
    for (cudaEvent_t e : ev)
      if (e) cudaEventDestroy(e);
  }
};

// Function attributes are per device and sticky: set each (fn, device, smem, cluster flag) once per process
// (cudaFuncSetAttribute costs a few µs per call on the host path).
static void set_attributes(const void* fn, size_t smem, bool large_clusters) {
  static std::mutex mu;
  static std::map<std::tuple<const void*, int, size_t, bool>, bool> done;
  int dev = 0;
  check(cudaGetDevice(&dev), "cudaGetDevice");
  {
    std::lock_guard<std::mutex> lock(mu);
    if (done.count({fn, dev, smem, large_clusters})) return;
  }
  if (smem > 48 * 1024)
    check(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)),
          "cudaFuncSetAttribute (vocabulary too large for shared memory)");
  if (large_clusters)
    check(cudaFuncSetAttribute(fn, cudaFuncAttributeNonPortableClusterSizeAllowed, 1),
          "cudaFuncSetAttribute (cluster size)");
  std::lock_guard<std::mutex> lock(mu);
  done[{fn, dev, smem, large_clusters}] = true;
}

static cudaLaunchConfig_t cluster_config(int64_t blocks, size_t smem, int ncl, cudaLaunchAttribute* attr) {
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = dim3(static_cast<unsigned>(blocks));
  cfg.blockDim = dim3(NT);
  cfg.dynamicSmemBytes = smem;
  cfg.stream = cudaStreamPerThread;
  attr->id = cudaLaunchAttributeClusterDimension;
  attr->val.clusterDim.x = static_cast<unsigned>(ncl);
  attr->val.clusterDim.y = 1;
  attr->val.clusterDim.z = 1;
  cfg.attrs = attr;
  cfg.numAttrs = ncl > 1 ? 1 : 0;
  return cfg;
}

// How many clusters of each size (2, 4, 8, 16 blocks) of kernel fn can be resident at once.
static std::array<int, 5> resident_clusters(const void* fn, int dev, size_t smem) {
  static std::mutex mu;
  static std::map<std::tuple<const void*, int, size_t>, std::array<int, 5>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find({fn, dev, smem});
  if (it != cache.end()) return it->second;
  std::array<int, 5> n{};
  for (int k = 1; k <= 4; ++k) {
    cudaLaunchAttribute attr;
    cudaLaunchConfig_t cfg = cluster_config(1 << k, smem, 1 << k, &attr);
    int c = 0;
    if (cudaOccupancyMaxActiveClusters(&c, fn, &cfg) != cudaSuccess) {
      cudaGetLastError();  // clear: this size is not supported here
      c = 0;
    }
    n[k] = c;
  }
  cache[{fn, dev, smem}] = n;
  return n;
}

// Blocks per request: the largest cluster (up to 8) whose clusters for the whole batch are (nearly) resident
// in one wave, so each visited row is streamed by that many SMs; 1 before sm_90. forced > 0
// (Tuning::tree_cluster) picks the largest resident size <= forced (up to 16).
static int choose_cluster(const void* fn, int dev, size_t smem, int64_t batch, int forced) {
  int major = 0;
  check(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev), "cudaDeviceGetAttribute");
  if (major < 9) return 1;
  set_attributes(fn, smem, true);
  const std::array<int, 5> n = resident_clusters(fn, dev, smem);
  if (forced > 0) {
    for (int k = 4; k >= 1; --k)
      if ((1 << k) <= forced && n[k] > 0) return 1 << k;
    return 1;
  }
  // Larger clusters than 8 measured slower (the per-row barriers grow, the slices shrink); a batch that needs a
  // few more clusters than are resident still gains from the larger size.
  for (int k = 3; k >= 1; --k)
    if (static_cast<int64_t>(n[k]) * 10 >= batch * 9) return 1 << k;
  return 1;
}

static const void* walk_fn(DType dt) {
  LW_DISPATCH_DTYPE(dt, T, return reinterpret_cast<const void*>(walk_kernel<kCodeOf<T>>));
}
static const void* walk_proc_fn(DType dt) {
  LW_DISPATCH_DTYPE(dt, T, return reinterpret_cast<const void*>(walk_kernel<kCodeOf<T>, true>));
}
static const void* greedy_fn(DType dt) {
  LW_DISPATCH_DTYPE(dt, T, return reinterpret_cast<const void*>(greedy_kernel<kCodeOf<T>>));
}

static bool choose_rows_path(const TreeVerifyArgs& a, const TreePlan& plan) {
  if (a.tuning.tree_path != 0) return a.tuning.tree_path == 2;  // forced: 1 lazy, 2 rows
  // Reducing every row costs rows × bytes at full-GPU bandwidth (~3 TB/s); the lazy walk costs about
  // (depth + 1) visited rows at one SM's bandwidth (~0.1 TB/s), in parallel over requests.
  const int64_t visited = std::min<int64_t>(plan.max_depth + 1, 8);
  return plan.nodes < 30 * visited && a.trees.batch <= 64;
}

// The plan in one upload: a workspace layout described once, filled on the host, copied in one transfer.
static void upload_plan(const TreeVerifyArgs& a, const TreePlan& plan, TreeVerifyCuda::Impl& m) {
  const int64_t B = a.trees.batch, N = plan.nodes, nC = static_cast<int64_t>(plan.child_node.size());
  std::vector<KeptRule> rules(B);
  std::vector<float> inv_t_row(N, 1.f);
  for (int64_t b = 0; b < B; ++b) {
    rules[b] = kept_rule(a.sampling, b);
    for (int32_t g = a.trees.offsets[b]; g < a.trees.offsets[b + 1]; ++g) inv_t_row[g] = 1.f / rules[b].temperature;
  }
  Workspace ws;
  const auto offsets = ws.take<int32_t>(B + 1), child_start = ws.take<int32_t>(N + 1);
  const auto child_node = ws.take<int32_t>(nC), child_token = ws.take<int32_t>(nC), kind = ws.take<int32_t>(B);
  const auto rule = ws.take<KeptRule>(B);
  const auto inv_t = ws.take<float>(N);
  const auto path_off = ws.take<int32_t>(B + 1);
  const auto keys = ws.take<uint32_t>(4 * B);  // request b's RowKey k0, k1, request, step
  const ProcessorSlices proc = take_processor_slices(ws, plan.processors, a.trees);
  std::vector<uint32_t> key_words(4 * B);
  for (int64_t b = 0; b < B; ++b) {
    const tree::RowKey rk = tree::request_key(a.seed, a.seeds, a.step, a.steps, b);
    key_words[4 * b] = rk.k0;
    key_words[4 * b + 1] = rk.k1;
    key_words[4 * b + 2] = rk.request;
    key_words[4 * b + 3] = rk.step;
  }
  // Filled in place in this thread's pinned upload slot (a pageable vector under host_legacy).
  std::vector<uint8_t> pageable;
  uint8_t* host = static_cast<uint8_t*>(pinned_host(0, ws.bytes()));
  if (!host) {
    pageable.resize(ws.bytes());
    host = pageable.data();
  }
  offsets.fill(host, a.trees.offsets);
  child_start.fill(host, plan.child_start.data());
  child_node.fill(host, plan.child_node.data());
  child_token.fill(host, plan.child_token.data());
  kind.fill(host, plan.kind.data());
  rule.fill(host, rules.data());
  inv_t.fill(host, inv_t_row.data());
  path_off.fill(host, plan.path_offset.data());
  keys.fill(host, key_words.data());
  fill_processor_slices(proc, host, plan.processors, a.trees, a.target.vocab);
  m.plan_dev.reset(ws.bytes());
  void* d = m.plan_dev.as<void>();
  check(cudaMemcpyAsync(d, host, ws.bytes(), cudaMemcpyHostToDevice, cudaStreamPerThread), "cudaMemcpyAsync plan");
  m.pending = true;
  Params& P = m.P;
  P.offsets = offsets.in(d);
  P.child_start = child_start.in(d);
  P.child_node = child_node.in(d);
  P.child_token = child_token.in(d);
  P.kind = kind.in(d);
  P.rules = rule.in(d);
  P.path_off = path_off.in(d);
  P.keys = keys.in(d);
  m.inv_t_dev = inv_t.in(d);
  if (plan.processors.active)
    m.pr = device_processors(proc, d, offsets.in(d), plan.processors, a.trees, a.target.vocab, m.proc_mask,
                             m.proc_index);
}

// Device outputs: paths (nodes, tokens), counts and the error pair, read back by finish(); the greedy rows path
// adds its ticket and per-row keys / bad flags, zeroed with the error pair before every launch.
static void carve_outputs(bool need_q, TreeVerifyCuda::Impl& m) {
  Params& P = m.P;
  const int64_t N = m.rows, slots = 2 * static_cast<int64_t>(P.total_path) + m.batch;
  const int64_t tail_rows = m.greedy_rows ? N : 0;
  Workspace ws;
  const auto out = ws.take<int32_t>(slots + 2);  // ... then err[2]
  const auto ticket = ws.take<unsigned>(m.greedy_rows ? 1 : 0);
  const auto row_key = ws.take<unsigned long long>(tail_rows);
  const auto row_bad = ws.take<int32_t>(tail_rows);
  const size_t zero_end = ws.bytes();
  const int64_t pre_rows = m.rows_path && !m.greedy_rows ? N : 0;
  const auto pre_t = ws.take<ChunkStat>(pre_rows * P.nch), pre_q = ws.take<ChunkStat>(need_q ? pre_rows * P.nch : 0);

  m.out_dev.reset(ws.bytes());
  void* d = m.out_dev.as<void>();
  P.out = out.in(d);
  P.err = P.out + slots;
  m.zero_bytes = zero_end - (out.offset + slots * sizeof(int32_t));
  m.ticket = ticket.in(d);
  m.row_key = row_key.in(d);
  m.row_bad = row_bad.in(d);
  if (pre_t.count) P.pre_t = pre_t.in(d);
  if (pre_q.count) P.pre_q = pre_q.in(d);
  m.host_out.resize(static_cast<size_t>(out.count));
}

// Ints of the largest request's child lists (child_start nn + 1, child_node and child_token nn - 1 each), or 0
// when they do not fit the 16 KB the kernels stage in shared memory.
static int32_t staged_tree_ints(const TreeBatchView& t) {
  int32_t most = 0;
  for (int64_t b = 0; b < t.batch; ++b) most = std::max(most, 3 * (t.offsets[b + 1] - t.offsets[b]) + 1);
  return most * 4 <= 16 * 1024 ? most : 0;
}

TreeVerifyCuda::TreeVerifyCuda(const TreeVerifyArgs& a, const TreePlan& plan) : impl_(new Impl) {
  Impl& m = *impl_;
  host_mark("cuda setup");
  const int dev = a.target.mem.on_device ? a.target.mem.device : 0;
  check(cudaSetDevice(dev), "cudaSetDevice");
  const int64_t V = a.target.vocab, B = a.trees.batch, N = plan.nodes;
  m.batch = B;
  m.rows = N;
  m.dt_t = a.target.dtype;
  m.max_children = plan.max_children;
  m.path_off_host = plan.path_offset;
  Params& P = m.P;
  P.V = V;
  P.nch = static_cast<int32_t>((V + C - 1) / C);
  P.total_path = plan.path_offset[B];
  P.batch = B;
  P.target = device_input(a.target.mem.data, a.target.mem.on_device, N * V * dtype_size(a.target.dtype), m.staging_t);
  const bool need_q = a.draft.rows > 0 && !a.sampling.greedy && a.drafts != DraftKind::Deterministic;
  if (need_q) {
    P.draft = device_input(a.draft.mem.data, a.draft.mem.on_device, N * V * dtype_size(a.draft.dtype), m.staging_q);
    P.dt_q = static_cast<int>(a.draft.dtype);
  }
  upload_plan(a, plan, m);
  m.processors = plan.processors.active;
  m.rows_path = !m.processors && choose_rows_path(a, plan);
  m.greedy_rows = a.sampling.greedy && m.rows_path && N <= 65535;
  m.greedy = a.sampling.greedy && !m.rows_path && !m.processors;
  carve_outputs(need_q, m);
  P.tree_ints = staged_tree_ints(a.trees);
  m.smem = m.greedy ? static_cast<size_t>(P.tree_ints) * sizeof(int32_t) : walk_smem(P.nch, plan.max_children, P.tree_ints);
  if (m.processors) m.smem += processor_table_smem(m.pr);
  m.fn = m.greedy ? greedy_fn(m.dt_t) : m.processors ? walk_proc_fn(m.dt_t) : walk_fn(m.dt_t);
  set_attributes(m.fn, m.smem, false);
  P.ncl = choose_cluster(m.fn, dev, m.smem, B, a.tuning.tree_cluster);
  if (m.processors) processor_tables(m.pr, B * P.ncl, m.proc_tables);
  host_mark("cuda planned");
}

TreeVerifyCuda::~TreeVerifyCuda() = default;

template <int DT>
static void launch_rows(const void* data, int64_t V, int32_t nch, int64_t rows, const float* inv_t, ChunkStat* out) {
  for (int64_t r0 = 0; r0 < rows; r0 += 65535) {
    const int64_t n = std::min<int64_t>(65535, rows - r0);
    dim3 grid(static_cast<unsigned>((nch + 7) / 8), static_cast<unsigned>(n));
    rows_kernel<DT><<<grid, 256, 0, cudaStreamPerThread>>>(
        static_cast<const uint8_t*>(data) + r0 * V * Elt<DT>::kSize, V, nch, inv_t ? inv_t + r0 : nullptr,
        out + r0 * nch);
  }
  check(cudaGetLastError(), "verifyTree rows kernel launch");
}

// memset of the error pair / tickets, then the path's kernels.
static void launch_all(TreeVerifyCuda::Impl& m) {
  Params& P = m.P;
  check(cudaMemsetAsync(P.err, 0, m.zero_bytes, cudaStreamPerThread), "cudaMemsetAsync");
  if (m.greedy_rows) {
    dim3 grid(static_cast<unsigned>((P.nch + 7) / 8), static_cast<unsigned>(m.rows));
    LW_DISPATCH_DTYPE(m.dt_t, T,
                      greedy_rows_kernel<kCodeOf<T>><<<grid, 256, 0, cudaStreamPerThread>>>(P, m.row_key, m.row_bad,
                                                                                          m.ticket));
    check(cudaGetLastError(), "verifyTree greedy rows kernel launch");
    return;
  }
  if (m.rows_path) {
    const float* it = m.inv_t_dev;
    ChunkStat* pt = const_cast<ChunkStat*>(P.pre_t);
    LW_DISPATCH_DTYPE(m.dt_t, T, launch_rows<kCodeOf<T>>(P.target, P.V, P.nch, m.rows, it, pt));
    if (P.pre_q) {
      ChunkStat* pq = const_cast<ChunkStat*>(P.pre_q);
      LW_DISPATCH_DTYPE(P.dt_q, Q, launch_rows<kCodeOf<Q>>(P.draft, P.V, P.nch, m.rows, nullptr, pq));
    }
  }
  launch_processor_index(m.pr, m.batch, m.rows);
  cudaLaunchAttribute attr;
  cudaLaunchConfig_t cfg = cluster_config(m.batch * P.ncl, m.smem, P.ncl, &attr);
  void* args[] = {&P, &m.max_children, &m.pr};
  check(cudaLaunchKernelExC(&cfg, m.fn, args), "verifyTree walk kernel launch");
}

void TreeVerifyCuda::enqueue() {
  Impl& m = *impl_;
  if (process_tuning().host_timing) {
    for (cudaEvent_t& e : m.ev)
      if (!e) check(cudaEventCreate(&e), "cudaEventCreate");
    check(cudaEventRecord(m.ev[0], cudaStreamPerThread), "cudaEventRecord");
  }
  launch_all(m);
  if (m.ev[1]) check(cudaEventRecord(m.ev[1], cudaStreamPerThread), "cudaEventRecord");
  host_mark("cuda launched");
}

bool TreeVerifyCuda::rows_path() const { return impl_->rows_path; }

#ifdef LW_TREE_PROFILE
void tree_profile(unsigned long long* out, bool reset) {
  check(cudaMemcpyFromSymbol(out, tv::g_prof, sizeof(tv::g_prof)), "profile");
  if (reset) {
    unsigned long long z[16] = {};
    check(cudaMemcpyToSymbol(tv::g_prof, z, sizeof(z)), "profile");
  }
}
#endif
int TreeVerifyCuda::cluster() const { return impl_->greedy_rows ? 1 : impl_->P.ncl; }

TreeVerifyResult TreeVerifyCuda::finish() {
  Impl& m = *impl_;
  Params& P = m.P;
  const size_t bytes = m.host_out.size() * 4;
  int32_t* pinned = static_cast<int32_t*>(pinned_host(1, bytes));
  int32_t* dst = pinned ? pinned : m.host_out.data();
  check(cudaMemcpyAsync(dst, P.out, bytes, cudaMemcpyDeviceToHost, cudaStreamPerThread), "cudaMemcpyAsync results");
  host_mark("cuda enqueued");
  check(cudaStreamSynchronize(cudaStreamPerThread), "verifyTree");
  m.pending = false;
  host_mark("cuda synced");
  if (m.ev[1]) {
    float ms = 0.f;
    if (cudaEventElapsedTime(&ms, m.ev[0], m.ev[1]) == cudaSuccess) host_value("gpu ns", static_cast<long long>(ms * 1e6));
    cudaGetLastError();
  }
  const int32_t* h = dst;
  const int32_t* err = h + 2 * static_cast<size_t>(P.total_path) + m.batch;
  // Kernel error codes (BlockOps::fail): 1 / 2 target row NaN-or-+inf / no finite logit, 3 / 4 the same for draft.
  if (err[0]) {
    throw_row_error(err[0] <= 2 ? "target" : "draft", err[1],
                    err[0] == 1 || err[0] == 3 ? RowError::NonFinite
                    : m.processors            ? RowError::NoAllowedToken
                                              : RowError::NoFiniteLogit);
  }
  TreeVerifyResult res = compact_paths(h, h + P.total_path, h + 2 * static_cast<size_t>(P.total_path), m.path_off_host, m.batch);
  host_mark("results compacted");
  return res;
}

}  // namespace cuda

TreeVerifyResult verify_tree_cuda(const TreeVerifyArgs& a, const TreePlan& plan) {
  cuda::TreeVerifyCuda run(a, plan);
  run.enqueue();
  return run.finish();
}

}  // namespace lw
