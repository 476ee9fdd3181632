// GPU check of verifyTree: CUDA vs CPU token agreement (both walk paths, all dtypes, every mode, many seeds),
// then CUDA-event timings from device-resident bf16 logits at V = 128256 against a measured device copy.
// Build: the check tree_verify_cuda of native/sources.json (npm run check:gpu).
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/tree_verify.h"
#include "cuda/tree_verify_cuda.h"

using namespace lw;

#define CK(x)                                                                           \
  do {                                                                                  \
    cudaError_t e_ = (x);                                                               \
    if (e_ != cudaSuccess) { std::printf("CUDA error %s at %d\n", cudaGetErrorString(e_), __LINE__); std::exit(2); } \
  } while (0)

static uint16_t to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7fff + ((u >> 16) & 1);
  return static_cast<uint16_t>(u >> 16);
}
static uint16_t to_f16(float f) {  // round-to-nearest for normal range (test data is moderate)
  uint32_t u;
  std::memcpy(&u, &f, 4);
  uint32_t sign = (u >> 16) & 0x8000u;
  int e = static_cast<int>((u >> 23) & 0xff) - 127 + 15;
  uint32_t man = u & 0x7fffffu;
  if ((u & 0x7fffffffu) == 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u);
  if (e <= 0) return static_cast<uint16_t>(sign);
  if (e >= 31) return static_cast<uint16_t>(sign | 0x7bffu);
  uint32_t h = sign | (e << 10) | (man >> 13);
  if ((man & 0x1fff) > 0x1000 || ((man & 0x1fff) == 0x1000 && (h & 1))) ++h;
  return static_cast<uint16_t>(h);
}

struct Data {
  std::vector<int32_t> tokens, parents, offsets{0};
  std::vector<float> z, q;
  std::vector<float> T, P, M;
  std::vector<int32_t> K;
  int64_t V = 0;
};

enum class VerifyMode { Greedy, Sample };

// Trees: a chain of `depth` nodes from the root plus random side nodes; planted logits make the chain likely.
static Data make(std::mt19937_64& rng, int B, int nodes, int64_t V, int depth, float plant, float scale) {
  Data d;
  d.V = V;
  for (int b = 0; b < B; ++b) {
    int o = d.offsets.back();
    for (int i = 0; i < nodes; ++i) {
      int par = i == 0 ? -1 : (i <= depth ? i - 1 : static_cast<int>(rng() % i));
      int tok = static_cast<int>(rng() % V);
      if (i > 0) {  // distinct siblings
        for (;;) {
          bool clash = false;
          for (int c = 1; c < i; ++c) if (d.parents[o + c] == par && d.tokens[o + c] == tok) clash = true;
          if (!clash) break;
          tok = static_cast<int>(rng() % V);
        }
      }
      d.tokens.push_back(tok);
      d.parents.push_back(par);
    }
    d.offsets.push_back(o + nodes);
    d.T.push_back(0.6f + (rng() % 80) / 100.f);
    d.K.push_back(0);
    d.P.push_back(1.f);
    d.M.push_back(0.f);
  }
  const int64_t N = d.offsets.back();
  // Fast approximately normal logits (sum of 4 uniforms): the big benchmark batches hold ~10^9 values.
  uint64_t st = rng();
  auto fill = [&](std::vector<float>& a) {
    a.resize(N * V);
    const float k = scale * 1.7320508f / 2147483648.f;
    for (auto& v : a) {
      int64_t acc = 0;
      for (int r = 0; r < 4; ++r) {
        st = st * 6364136223846793005ull + 1442695040888963407ull;
        acc += static_cast<int64_t>(st >> 33);
      }
      v = static_cast<float>(acc - 4 * 1073741824ll) * k;
    }
  };
  fill(d.z);
  fill(d.q);
  for (int b = 0; b < B; ++b) {
    int o = d.offsets[b];
    for (int i = 1; i <= depth && i < nodes; ++i) {
      d.z[(o + i - 1) * V + d.tokens[o + i]] += plant;
      d.q[(o + i - 1) * V + d.tokens[o + i]] += plant;
    }
  }
  return d;
}

