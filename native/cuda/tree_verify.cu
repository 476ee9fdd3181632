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
#include "core/tree_verify.h"
#include "core/tree_walk.h"
#include "tree_greedy.cuh"
#include "tree_rows.cuh"
#include "tree_verify_cuda.h"
#include "tree_walk_kernel.cuh"

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
  const void* row = static_cast<const uint8_t*>(data) + r * V * (DT == 0 ? 4 : 2);
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

template <typename T>
void put(std::vector<int32_t>& buf, size_t at, const T* src, size_t n) {
  std::memcpy(buf.data() + at, src, n * sizeof(T));
}

}  // namespace

struct TreeVerifyCuda::Impl {
  Params P{};
  int dt_t = 0;
  int32_t max_children = 0;
  int64_t rows = 0;
  bool rows_path = false;
  size_t smem = 0;
  int64_t batch = 0;
  std::vector<int32_t> host_out;
  Scratch staging_t, staging_q, plan_dev, out_dev, pre_dev;
  std::vector<float> inv_t_row;
  const float* inv_t_dev = nullptr;
  std::vector<int32_t> path_off_host;
  bool greedy = false;  // the lean greedy kernel instead of the generic walk
  bool greedy_rows = false;  // small greedy batch: one launch reduces every row, then walks
  const void* fn = nullptr;
  size_t zero_bytes = 8;
  unsigned* ticket = nullptr;
  unsigned long long* row_key = nullptr;
  int32_t* row_bad = nullptr;
};

static void set_attributes(const void* fn, size_t smem, bool large_clusters) {
  if (smem > 48 * 1024)
    check(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)),
          "cudaFuncSetAttribute (vocabulary too large for shared memory)");
  if (large_clusters)
    check(cudaFuncSetAttribute(fn, cudaFuncAttributeNonPortableClusterSizeAllowed, 1),
          "cudaFuncSetAttribute (cluster size)");
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
// in one wave, so each visited row is streamed by that many SMs; 1 before sm_90. LENGTHWISE_TREE_CLUSTER
// forces a size (up to 16).
static int choose_cluster(const void* fn, int dev, size_t smem, int64_t batch) {
  int major = 0;
  check(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev), "cudaDeviceGetAttribute");
  if (major < 9) return 1;
  set_attributes(fn, smem, true);
  const std::array<int, 5> n = resident_clusters(fn, dev, smem);
  if (const char* e = std::getenv("LENGTHWISE_TREE_CLUSTER")) {
    const int want = std::atoi(e);
    for (int k = 4; k >= 1; --k)
      if ((1 << k) <= want && n[k] > 0) return 1 << k;
    return 1;
  }
  // Larger clusters than 8 measured slower (the per-row barriers grow, the slices shrink); a batch that needs a
  // few more clusters than are resident still gains from the larger size.
  for (int k = 3; k >= 1; --k)
    if (static_cast<int64_t>(n[k]) * 10 >= batch * 9) return 1 << k;
  return 1;
}

static const void* walk_fn(int dt) {
  return dt == 0 ? reinterpret_cast<const void*>(walk_kernel<0>)
       : dt == 1 ? reinterpret_cast<const void*>(walk_kernel<1>)
                 : reinterpret_cast<const void*>(walk_kernel<2>);
}
static const void* greedy_fn(int dt) {
  return dt == 0 ? reinterpret_cast<const void*>(greedy_kernel<0>)
       : dt == 1 ? reinterpret_cast<const void*>(greedy_kernel<1>)
                 : reinterpret_cast<const void*>(greedy_kernel<2>);
}

static bool choose_rows_path(const TreeVerifyArgs& a, const TreePlan& plan) {
  if (const char* e = std::getenv("LENGTHWISE_TREE_PATH")) {
    if (std::strcmp(e, "rows") == 0) return true;
    if (std::strcmp(e, "lazy") == 0) return false;
  }
  // Reducing every row costs rows × bytes at full-GPU bandwidth (~3 TB/s); the lazy walk costs about
  // (depth + 1) visited rows at one SM's bandwidth (~0.1 TB/s), in parallel over requests.
  const int64_t visited = std::min<int64_t>(plan.max_depth + 1, 8);
  return plan.nodes < 30 * visited && a.trees.batch <= 64;
}

