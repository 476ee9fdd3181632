// GPU check + benchmark of XL3M scoring (run by test/gpu/xl3m.sh on a CUDA machine):
// 1) CUDA row values vs CPU row values and the float64 reference (dtypes, awkward vocabularies, few/many rows,
//    host and device inputs, NaN / all −inf rows); 2) 1024 segments × 32 positions × 128256 bf16 device-resident:
//    time (CUDA events, median of ≥ 20) vs a measured device-to-device copy.
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "core/xl3m_score.h"
#include "cpu/kernels_cpu.h"
#include "cuda/kernels_cuda.h"

using namespace lw;

#include "../native/check.h"
#define CU(x) do { cudaError_t e = (x); if (e != cudaSuccess) { std::printf("CUDA error %s at %s:%d\n", cudaGetErrorString(e), __FILE__, __LINE__); return 2; } } while (0)

static uint16_t to_bf16(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return static_cast<uint16_t>((b + 0x7fff + ((b >> 16) & 1)) >> 16);
}
static uint16_t to_f16(float f) {
  _Float16 h = static_cast<_Float16>(f);
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}

__global__ void fill_bf16(uint16_t* out, size_t n, uint32_t seed) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
    uint32_t h = static_cast<uint32_t>(i) * 2654435761u ^ seed ^ static_cast<uint32_t>(i >> 32) * 40503u;
    h ^= h >> 15; h *= 2246822519u; h ^= h >> 13; h *= 3266489917u; h ^= h >> 16;
    float u = (h & 0xffffff) / 16777216.f;  // uniform [0,1) → logit in [-8, 8)
    float x = 16.f * u - 8.f;
    uint32_t b = __float_as_uint(x);
    out[i] = static_cast<uint16_t>((b + 0x7fff + ((b >> 16) & 1)) >> 16);
  }
}

