// Native check of XL3M scoring: CPU row values vs the float64 reference (all dtypes, awkward sizes, every SIMD
// path), chunked pushes == one push bit for bit, pooling, and a throughput line.
// Built and run by `npm run check:native` (check xl3m in native/sources.json).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "core/xl3m_score.h"
#include "cpu/kernels_cpu.h"
#include "cpu/simd.h"

using namespace lw;

static uint16_t to_bf16(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return static_cast<uint16_t>((b + 0x7fff + ((b >> 16) & 1)) >> 16);
}
static uint16_t to_f16(float f) {  // IEEE binary16, round to nearest even, by the compiler's half type
#if defined(__aarch64__)
  __fp16 h = static_cast<__fp16>(f);  // GCC 12 has no _Float16 in C++ on aarch64; __fp16 is IEEE there
#else
  _Float16 h = static_cast<_Float16>(f);
#endif
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}

#include "check.h"

static std::vector<uint8_t> make_logits(DType dt, int64_t rows, int64_t V, uint32_t seed, float scale) {
  std::mt19937 g(seed);
  std::normal_distribution<float> n(0.f, scale);
  std::vector<uint8_t> buf(static_cast<size_t>(rows * V * dtype_size(dt)));
  for (int64_t i = 0; i < rows * V; ++i) {
    float x = n(g);
    if (dt == DType::F32) std::memcpy(&buf[i * 4], &x, 4);
    else {
      uint16_t h = dt == DType::BF16 ? to_bf16(x) : to_f16(x);
      std::memcpy(&buf[i * 2], &h, 2);
    }
  }
  return buf;
}

