// The per-thread loop of the CUDA fitting kernel (native/cuda/scaling.cu), written against a small warp
// interface so the same code also runs under a host emulator of a warp (test/native/scaling_warp_check.cc):
//   W::lane()                 lane index 0..31
//   W::ballot(bool)           bit mask of the lanes whose predicate is true (all 32 lanes take part)
//   W::shfl(uint64, src)      value of lane `src`
//   W::next_unit()            (lane 0 only) next unit index from the global counter, or ~0 once cancelled
//   W::progress(uint64)       (lane 0 only) tasks handed out so far
#pragma once
#include <cstdint>

#include "core/scaling/custom_regs.h"
#include "core/scaling/scaling.h"

namespace lw {
namespace scaling {

constexpr int kGpuMemory = 8;  // L-BFGS memory, as on the CPU

struct KernelArgs {
  Problem pb;
  int P, k;                // P: θ length (σ included); k: free law parameters (columns of starts)
  ParamMap map;            // complete map (σ included)
  const double* data;      // 3n (or 4n with ln U): ln N, ln D, ln loss[, ln U] (global; in shared memory when it fits)
  int columns;             // 3 or 4
  bool shared_data;
  const double* weights;   // resamples × n, or null
  const double* starts;    // S × k (free parameters, θ units)
  int64_t S;
  const int64_t* task_ids; // null: task = index
  int64_t total;
  int64_t unit;            // tasks per unit (a multiple of 32)
  unsigned long long* unit_counter;
  StartOutcome* outcome;   // total
  double* theta;           // total × P, or null
  LbfgsControl ctl;
  RegProgram reg;          // custom law on the register evaluator (device pointers); unused by the interpreter kernels
  const volatile int* cancel;             // mapped host memory
  volatile unsigned long long* progress;  // mapped host memory: tasks handed out
};

LW_HD int popcount32(uint32_t v) {
#if defined(__CUDA_ARCH__)
  return __popc(v);
#elif defined(__GNUC__) || defined(__clang__)
  return __builtin_popcount(v);
#else
  int c = 0;
  for (; v; v &= v - 1) ++c;
  return c;
#endif
}

// Work is (resample, start) tasks in units of a.unit consecutive tasks. A warp takes one unit at a time and
// hands its tasks to whichever lanes are free; each loop trip is one objective evaluation in every busy lane.
// `obj` evaluates the objective in θ (model.h's LawObjective, or RegObjective<K> of custom_regs.h).
template <int PL, typename W, typename Obj = LawObjective>
LW_HD void fit_loop(const KernelArgs& a, const LogData& data, W& warp, const Obj& obj = Obj()) {
  const int64_t n = a.pb.n;
  const unsigned lane = warp.lane();
  const int64_t n_units = (a.total + a.unit - 1) / a.unit;
  const bool ident = a.map.identity();
  Lbfgs<PL, kGpuMemory> st;
  const double* w = nullptr;
  int64_t idx = -1;
  bool active = false;
  int64_t cur = 0, end = 0;  // warp-uniform cursor into the current unit
  bool exhausted = false;
  for (;;) {
    const uint32_t need = warp.ballot(!active);
    if (need && !exhausted) {
      if (cur == end) {
        unsigned long long u = 0;
        if (lane == 0) {
          u = warp.next_unit();
          if (u < static_cast<unsigned long long>(n_units)) warp.progress(u * a.unit);
        }
        u = warp.shfl(u, 0);
        if (u >= static_cast<unsigned long long>(n_units)) {
          exhausted = true;
        } else {
          cur = static_cast<int64_t>(u) * a.unit;
          end = cur + a.unit < a.total ? cur + a.unit : a.total;
        }
      }
      if (!exhausted) {
        const int rank = popcount32(need & ((1u << lane) - 1));
        const int64_t avail = end - cur;
        if (!active && rank < avail) {
          idx = cur + rank;
          const int64_t task = a.task_ids ? a.task_ids[idx] : idx;
          const int64_t r = task / a.S, s = task % a.S;
          w = a.weights ? a.weights + r * n : nullptr;
          double x0[kMaxParams] = {0};
          for (int i = 0; i < a.k; ++i) x0[i] = a.map.inverse(i, a.starts[s * a.k + i]);
          if (a.pb.objective == Objective::HuberLikelihood) {
            double th0[kMaxParams] = {0};
            a.map.start_full(a.starts + s * a.k, a.P - 1, th0);
            x0[a.k] = obj.log_scale(a.pb, data, w, th0);
          }
          st.start(a.map.reduced, x0, a.ctl);
          active = true;
        }
        const int64_t given = popcount32(need);
        cur += avail < given ? avail : given;
      }
    }
    if (warp.ballot(active) == 0) break;
    if (active) {
      double g[kMaxParams];
      const double f = reduced_eval(obj, a.pb, a.map, ident, data, w, st.xt, g);
      if (!st.step(f, g)) {
        const bool bad = st.status == FitStatus::BadStart;
        StartOutcome o;
        o.f = bad ? NAN : st.f;
        o.iterations = st.iter;
        o.evaluations = st.nfev;
        o.status = static_cast<int32_t>(st.status);
        a.outcome[idx] = o;
        if (a.theta) {
          double th[kMaxParams], dth[kMaxParams];
          a.map.to_full(st.x, th, dth);
          for (int i = 0; i < a.P; ++i) a.theta[idx * a.P + i] = bad ? NAN : th[i];
        }
        active = false;
      }
    }
  }
}

}  // namespace scaling
}  // namespace lw