struct Inputs {
  std::vector<uint16_t> h16;
  void* dev_t = nullptr;
  void* dev_q = nullptr;
};

// The CUDA path every verify_tree call of this program takes (TreeVerifyArgs::tuning): tree_path 0 auto,
// 1 lazy, 2 rows; tree_cluster 0 auto, else blocks per request.
static Tuning g_paths;

static TreeVerifyArgs args_for(const Data& d, Inputs& in, DType dt, bool on_device, VerifyMode mode, DraftKind dk,
                               uint64_t seed, uint32_t step) {
  const int64_t N = d.offsets.back();
  TreeVerifyArgs a;
  a.trees = {d.tokens.data(), d.parents.data(), d.offsets.data(), static_cast<int64_t>(d.offsets.size()) - 1};
  const void* host = d.z.data();
  if (dt != DType::F32) {
    in.h16.resize(d.z.size());
    for (size_t i = 0; i < d.z.size(); ++i) in.h16[i] = dt == DType::BF16 ? to_bf16(d.z[i]) : to_f16(d.z[i]);
    host = in.h16.data();
  }
  const size_t bytes = N * d.V * dtype_size(dt);
  if (on_device) {
    if (in.dev_t) cudaFree(in.dev_t);
    CK(cudaMalloc(&in.dev_t, bytes));
    CK(cudaMemcpy(in.dev_t, host, bytes, cudaMemcpyHostToDevice));
  }
  a.target = {{on_device ? in.dev_t : host, on_device, 0}, dt, N, d.V};
  a.draft = {{d.q.data(), false, 0}, DType::F32, N, d.V};
  a.sampling.greedy = mode == VerifyMode::Greedy;
  a.drafts = dk;
  a.sampling.temperature.array = d.T.data();
  a.sampling.top_k.array = d.K.data();
  a.sampling.top_p.array = d.P.data();
  if (d.M.size() == d.T.size()) a.sampling.min_p.array = d.M.data();
  a.seed = seed;
  a.step = step;
  a.backend = Backend::Cuda;
  a.tuning.tree_path = g_paths.tree_path;
  a.tuning.tree_cluster = g_paths.tree_cluster;
  return a;
}

static int failures = 0;