static std::vector<uint8_t> make(DType dt, int64_t n, uint32_t seed, float scale) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.f, scale);
  std::vector<uint8_t> b(static_cast<size_t>(n * dtype_size(dt)));
  for (int64_t i = 0; i < n; ++i) {
    float x = d(g);
    if (dt == DType::F32) std::memcpy(&b[i * 4], &x, 4);
    else { uint16_t h = dt == DType::BF16 ? to_bf16(x) : to_f16(x); std::memcpy(&b[i * 2], &h, 2); }
  }
  return b;
}

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int main() {
  int ndev = 0;
  if (cudaGetDeviceCount(&ndev) != cudaSuccess || ndev == 0) { std::printf("xl3m: no CUDA device, skipped\n"); return 0; }
  cudaDeviceProp prop;
  CU(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s, %d SMs\n", prop.name, prop.multiProcessorCount);

  // ---- 1. correctness
  double worst_cpu = 0, worst_ref = 0;
  const int64_t vocabs[] = {1, 7, 2049, 40001, 128256, 300007};
  const int64_t rowcounts[] = {3, 700};
  const char* variant_names[] = {"lean s,u / 128 threads (default)", "lean s,u / 256 threads", "shared full stats / 128 threads"};
  for (int variant = 0; variant < 3; ++variant)
  for (DType dt : {DType::F32, DType::F16, DType::BF16}) {
    for (int64_t V : vocabs) {
      for (int64_t rows : rowcounts) {
        if (rows * V > 40000000) continue;
        auto buf = make(dt, rows * V, static_cast<uint32_t>(V + rows), 3.f);
        std::vector<int32_t> tg(rows);
        for (int64_t r = 0; r < rows; ++r) tg[r] = static_cast<int32_t>((r * 7919) % V);
        void* dbuf = nullptr;
        CU(cudaMalloc(&dbuf, buf.size()));
        CU(cudaMemcpy(dbuf, buf.data(), buf.size(), cudaMemcpyHostToDevice));
        for (int metric = 0; metric < 2; ++metric) {
          for (int on_dev = 0; on_dev < 2; ++on_dev) {
            Xl3mChunkArgs a;
            a.logits = {{on_dev ? dbuf : buf.data(), on_dev != 0, 0}, dt, rows, V};
            a.targets = tg.data();
            a.temperature = metric ? 1.f : 0.8f;
            a.metric = static_cast<Xl3mMetric>(metric);
            a.segments = rows;
            a.positions = 1;
            a.tuning.xl3m_variant = variant;
            std::vector<float> gpu(rows), cpu(rows);
            xl3m_row_values_cuda(a, gpu.data());
            Xl3mChunkArgs h = a;
            h.logits.mem = {buf.data(), false, 0};
            xl3m_row_values_cpu(h, cpu.data());
            for (int64_t r = 0; r < rows; ++r) {
              double d = std::fabs(gpu[r] - cpu[r]);
              worst_cpu = std::max(worst_cpu, d);
              CHECK(d <= 3e-5 + 3e-6 * std::fabs(cpu[r]), "variant %d dt %d V %lld rows %lld metric %d dev %d row %lld: gpu %g cpu %g",
                    variant, static_cast<int>(dt), (long long)V, (long long)rows, metric, on_dev, (long long)r, gpu[r], cpu[r]);
              if (r < 3) {
                double ref = xl3m_row_value_reference(buf.data() + r * V * dtype_size(dt), dt, V, a.metric, tg[r], a.temperature);
                worst_ref = std::max(worst_ref, std::fabs(gpu[r] - ref));
              }
            }
          }
        }
        CU(cudaFree(dbuf));
      }
    }
  }
  std::printf("correctness (3 kernel variants): max |cuda - cpu| %.3g nats, max |cuda - float64| %.3g nats\n", worst_cpu, worst_ref);
  for (int variant = 0; variant < 3; ++variant) {
    const int64_t V = 5000;
    std::vector<float> x(3 * V, 0.f);
    x[V + 17] = NAN;
    Xl3mChunkArgs a;
    a.logits = {{x.data(), false, 0}, DType::F32, 3, V};
    a.segments = 3;
    a.positions = 1;
    a.tuning.xl3m_variant = variant;
    std::vector<float> v(3);
    xl3m_row_values_cuda(a, v.data());
    CHECK(std::fabs(v[0] - std::log(5000.0)) < 1e-4 && std::isnan(v[1]), "NaN row: %g %g", v[0], v[1]);
    for (int64_t i = 2 * V; i < 3 * V; ++i) x[i] = -INFINITY;
    a.row_offset = 10;
    bool threw = false;
    try { xl3m_row_values_cuda(a, v.data()); } catch (const Error& e) { threw = e.kind == ErrorKind::Range && std::strstr(e.what(), "row 12"); }
    CHECK(threw, "variant %d: all -inf row must be a Range error naming global row 12", variant);
    // +inf entries: the mass sits there (entropy log k); a row mixing -inf and finite values.
    std::vector<float> y(2 * V, 1.f);
    y[3] = INFINITY; y[4000] = INFINITY;
    for (int64_t i = V; i < V + 4000; ++i) y[i] = -INFINITY;
    Xl3mChunkArgs b;
    b.logits = {{y.data(), false, 0}, DType::F32, 2, V};
    b.segments = 2;
    b.positions = 1;
    b.tuning.xl3m_variant = variant;
    std::vector<float> w(2);
    xl3m_row_values_cuda(b, w.data());
    CHECK(std::fabs(w[0] - std::log(2.0)) < 1e-5 && std::fabs(w[1] - std::log(1000.0)) < 1e-4,
          "variant %d: +inf row %g (want log 2), -inf mix %g (want log 1000)", variant, w[0], w[1]);
  }
  // One-shot pooled scores, CUDA vs CPU.
  {
    const int64_t segs = 37, P = 9, V = 32003;
    auto buf = make(DType::BF16, segs * P * V, 77, 2.f);
    Xl3mChunkArgs a;
    a.logits = {{buf.data(), false, 0}, DType::BF16, segs * P, V};
    a.segments = segs;
    a.positions = P;
    std::vector<double> sc(segs * 4), sg(segs * 4);
    xl3m_pool_init(sc.data(), segs);
    xl3m_pool_init(sg.data(), segs);
    xl3m_push(Backend::Cpu, a, sc.data());
    xl3m_push(Backend::Cuda, a, sg.data());
    for (int p = 0; p < 3; ++p) {
      std::vector<float> c(segs), g(segs);
      xl3m_pool_finish(sc.data(), segs, P, static_cast<Xl3mPooling>(p), c.data());
      xl3m_pool_finish(sg.data(), segs, P, static_cast<Xl3mPooling>(p), g.data());
      double d = 0;
      for (int64_t s = 0; s < segs; ++s) d = std::max(d, (double)std::fabs(c[s] - g[s]));
      CHECK(d < 3e-5, "pooled scores pooling %d differ by %g", p, d);
    }
  }
  std::printf("correctness: %s\n", failures ? "FAILED" : "ok");

  // ---- 2. benchmark: 1024 × 32 × 128256 bf16, device-resident
  const int64_t segs = 1024, P = 32, V = 128256, rows = segs * P;
  const size_t bytes = static_cast<size_t>(rows * V * 2);
  uint16_t* d_logits = nullptr;
  void* d_copy = nullptr;
  CU(cudaMalloc(&d_logits, bytes));
  CU(cudaMalloc(&d_copy, bytes));
  fill_bf16<<<prop.multiProcessorCount * 8, 256>>>(d_logits, bytes / 2, 1234u);
  CU(cudaDeviceSynchronize());
  cudaEvent_t e0, e1;
  CU(cudaEventCreate(&e0));
  CU(cudaEventCreate(&e1));
  std::vector<double> copy_ms, score_ms, wall_ms;
  for (int it = 0; it < 25; ++it) {
    CU(cudaEventRecord(e0, cudaStreamPerThread));
    CU(cudaMemcpyAsync(d_copy, d_logits, bytes, cudaMemcpyDeviceToDevice, cudaStreamPerThread));
    CU(cudaEventRecord(e1, cudaStreamPerThread));
    CU(cudaEventSynchronize(e1));
    float ms;
    CU(cudaEventElapsedTime(&ms, e0, e1));
    if (it >= 3) copy_ms.push_back(ms);
  }
  CU(cudaFree(d_copy));
  Xl3mChunkArgs a;
  a.logits = {{d_logits, true, 0}, DType::BF16, rows, V};
  a.segments = segs;
  a.positions = P;
  std::vector<double> state(segs * 4);
  std::vector<float> scores(segs);
  double variant_ms[3] = {0, 0, 0};
  for (int variant = 2; variant >= 0; --variant) {  // default (0) last, so its state is the one checked below
    a.tuning.xl3m_variant = variant;
    score_ms.clear();
    wall_ms.clear();
    for (int it = 0; it < 25; ++it) {
      xl3m_pool_init(state.data(), segs);
      auto t0 = std::chrono::steady_clock::now();
      CU(cudaEventRecord(e0, cudaStreamPerThread));
      xl3m_push(Backend::Cuda, a, state.data());
      CU(cudaEventRecord(e1, cudaStreamPerThread));
      CU(cudaEventSynchronize(e1));
      double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      float ms;
      CU(cudaEventElapsedTime(&ms, e0, e1));
      if (it >= 3) { score_ms.push_back(ms); wall_ms.push_back(wall); }
    }
    variant_ms[variant] = median(score_ms);
  }
  xl3m_pool_finish(state.data(), segs, P, Xl3mPooling::Mean, scores.data());
  // Spot-check the big run against the CPU on the first 8 segments.
  {
    const int64_t sub = 8 * P;
    std::vector<uint16_t> host(static_cast<size_t>(sub * V));
    CU(cudaMemcpy(host.data(), d_logits, host.size() * 2, cudaMemcpyDeviceToHost));
    Xl3mChunkArgs h = a;
    h.logits = {{host.data(), false, 0}, DType::BF16, sub, V};
    std::vector<double> st(segs * 4);
    xl3m_pool_init(st.data(), segs);
    xl3m_push(Backend::Cpu, h, st.data());
    double d = 0;
    for (int64_t s = 0; s < 8; ++s) d = std::max(d, std::fabs(st[s * 4] / P - scores[s]));
    CHECK(d < 3e-5, "big run: first segments differ from CPU by %g", d);
    std::printf("big run vs CPU (8 segments): max |diff| %.3g\n", d);
  }
  double copy = median(copy_ms), score = median(score_ms), wall = median(wall_ms);
  double copy_bw = 2.0 * bytes / (copy * 1e-3) / 1e12;  // read + write
  double score_bw = bytes / (score * 1e-3) / 1e12;
  std::printf("device copy %zu MB: %.3f ms median -> %.2f TB/s (read+write)\n", bytes >> 20, copy, copy_bw);
  std::printf("xl3m score 1024x32x128256 bf16 device-resident: %.3f ms median (events), %.3f ms wall, %.2f TB/s "
              "= %.1f%% of copy bandwidth (target >= 85%%)\n", score, wall, score_bw, 100.0 * score_bw / copy_bw);
  for (int v = 0; v < 3; ++v) {
    double bw = bytes / (variant_ms[v] * 1e-3) / 1e12;
    std::printf("  variant %d (%s): %.3f ms, %.2f TB/s = %.1f%% of copy\n", v, variant_names[v], variant_ms[v], bw,
                100.0 * bw / copy_bw);
  }
  CU(cudaFree(d_logits));
  std::printf(failures ? "RESULT: %d FAILURES\n" : "RESULT: all checks passed\n", failures);
  return failures ? 1 : 0;
}
