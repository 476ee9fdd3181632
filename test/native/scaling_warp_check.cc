// Host emulation of the CUDA fitting kernel's warp loop (native/cuda/scaling_loop.h): 32 std::threads per warp
// with barrier-based ballot/shuffle run the exact code of the kernel; every task must be fitted exactly once and
// match a plain sequential fit bit for bit; cancellation must stop the warps. No GPU needed.
// Built and run by `npm run check:native` (check scaling_warp in native/sources.json).
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "core/scaling/scaling.h"
#include "cuda/scaling_loop.h"

using namespace lw::scaling;

struct WarpState {
  std::mutex m;
  std::condition_variable cv;
  int arrived = 0;
  long gen = 0;
  uint32_t votes = 0;
  unsigned long long vals[32];
  std::atomic<unsigned long long>* counter;
  const volatile int* cancel;
  std::atomic<unsigned long long> progress{0};
  void barrier() {
    std::unique_lock<std::mutex> lk(m);
    long g = gen;
    if (++arrived == 32) {
      arrived = 0;
      ++gen;
      cv.notify_all();
    } else {
      cv.wait(lk, [&] { return gen != g; });
    }
  }
};

struct HostWarp {
  WarpState* s;
  unsigned id;
  unsigned lane() const { return id; }
  uint32_t ballot(bool p) {
    {
      std::lock_guard<std::mutex> lk(s->m);
      if (p) s->votes |= 1u << id;
    }
    s->barrier();
    uint32_t r;
    {
      std::lock_guard<std::mutex> lk(s->m);
      r = s->votes;
    }
    s->barrier();
    if (id == 0) {
      std::lock_guard<std::mutex> lk(s->m);
      s->votes = 0;
    }
    s->barrier();
    return r;
  }
  unsigned long long shfl(unsigned long long v, int src) {
    {
      std::lock_guard<std::mutex> lk(s->m);
      s->vals[id] = v;
    }
    s->barrier();
    unsigned long long r;
    {
      std::lock_guard<std::mutex> lk(s->m);
      r = s->vals[src];
    }
    s->barrier();
    return r;
  }
  unsigned long long next_unit() { return *s->cancel ? ~0ull : s->counter->fetch_add(1); }
  void progress(unsigned long long v) { s->progress = v; }
};

static int failures = 0;

static void run_warps(const KernelArgs& a, const LogData& data, int warps, const volatile int* cancel) {
  std::atomic<unsigned long long> counter{0};
  std::vector<WarpState> ws(warps);
  std::vector<std::thread> th;
  for (int w = 0; w < warps; ++w) {
    ws[w].counter = &counter;
    ws[w].cancel = cancel;
    for (unsigned l = 0; l < 32; ++l) {
      th.emplace_back([&, w, l] {
        HostWarp hw{&ws[w], l};
        fit_loop<kSmallParams>(a, data, hw);
      });
    }
  }
  for (auto& t : th) t.join();
}