static void agreement() {
  std::printf("== CUDA vs CPU token agreement (requests identical / total)\n");
  std::mt19937_64 rng(2024);
  for (int path = 0; path < 3; ++path) {
    g_paths.tree_path = path == 2 ? 2 : 1;
    g_paths.tree_cluster = path == 1 ? 1 : 0;
    const char* path_name = path == 0 ? "lazy" : path == 1 ? "lazy1" : "rows";
    for (int cfg = 0; cfg < 11; ++cfg) {  // 8-10: min-p alone, with top-k and top-p, per request or off
      const VerifyMode mode = cfg == 0 ? VerifyMode::Greedy : VerifyMode::Sample;
      const DraftKind dk = cfg <= 3 || cfg == 8 ? DraftKind::Deterministic
                           : cfg <= 5 || cfg == 9 ? DraftKind::Iid : DraftKind::WithoutReplacement;
      int64_t same = 0, total = 0, greedy_mismatch = 0;
      for (int rep = 0; rep < 6; ++rep) {
        const int64_t V = rep % 3 == 0 ? 128256 : rep % 3 == 1 ? 3000 + rng() % 5000 : 50 + rng() % 900;
        Data d = make(rng, V > 100000 ? 8 : 24, 3 + rng() % 20, V, 4, 6.f, 2.f);
        for (size_t b = 0; b < d.K.size(); ++b) {
          if (cfg == 2 || cfg == 5 || cfg == 9) d.K[b] = 1 + rng() % 60;
          if (cfg == 3 || cfg == 5 || cfg == 7 || cfg == 9 || cfg == 10) d.P[b] = 0.5f + (rng() % 50) / 100.f;
          if (cfg >= 8) d.M[b] = rng() % 4 == 0 ? 0.f : 0.001f + (rng() % 300) / 1000.f;
        }
        const DType dt = static_cast<DType>(rep % 3);
        for (int seed = 0; seed < 4; ++seed) {
          Inputs in;
          TreeVerifyArgs a = args_for(d, in, dt, seed % 2 == 0, mode, dk, 77 + seed * 1000003ull, rep);
          TreeVerifyResult g = verify_tree(a);
          a.backend = Backend::Cpu;
          TreeVerifyArgs ac = args_for(d, in, dt, false, mode, dk, 77 + seed * 1000003ull, rep);
          ac.backend = Backend::Cpu;
          TreeVerifyResult c = verify_tree(ac);
          for (size_t b = 0; b + 1 < g.token_offsets.size(); ++b) {
            ++total;
            bool eq = g.accepted_length[b] == c.accepted_length[b];
            for (int i = 0; eq && i <= g.accepted_length[b]; ++i)
              eq = g.tokens[g.token_offsets[b] + i] == c.tokens[c.token_offsets[b] + i] &&
                   g.accepted_nodes[g.token_offsets[b] + i] == c.accepted_nodes[c.token_offsets[b] + i];
            same += eq;
            if (!eq && mode == VerifyMode::Greedy) ++greedy_mismatch;
            static int shown = 0;
            if (!eq && shown < 6) {  // the first few differences, for diagnosis
              ++shown;
              std::printf("    diff cfg %d V %lld dtype %d seed %d tree %zu: cpu", cfg, (long long)V, (int)dt, seed, b);
              for (int i = c.token_offsets[b]; i < c.token_offsets[b + 1]; ++i) std::printf(" %d@%d", c.tokens[i], c.accepted_nodes[i]);
              std::printf(" | cuda");
              for (int i = g.token_offsets[b]; i < g.token_offsets[b + 1]; ++i) std::printf(" %d@%d", g.tokens[i], g.accepted_nodes[i]);
              std::printf("\n");
            }
          }
          if (in.dev_t) cudaFree(in.dev_t);
        }
      }
      const char* names[] = {"greedy", "deterministic", "det top-k", "det top-p", "iid", "iid top-k+p", "wor", "wor top-p", "det min-p", "iid min-p+k+p", "wor min-p+p"};
      std::printf("  %-5s %-14s %lld / %lld (%.3f%% differ)\n", path_name, names[cfg], (long long)same,
                  (long long)total, 100.0 * (total - same) / total);
      if (greedy_mismatch) { ++failures; std::printf("  FAIL: greedy must agree exactly\n"); }
      if (total - same > total / 50) { ++failures; std::printf("  FAIL: too many differences\n"); }
    }
  }
  g_paths = Tuning{};
}