int main() {
  const DType dts[] = {DType::F32, DType::F16, DType::BF16};
  const int64_t vocabs[] = {1, 7, 31, 2047, 2049, 16385, 40001};
  double worst = 0;
  for (int simd = 0; simd <= 2; ++simd) {
    for (DType dt : dts) {
      for (int64_t V : vocabs) {
        const int64_t segs = 3, P = 5, rows = segs * P;
        auto buf = make_logits(dt, rows, V, static_cast<uint32_t>(V * 7 + static_cast<int>(dt)), 4.f);
        std::vector<int32_t> targets(rows);
        for (int64_t r = 0; r < rows; ++r) targets[r] = static_cast<int32_t>((r * 7919) % V);
        for (int metric = 0; metric < 2; ++metric) {
          for (float T : {1.f, 0.7f}) {
            Xl3mChunkArgs a;
            a.logits = {{buf.data(), false, 0}, dt, rows, V};
            a.targets = targets.data();
            a.temperature = T;
            a.metric = static_cast<Xl3mMetric>(metric);
            a.segments = segs;
            a.positions = P;
            a.tuning.simd_cap = simd;
            std::vector<float> vals(rows);
            xl3m_row_values_cpu(a, vals.data());
            for (int64_t r = 0; r < rows; ++r) {
              double ref = xl3m_row_value_reference(buf.data() + r * V * dtype_size(dt), dt, V, a.metric, targets[r], T);
              double err = std::fabs(vals[r] - ref);
              worst = std::max(worst, err);
              CHECK(err <= 2e-5 + 2e-6 * std::fabs(ref), "simd %d dt %d V %lld metric %d row %lld: %g vs %.9g", simd,
                    static_cast<int>(dt), static_cast<long long>(V), metric, static_cast<long long>(r), vals[r], ref);
            }
          }
        }
      }
    }
  }
  std::printf("max |error| vs float64: %.3g nats\n", worst);

  // Chunked pushes equal one push bit for bit, for every chunk size and pooling.
  {
    const int64_t segs = 7, P = 3, rows = segs * P, V = 40001;
    auto buf = make_logits(DType::BF16, rows, V, 5, 3.f);
    Xl3mChunkArgs a;
    a.logits = {{buf.data(), false, 0}, DType::BF16, rows, V};
    a.segments = segs;
    a.positions = P;
    std::vector<double> one(segs * kXl3mStateStride);
    xl3m_pool_init(one.data(), segs);
    xl3m_push(Backend::Cpu, a, one.data());
    for (int64_t chunk : {1, 2, 5, 20}) {
      std::vector<double> st(segs * kXl3mStateStride);
      xl3m_pool_init(st.data(), segs);
      for (int64_t r = 0; r < rows; r += chunk) {
        Xl3mChunkArgs c = a;
        c.logits.rows = std::min(chunk, rows - r);
        c.logits.mem.data = buf.data() + r * V * 2;
        c.row_offset = r;
        xl3m_push(Backend::Cpu, c, st.data());
      }
      for (int p = 0; p < 3; ++p) {
        std::vector<float> s1(segs), s2(segs);
        xl3m_pool_finish(one.data(), segs, P, static_cast<Xl3mPooling>(p), s1.data());
        xl3m_pool_finish(st.data(), segs, P, static_cast<Xl3mPooling>(p), s2.data());
        CHECK(std::memcmp(s1.data(), s2.data(), segs * 4) == 0, "chunk %lld pooling %d differs", static_cast<long long>(chunk), p);
      }
    }
    // Pooling semantics.
    std::vector<float> vals(rows), mean(segs), last(segs), mn(segs);
    xl3m_row_values_cpu(a, vals.data());
    xl3m_pool_finish(one.data(), segs, P, Xl3mPooling::Mean, mean.data());
    xl3m_pool_finish(one.data(), segs, P, Xl3mPooling::Last, last.data());
    xl3m_pool_finish(one.data(), segs, P, Xl3mPooling::Min, mn.data());
    for (int64_t s = 0; s < segs; ++s) {
      double sum = 0, m = 1e30;
      for (int64_t j = 0; j < P; ++j) { sum += vals[s * P + j]; m = std::min<double>(m, vals[s * P + j]); }
      CHECK(mean[s] == static_cast<float>(sum / P) && last[s] == vals[s * P + P - 1] && mn[s] == static_cast<float>(m),
            "pooling of segment %lld", static_cast<long long>(s));
    }
    bool threw = false;
    try {
      std::vector<double> st(segs * kXl3mStateStride);
      xl3m_pool_init(st.data(), segs);
      std::vector<float> out(segs);
      xl3m_pool_finish(st.data(), segs, P, Xl3mPooling::Mean, out.data());
    } catch (const Error& e) { threw = e.kind == ErrorKind::Range; }
    CHECK(threw, "finish before all rows must throw Range");
  }
  // NaN row → NaN score; all −inf row → Range error.
  {
    const int64_t V = 100;
    std::vector<float> x(2 * V, 0.f);
    x[V + 3] = NAN;
    Xl3mChunkArgs a;
    a.logits = {{x.data(), false, 0}, DType::F32, 2, V};
    a.segments = 2;
    a.positions = 1;
    std::vector<double> st(2 * kXl3mStateStride);
    xl3m_pool_init(st.data(), 2);
    xl3m_push(Backend::Cpu, a, st.data());
    float out[2];
    xl3m_pool_finish(st.data(), 2, 1, Xl3mPooling::Min, out);
    CHECK(std::fabs(out[0] - std::log(100.f)) < 1e-5 && std::isnan(out[1]), "nan row: %g %g", out[0], out[1]);
    for (auto& v : x) v = -INFINITY;
    bool threw = false;
    try { xl3m_push(Backend::Cpu, a, st.data()); } catch (const Error& e) { threw = e.kind == ErrorKind::Range; }
    CHECK(threw, "all -inf row must throw Range");
  }
  // Throughput (fp32 and bf16).
  for (DType dt : {DType::F32, DType::BF16}) {
    const int64_t segs = 64, P = 4, rows = segs * P, V = 128256;
    auto buf = make_logits(dt, rows, V, 9, 3.f);
    Xl3mChunkArgs a;
    a.logits = {{buf.data(), false, 0}, dt, rows, V};
    a.segments = segs;
    a.positions = P;
    std::vector<double> st(segs * kXl3mStateStride);
    double best = 1e9;
    for (int it = 0; it < 5; ++it) {
      xl3m_pool_init(st.data(), segs);
      auto t0 = std::chrono::steady_clock::now();
      xl3m_push(Backend::Cpu, a, st.data());
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::printf("%s %lld x %lld: %.2f ms, %.2f GB/s of logits (simd %s)\n", dt == DType::F32 ? "f32" : "bf16",
                static_cast<long long>(rows), static_cast<long long>(V), best * 1e3, buf.size() / best / 1e9,
                cpu::simd_level_name(cpu::simd_level()));
  }
  std::printf(failures ? "%d FAILURES\n" : "all checks passed\n", failures);
  return failures ? 1 : 0;
}