int main() {
  // Synthetic runs from a known law with a little deterministic noise.
  const int n = 60;
  std::vector<double> lN(n), lD(n), lL(n);
  for (int i = 0; i < n; ++i) {
    const double N = std::pow(10, 7 + 3.0 * (i % 10) / 9), D = std::pow(10, 9 + 3.0 * (i / 10) / 5);
    const double L = 1.7 + 400 * std::pow(N, -0.33) + 1500 * std::pow(D, -0.3);
    lN[i] = std::log(N);
    lD[i] = std::log(D);
    lL[i] = std::log(L) + 0.01 * std::sin(7.0 * i);
  }
  std::vector<double> data3;
  data3.insert(data3.end(), lN.begin(), lN.end());
  data3.insert(data3.end(), lD.begin(), lD.end());
  data3.insert(data3.end(), lL.begin(), lL.end());
  const LogData data{data3.data(), data3.data() + n, data3.data() + 2 * n};
  const std::vector<double> grid = default_grid(Law::Chinchilla);
  const int64_t S = 70, R = 3;  // starts taken every 64th grid point
  std::vector<double> starts;
  for (int64_t s = 0; s < S; ++s) starts.insert(starts.end(), &grid[(s * 64) * 5], &grid[(s * 64) * 5 + 5]);
  const std::vector<double> weights = resample_weights(n, R, 9);

  for (int obj = 0; obj < 3; ++obj) {
    KernelArgs a{};
    a.pb.objective = static_cast<Objective>(obj);
    a.pb.n = n;
    a.pb.log_z = log_huber_normaliser(a.pb.delta);
    a.k = 5;
    a.P = total_params(a.pb.law, a.pb.objective);
    a.map = identity_map(a.P);
    a.columns = 3;
    a.weights = weights.data();
    a.starts = starts.data();
    a.S = S;
    a.total = R * S;
    a.unit = 32;
    std::vector<StartOutcome> out(a.total, StartOutcome{-12345.0, -1, -1, -1});
    std::vector<double> theta(a.total * a.P, 0);
    a.outcome = out.data();
    a.theta = theta.data();
    const int no_cancel = 0;
    run_warps(a, data, 3, &no_cancel);
    int mismatches = 0;
    for (int64_t t = 0; t < a.total; ++t) {
      const int64_t r = t / S, s = t % S;
      const double* w = weights.data() + r * n;
      double x0[6] = {0, 0, 0, 0, 0, 0};
      for (int i = 0; i < 5; ++i) x0[i] = starts[s * 5 + i];
      if (a.pb.objective == Objective::HuberLikelihood) x0[5] = initial_log_scale(a.pb, data, w, x0);
      Lbfgs<kSmallParams, kGpuMemory> st;
      st.start(a.P, x0, a.ctl);
      double g[6];
      bool more = true;
      while (more) more = st.step(objective_eval(a.pb, data, w, st.xt, g), g);
      const bool same = out[t].status == static_cast<int>(st.status) && out[t].iterations == st.iter &&
                        out[t].evaluations == st.nfev && (out[t].f == st.f || (std::isnan(out[t].f) && st.status == FitStatus::BadStart)) &&
                        theta[t * a.P] == (st.status == FitStatus::BadStart ? theta[t * a.P] : st.x[0]);
      if (!same && ++mismatches <= 3)
        std::printf("FAIL obj %d task %lld: warp f=%.17g it=%d status=%d | plain f=%.17g it=%d status=%d\n", obj,
                    (long long)t, out[t].f, out[t].iterations, out[t].status, st.f, st.iter, (int)st.status);
    }
    failures += mismatches;
    std::printf("objective %d: %lld tasks through 3 emulated warps, %d mismatches vs plain fits\n", obj,
                (long long)a.total, mismatches);
  }
  {
    // Task-list mode (the refit pass): outcomes land at list positions and match pass-1 outcomes of those tasks.
    KernelArgs a{};
    a.pb.n = n;
    a.k = 5;
    a.P = 5;
    a.map = identity_map(5);
    a.columns = 3;
    a.weights = weights.data();
    a.starts = starts.data();
    a.S = S;
    a.total = R * S;
    a.unit = 32;
    std::vector<StartOutcome> all(a.total);
    a.outcome = all.data();
    const int no_cancel = 0;
    run_warps(a, data, 2, &no_cancel);
    std::vector<int64_t> ids = {5, 77, 140, 3, 209};
    std::vector<StartOutcome> picked(ids.size());
    std::vector<double> th(ids.size() * 5);
    a.task_ids = ids.data();
    a.total = static_cast<int64_t>(ids.size());
    a.outcome = picked.data();
    a.theta = th.data();
    run_warps(a, data, 1, &no_cancel);
    int bad = 0;
    for (size_t i = 0; i < ids.size(); ++i) bad += !(picked[i].f == all[ids[i]].f && picked[i].iterations == all[ids[i]].iterations);
    std::printf("task-list mode: %d mismatches\n", bad);
    failures += bad;
  }
  {
    // Cancelled before the start: the warps must return without fitting anything.
    KernelArgs a{};
    a.pb.n = n;
    a.k = 5;
    a.P = 5;
    a.map = identity_map(5);
    a.columns = 3;
    a.starts = starts.data();
    a.S = S;
    a.total = S;
    a.unit = 32;
    std::vector<StartOutcome> out(a.total, StartOutcome{-1, -1, -1, -1});
    a.outcome = out.data();
    const int cancelled = 1;
    run_warps(a, data, 2, &cancelled);
    int touched = 0;
    for (auto& o : out) touched += o.status != -1;
    std::printf("cancelled run: %d tasks touched\n", touched);
    if (touched) ++failures;
  }
  std::printf(failures ? "%d FAILURES\n" : "warp emulation: all checks passed\n", failures);
  return failures ? 1 : 0;
}