TreeVerifyCuda::TreeVerifyCuda(const TreeVerifyArgs& a, const TreePlan& plan) : impl_(new Impl) {
  Impl& m = *impl_;
  const int dev = a.target.mem.on_device ? a.target.mem.device : 0;
  check(cudaSetDevice(dev), "cudaSetDevice");
  const int64_t V = a.target.vocab, B = a.trees.batch, N = plan.nodes;
  m.batch = B;
  m.rows = N;
  m.dt_t = static_cast<int>(a.target.dtype);
  m.max_children = plan.max_children;
  Params& P = m.P;
  P.V = V;
  P.nch = static_cast<int32_t>((V + C - 1) / C);
  P.total_path = plan.path_offset[B];
  P.batch = B;
  P.k0 = static_cast<uint32_t>(a.seed);
  P.k1 = static_cast<uint32_t>(a.seed >> 32);
  P.step = a.step;
  P.target = device_input(a.target.mem.data, a.target.mem.on_device,
                          static_cast<size_t>(N * V * dtype_size(a.target.dtype)), m.staging_t);
  const bool need_q = a.draft.rows > 0 && !a.sampling.greedy && a.drafts != DraftKind::Deterministic;
  if (need_q) {
    P.draft = device_input(a.draft.mem.data, a.draft.mem.on_device,
                           static_cast<size_t>(N * V * dtype_size(a.draft.dtype)), m.staging_q);
    P.dt_q = static_cast<int>(a.draft.dtype);
  }
  // One upload for the plan: offsets, child lists, kinds, per-request parameters, per-row 1/T.
  std::vector<float> T(B, 1.f), Pp(B, 1.f), Mo(B, -INFINITY);
  std::vector<int32_t> K(B, 0);
  for (int64_t b = 0; b < B; ++b) {
    if (!a.sampling.greedy_at(b)) {
      const SamplingRow s = a.sampling.at(b);
      T[b] = s.temperature;
      K[b] = s.top_k;
      Pp[b] = s.top_p;
      if (s.min_p > 0.f) Mo[b] = min_p_offset(s.temperature, s.min_p);
    }
  }
  m.rows_path = choose_rows_path(a, plan);
  m.inv_t_row.assign(N, 1.f);
  for (int64_t b = 0; b < B; ++b)
    for (int32_t g = a.trees.offsets[b]; g < a.trees.offsets[b + 1]; ++g) m.inv_t_row[g] = 1.f / T[b];
  const size_t nC = plan.child_node.size();
  const size_t o_off = 0, o_cs = o_off + B + 1, o_cn = o_cs + N + 1, o_ct = o_cn + nC, o_kind = o_ct + nC,
               o_T = o_kind + B, o_K = o_T + B, o_P = o_K + B, o_M = o_P + B, o_it = o_M + B, o_po = o_it + N,
               total = o_po + B + 1;
  std::vector<int32_t> buf(total);
  put(buf, o_off, a.trees.offsets, B + 1);
  put(buf, o_cs, plan.child_start.data(), N + 1);
  if (nC) put(buf, o_cn, plan.child_node.data(), nC);
  if (nC) put(buf, o_ct, plan.child_token.data(), nC);
  put(buf, o_kind, plan.kind.data(), B);
  put(buf, o_T, T.data(), B);
  put(buf, o_K, K.data(), B);
  put(buf, o_P, Pp.data(), B);
  put(buf, o_M, Mo.data(), B);
  put(buf, o_it, m.inv_t_row.data(), N);
  put(buf, o_po, plan.path_offset.data(), B + 1);
  m.plan_dev.reset(total * 4);
  check(cudaMemcpyAsync(m.plan_dev.as<void>(), buf.data(), total * 4, cudaMemcpyHostToDevice, cudaStreamPerThread),
        "cudaMemcpyAsync plan");
  const int32_t* d = m.plan_dev.as<int32_t>();
  P.offsets = d + o_off;
  P.child_start = d + o_cs;
  P.child_node = d + o_cn;
  P.child_token = d + o_ct;
  P.kind = d + o_kind;
  P.sampling.temperature = reinterpret_cast<const float*>(d + o_T);
  P.sampling.top_k = d + o_K;
  P.sampling.top_p = reinterpret_cast<const float*>(d + o_P);
  P.sampling.min_p_offset = reinterpret_cast<const float*>(d + o_M);
  m.inv_t_dev = reinterpret_cast<const float*>(d + o_it);
  P.path_off = d + o_po;
  m.path_off_host = plan.path_offset;
  const size_t out_n = 2 * static_cast<size_t>(P.total_path) + B + 2;
  m.greedy_rows = a.sampling.greedy && m.rows_path && N <= 65535;
  // greedy rows path: after err (zeroed together): a ticket, then per-row keys (8-byte aligned) and bad flags
  const size_t extra = m.greedy_rows ? 2 + 2 * static_cast<size_t>(N) + N : 0;
  m.out_dev.reset((out_n + extra) * 4);
  P.out = m.out_dev.as<int32_t>();
  P.err = P.out + 2 * static_cast<size_t>(P.total_path) + B;
  m.host_out.resize(out_n);
  m.zero_bytes = 8;
  if (m.greedy_rows) {
    int32_t* tail = P.err + 2;
    m.ticket = reinterpret_cast<unsigned*>(tail);
    const uintptr_t k = (reinterpret_cast<uintptr_t>(tail + 1) + 7) & ~uintptr_t(7);
    m.row_key = reinterpret_cast<unsigned long long*>(k);
    m.row_bad = reinterpret_cast<int32_t*>(m.row_key + N);
    m.zero_bytes = static_cast<size_t>(reinterpret_cast<uint8_t*>(m.row_bad + N) - reinterpret_cast<uint8_t*>(P.err));
  } else if (m.rows_path) {
    const size_t per = static_cast<size_t>(P.nch) * sizeof(ChunkStat);
    m.pre_dev.reset(per * N * (need_q ? 2 : 1));
    P.pre_t = m.pre_dev.as<ChunkStat>();
    if (need_q) P.pre_q = P.pre_t + static_cast<size_t>(P.nch) * N;
  }
  int32_t tree_ints = 0;
  for (int64_t b = 0; b < B; ++b) {
    const int32_t nn = a.trees.offsets[b + 1] - a.trees.offsets[b];
    tree_ints = std::max(tree_ints, 3 * nn + 1);  // child_start (nn + 1) + child_node, child_token (nn - 1 each)
  }
  P.tree_ints = tree_ints * 4 <= 16 * 1024 ? tree_ints : 0;
  m.greedy = a.sampling.greedy && !m.rows_path;
  m.smem = m.greedy ? static_cast<size_t>(P.tree_ints) * sizeof(int32_t)
                     : walk_smem(P.nch, plan.max_children, P.tree_ints);
  m.fn = m.greedy ? greedy_fn(m.dt_t) : walk_fn(m.dt_t);
  set_attributes(m.fn, m.smem, false);
  P.ncl = choose_cluster(m.fn, dev, m.smem, B);
}