// A chunk's statistics do not depend on which block of a cluster computed them: every cluster size must emit
// exactly the tokens of one block per request.
static void cluster_identity() {
  std::printf("== cluster sizes give identical tokens (lazy path, every mode)\n");
  std::mt19937_64 rng(7);
  g_paths.tree_path = 1;
  int64_t differ = 0, total = 0;
  for (int cfg = 0; cfg < 8; ++cfg) {
    const VerifyMode mode = cfg == 0 ? VerifyMode::Greedy : VerifyMode::Sample;
    const DraftKind dk = cfg <= 3 ? DraftKind::Deterministic : cfg <= 5 ? DraftKind::Iid : DraftKind::WithoutReplacement;
    for (int rep = 0; rep < 3; ++rep) {
      const int64_t V = rep == 0 ? 128256 : rep == 1 ? 32000 + rng() % 999 : 1000 + rng() % 5000;
      Data d = make(rng, 3 + rng() % 6, 3 + rng() % 20, V, 4, 6.f, 2.f);
      for (size_t b = 0; b < d.K.size(); ++b) {
        if (cfg == 2 || cfg == 5) d.K[b] = 1 + rng() % 60;
        if (cfg == 3 || cfg == 5 || cfg == 7) d.P[b] = 0.5f + (rng() % 50) / 100.f;
      }
      const DType dt = static_cast<DType>(rep % 3);
      std::vector<TreeVerifyResult> res;
      for (int cl : {1, 2, 4, 8, 16}) {
        g_paths.tree_cluster = cl;
        Inputs in;
        res.push_back(verify_tree(args_for(d, in, dt, true, mode, dk, 901 + rep, cfg)));
        if (in.dev_t) cudaFree(in.dev_t);
      }
      for (size_t k = 1; k < res.size(); ++k) {
        ++total;
        if (res[k].tokens != res[0].tokens || res[k].accepted_nodes != res[0].accepted_nodes) ++differ;
      }
    }
  }
  std::printf("  %lld of %lld batches differ\n", (long long)differ, (long long)total);
  if (differ) { ++failures; std::printf("  FAIL: cluster size changed the tokens\n"); }
  g_paths = Tuning{};
}

static double copy_bandwidth() {
  const size_t bytes = size_t(1) << 30;
  void *a, *b;
  CK(cudaMalloc(&a, bytes));
  CK(cudaMalloc(&b, bytes));
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  std::vector<float> ms;
  for (int i = 0; i < 12; ++i) {
    cudaEventRecord(e0);
    cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice);
    cudaEventRecord(e1);
    cudaEventSynchronize(e1);
    float t;
    cudaEventElapsedTime(&t, e0, e1);
    if (i >= 2) ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  cudaFree(a);
  cudaFree(b);
  return 2.0 * bytes / (ms[ms.size() / 2] * 1e-3);  // read + write
}

static void bench_one(const char* name, Data& d, VerifyMode mode, DraftKind dk, double copy_bw);

// TREE_BENCH_CASE="<label>" runs that one timing case only (for the profiler).
static bool want(const std::string& label, bool prefix_only) {
  const char* c = std::getenv("TREE_BENCH_CASE");
  if (!c) return true;
  const std::string want_label(c);
  return prefix_only ? want_label.compare(0, label.size(), label) == 0 : want_label == label;
}

// One case under each walk configuration: the automatic choice, then lazy with one block per request, then
// lazy with each cluster size, then the rows path.
static void bench(const char* name, Data& d, VerifyMode mode, DraftKind dk, double copy_bw) {
  const char* cfgs[][2] = {{nullptr, nullptr}, {"lazy", "1"}, {"lazy", "2"}, {"lazy", "4"}, {"lazy", "8"},
                           {"lazy", "16"}, {"rows", nullptr}};
  for (auto& c : cfgs) {
    g_paths.tree_path = !c[0] ? 0 : std::strcmp(c[0], "rows") == 0 ? 2 : 1;
    g_paths.tree_cluster = c[1] ? std::atoi(c[1]) : 0;
    std::string label = std::string(name) + (c[0] ? std::string(" ") + c[0] + (c[1] ? std::string("/") + c[1] : "") : " auto");
    if (want(label, false)) bench_one(label.c_str(), d, mode, dk, copy_bw);
  }
  g_paths = Tuning{};
}