TreeVerifyCuda::~TreeVerifyCuda() = default;

template <int DT>
static void launch_rows(const void* data, int64_t V, int32_t nch, int64_t rows, const float* inv_t, ChunkStat* out) {
  for (int64_t r0 = 0; r0 < rows; r0 += 65535) {
    const int64_t n = std::min<int64_t>(65535, rows - r0);
    dim3 grid(static_cast<unsigned>((nch + 7) / 8), static_cast<unsigned>(n));
    rows_kernel<DT><<<grid, 256, 0, cudaStreamPerThread>>>(
        static_cast<const uint8_t*>(data) + r0 * V * (DT == 0 ? 4 : 2), V, nch, inv_t ? inv_t + r0 : nullptr,
        out + r0 * nch);
  }
  check(cudaGetLastError(), "verifyTree rows kernel launch");
}

void TreeVerifyCuda::enqueue() {
  Impl& m = *impl_;
  Params& P = m.P;
  check(cudaMemsetAsync(P.err, 0, m.zero_bytes, cudaStreamPerThread), "cudaMemsetAsync");
  if (m.greedy_rows) {
    dim3 grid(static_cast<unsigned>((P.nch + 7) / 8), static_cast<unsigned>(m.rows));
    if (m.dt_t == 0) greedy_rows_kernel<0><<<grid, 256, 0, cudaStreamPerThread>>>(P, m.row_key, m.row_bad, m.ticket);
    else if (m.dt_t == 1) greedy_rows_kernel<1><<<grid, 256, 0, cudaStreamPerThread>>>(P, m.row_key, m.row_bad, m.ticket);
    else greedy_rows_kernel<2><<<grid, 256, 0, cudaStreamPerThread>>>(P, m.row_key, m.row_bad, m.ticket);
    check(cudaGetLastError(), "verifyTree greedy rows kernel launch");
    return;
  }
  if (m.rows_path) {
    const float* it = m.inv_t_dev;
    ChunkStat* pt = const_cast<ChunkStat*>(P.pre_t);
    if (m.dt_t == 0) launch_rows<0>(P.target, P.V, P.nch, m.rows, it, pt);
    else if (m.dt_t == 1) launch_rows<1>(P.target, P.V, P.nch, m.rows, it, pt);
    else launch_rows<2>(P.target, P.V, P.nch, m.rows, it, pt);
    if (P.pre_q) {
      ChunkStat* pq = const_cast<ChunkStat*>(P.pre_q);
      if (P.dt_q == 0) launch_rows<0>(P.draft, P.V, P.nch, m.rows, nullptr, pq);
      else if (P.dt_q == 1) launch_rows<1>(P.draft, P.V, P.nch, m.rows, nullptr, pq);
      else launch_rows<2>(P.draft, P.V, P.nch, m.rows, nullptr, pq);
    }
  }
  cudaLaunchAttribute attr;
  cudaLaunchConfig_t cfg = cluster_config(m.batch * P.ncl, m.smem, P.ncl, &attr);
  void* args[] = {&P, &m.max_children};
  check(cudaLaunchKernelExC(&cfg, m.fn, args), "verifyTree walk kernel launch");
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
  check(cudaMemcpyAsync(m.host_out.data(), P.out, m.host_out.size() * 4, cudaMemcpyDeviceToHost, cudaStreamPerThread),
        "cudaMemcpyAsync results");
  check(cudaStreamSynchronize(cudaStreamPerThread), "verifyTree");
  const int32_t* h = m.host_out.data();
  const int32_t* err = h + 2 * static_cast<size_t>(P.total_path) + m.batch;
  if (err[0]) {
    const char* name = err[0] <= 2 ? "target" : "draft";
    const bool nan = err[0] == 1 || err[0] == 3;
    throw_range(std::string(name) + " row " + std::to_string(err[1]) +
                (nan ? " contains NaN or +Infinity (logits must be finite or -Infinity)" : " has no finite logit"));
  }
  TreeVerifyResult r;
  const int64_t B = m.batch;
  r.accepted_length.resize(B);
  r.token_offsets.assign(B + 1, 0);
  const int32_t* cnt = h + 2 * static_cast<size_t>(P.total_path);
  const std::vector<int32_t>& po = m.path_off_host;
  for (int64_t b = 0; b < B; ++b) {
    int32_t n = std::min(cnt[b], po[b + 1] - po[b]);
    r.accepted_length[b] = n - 1;
    r.token_offsets[b + 1] = r.token_offsets[b] + n;
  }
  r.accepted_nodes.resize(r.token_offsets[B]);
  r.tokens.resize(r.token_offsets[B]);
  for (int64_t b = 0; b < B; ++b) {
    const int32_t n = r.token_offsets[b + 1] - r.token_offsets[b];
    std::copy(h + po[b], h + po[b] + n, r.accepted_nodes.begin() + r.token_offsets[b]);
    std::copy(h + P.total_path + po[b], h + P.total_path + po[b] + n, r.tokens.begin() + r.token_offsets[b]);
  }
  return r;
}

}  // namespace cuda

TreeVerifyResult verify_tree_cuda(const TreeVerifyArgs& a, const TreePlan& plan) {
  cuda::TreeVerifyCuda run(a, plan);
  run.enqueue();
  return run.finish();
}

}  // namespace lw