static void bench_one(const char* name, Data& d, VerifyMode mode, DraftKind dk, double copy_bw) {
  Inputs in;
  TreeVerifyArgs a = args_for(d, in, DType::BF16, true, mode, dk, 5, 1);
  std::vector<uint16_t> q16;
  void* dq = nullptr;
  if (dk != DraftKind::Deterministic) {
    q16.resize(d.q.size());
    for (size_t i = 0; i < q16.size(); ++i) q16[i] = to_bf16(d.q[i]);
    CK(cudaMalloc(&dq, q16.size() * 2));
    CK(cudaMemcpy(dq, q16.data(), q16.size() * 2, cudaMemcpyHostToDevice));
    a.draft = {{dq, true, 0}, DType::BF16, a.target.rows, a.target.vocab};
  }
  validate_tree_verify(a);
  TreePlan plan = plan_tree_verify(a);
  cuda::TreeVerifyCuda run(a, plan);
  run.enqueue();
  TreeVerifyResult r = run.finish();
#ifdef LW_TREE_PROFILE
  { unsigned long long pr[16]; cuda::tree_profile(pr, true); }
#endif
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  std::vector<float> ms;
  for (int i = 0; i < 40; ++i) {
    cudaEventRecord(e0, cudaStreamPerThread);
    run.enqueue();
    cudaEventRecord(e1, cudaStreamPerThread);
    cudaEventSynchronize(e1);
    float t;
    cudaEventElapsedTime(&t, e0, e1);
    if (i >= 5) ms.push_back(t);
  }
  std::sort(ms.begin(), ms.end());
  const double med = ms[ms.size() / 2];
#ifdef LW_TREE_PROFILE
  {
    unsigned long long pr[16];
    cuda::tree_profile(pr, true);
    const char* names[] = {"row_stats", "prep_p", "residual", "race", "select_fast", "select_kept", "kept_mass",
                           "walk", "sf_pass+gather", "gather", "chunk_pass", "special", "token_race", "-", "-", "prep_p calls"};
    std::printf("    profile (block 0, kcycles per call over 40 calls):");
    for (int k = 0; k < 16; ++k)
      if (pr[k] && k != 15) std::printf(" %s %.1f", names[k], pr[k] / 40.0 / 1e3);
    std::printf(" | prep_p calls/call %.1f\n", pr[15] / 40.0);
  }
#endif
  // end to end from the host: setup (plan upload) + kernels + results back
  std::vector<double> e2e;
  for (int i = 0; i < 20; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    TreeVerifyResult rr = verify_tree(a);
    e2e.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(e2e.begin(), e2e.end());
  const int64_t visited = r.token_offsets.back();
  const double row_bytes = d.V * 2.0;
  const double floor_ms = visited * row_bytes / copy_bw * 1e3;  // docs/performance.md: bytes / device-copy rate
  const double acc = double(visited - (int64_t)r.accepted_length.size()) / r.accepted_length.size();
  std::printf("  %-56s [%s x%-2d] GPU median %.4f ms (min %.4f)  accepted %.2f  visited rows %lld  "
              "visited-row floor %.4f ms (%.0f%% of copy bw)  host end-to-end %.1f us\n",
              name, run.rows_path() ? "rows" : "lazy", run.cluster(), med, ms[0], acc, (long long)visited, floor_ms,
              100.0 * floor_ms / med, e2e[e2e.size() / 2]);
  cudaEventDestroy(e0);
  cudaEventDestroy(e1);
  if (in.dev_t) cudaFree(in.dev_t);
  if (dq) cudaFree(dq);
}

static int run_all();
static void smoke();

int main() {
  try {
    return run_all();
  } catch (const std::exception& e) {
    std::printf("FAILED with exception: %s\n", e.what());
    return 1;
  }
}

static void smoke() {
  // root -> 1 (tok 3) -> 2 (tok 5); target rows make both accepted greedily; bonus = argmax of row 2 (7).
  Data d;
  d.V = 8;
  d.tokens = {0, 3, 5};
  d.parents = {-1, 0, 1};
  d.offsets = {0, 3};
  d.z.assign(24, 0.f);
  d.q.assign(24, 0.f);
  d.z[3] = 5; d.z[8 + 5] = 5; d.z[16 + 7] = 5;
  d.T = {1.f}; d.K = {0}; d.P = {1.f};
  Inputs in;
  TreeVerifyResult r = verify_tree(args_for(d, in, DType::F32, true, VerifyMode::Greedy, DraftKind::Deterministic, 1, 0));
  std::printf("smoke greedy: accepted %d tokens", r.accepted_length[0]);
  for (int t : r.tokens) std::printf(" %d", t);
  std::printf(r.accepted_length[0] == 2 && r.tokens == std::vector<int32_t>{3, 5, 7} ? "  ok\n" : "  WRONG\n");
  if (r.accepted_length[0] != 2) ++failures;
  TreeVerifyResult s = verify_tree(args_for(d, in, DType::F32, true, VerifyMode::Sample, DraftKind::Deterministic, 1, 0));
  std::printf("smoke sample: accepted %d\n", s.accepted_length[0]);
  if (in.dev_t) cudaFree(in.dev_t);
}

static int run_all() {
  int dev = 0;
  cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, dev));
  std::printf("device: %s, %d SMs\n", prop.name, prop.multiProcessorCount);
  smoke();
  if (!std::getenv("TREE_BENCH_ONLY")) {
    cluster_identity();
    agreement();
  }
  const double bw = copy_bandwidth();
  std::printf("== timings (CUDA events, median of 35; device-resident bf16, V = 128256); device copy %.2f TB/s\n",
              bw / 1e12);
  std::mt19937_64 rng(99);
  if (want("bs 64 x 64", true)) {
    Data d = make(rng, 64, 64, 128256, 5, 12.f, 2.5f);
    bench("bs 64 x 64 nodes greedy", d, VerifyMode::Greedy, DraftKind::Deterministic, bw);
    for (auto& t : d.T) t = 0.7f;
    for (auto& k : d.K) k = 20;
    for (auto& p : d.P) p = 0.9f;
    bench("bs 64 x 64 sample T0.7 top-k 20 top-p 0.9", d, VerifyMode::Sample, DraftKind::Deterministic, bw);
    for (auto& t : d.T) t = 1.f;
    for (auto& k : d.K) k = 0;
    for (auto& p : d.P) p = 1.f;
    bench("bs 64 x 64 sample T1 (no top-k/p)", d, VerifyMode::Sample, DraftKind::Deterministic, bw);
  }
  if (want("flat", true)) {
    // Flat rows (logit sd 1): top-p 0.9 alone keeps most of the vocabulary, so the fast candidate select
    // overflows and the radix select runs (the slow path).
    Data d = make(rng, 64, 64, 128256, 5, 12.f, 1.0f);
    for (auto& t : d.T) t = 0.8f;
    for (auto& p : d.P) p = 0.9f;
    bench("flat bs 64 x 64 sample T0.8 top-p 0.9", d, VerifyMode::Sample, DraftKind::Deterministic, bw);
  }
  if (want("chain", true)) {
    Data d = make(rng, 64, 16, 128256, 15, 12.f, 2.5f);  // chains of 15 drafts
    for (size_t b = 0; b < d.T.size(); ++b) d.T[b] = 1.f;
    bench("chain bs 64 k 15, real q (iid)", d, VerifyMode::Sample, DraftKind::Iid, bw);
  }
  if (want("bs 1 x 16", true)) {
    Data d = make(rng, 1, 16, 128256, 5, 12.f, 2.5f);
    bench("bs 1 x 16 nodes greedy", d, VerifyMode::Greedy, DraftKind::Deterministic, bw);
    for (auto& t : d.T) t = 0.7f;
    bench("bs 1 x 16 nodes sample T0.7", d, VerifyMode::Sample, DraftKind::Deterministic, bw);
    for (auto& k : d.K) k = 20;
    for (auto& p : d.P) p = 0.9f;
    bench("bs 1 x 16 nodes sample T0.7 top-k 20 top-p 0.9", d, VerifyMode::Sample, DraftKind::Deterministic, bw);
  }
  std::printf(failures ? "FAILED (%d)\n" : "OK\n", failures);
  return failures ? 1 : 0;
}
