// CPU backend of multi-start fitting: every (resample, start) pair is one L-BFGS fit; fits run in parallel on
// the pool, in chunks of resamples so the per-fit buffers stay small, then each resample keeps its best start.
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "core/scaling/scaling.h"
#include "kernels_cpu.h"
#include "scaling_cpu.h"

namespace lw {
namespace scaling {

namespace {

constexpr int kMemory = 8;
constexpr int64_t kPad = 8;
constexpr int64_t kChunkFits = 1 << 16;

struct PaddedData {
  int64_t n = 0, npad = 0;
  std::vector<double> ln_n, ln_d, ln_l, w;  // w: resamples × npad
};

PaddedData pad(const MultiStartJob& j) {
  PaddedData p;
  p.n = j.pb.n;
  p.npad = (p.n + kPad - 1) / kPad * kPad;
  auto copy = [&](const double* src, std::vector<double>& dst) {
    dst.assign(p.npad, 0.0);
    std::copy(src, src + p.n, dst.begin());
  };
  copy(j.ln_n, p.ln_n);
  copy(j.ln_d, p.ln_d);
  copy(j.ln_l, p.ln_l);
  p.w.assign(static_cast<size_t>(j.resamples * p.npad), 0.0);
  for (int64_t r = 0; r < j.resamples; ++r)
    for (int64_t i = 0; i < p.n; ++i) p.w[r * p.npad + i] = j.weights ? j.weights[r * p.n + i] : 1.0;
  return p;
}

// One fit from `start`; returns the outcome and writes the final parameters.
StartOutcome run_fit(const MultiStartJob& j, const PaddedData& d, cpu::ChinchillaEvalFn simd, const double* w,
                     const double* start, double* theta) {
  const Problem& pb = j.pb;
  const int k = law_params(pb.law), P = total_params(pb.law, pb.objective);
  const LogData data{d.ln_n.data(), d.ln_d.data(), d.ln_l.data()};
  Problem padded = pb;
  padded.n = d.npad;  // padding has weight 0
  double x0[kMaxParams] = {0, 0, 0, 0, 0, 0};
  for (int i = 0; i < k; ++i) x0[i] = start[i];
  if (pb.objective == Objective::HuberLikelihood) x0[k] = initial_log_scale(padded, data, w, x0);
  Lbfgs<kMaxParams, kMemory> st;
  st.start(P, x0, j.control);
  double g[kMaxParams];
  bool more = true;
  while (more) {
    double f = simd ? simd(pb, data.ln_n, data.ln_d, data.ln_l, w, d.npad, st.xt, g)
                    : objective_eval(padded, data, w, st.xt, g);
    more = st.step(f, g);
  }
  StartOutcome o;
  o.status = static_cast<int32_t>(st.status);
  o.iterations = st.iter;
  o.evaluations = st.nfev;
  o.f = st.status == FitStatus::BadStart ? NAN : st.f;
  for (int i = 0; i < P; ++i) theta[i] = st.status == FitStatus::BadStart ? NAN : st.x[i];
  return o;
}

}  // namespace

void multistart_cpu(const MultiStartJob& j, FitResult* out) {
  const TuningScope tuning(j.tuning);  // the call's SIMD cap, seen by every pool thread it uses
  const PaddedData d = pad(j);
  const int P = total_params(j.pb.law, j.pb.objective), k = law_params(j.pb.law);
  const cpu::ChinchillaEvalFn simd = j.pb.law == Law::Chinchilla ? cpu::chinchilla_simd_eval() : nullptr;
  const int64_t S = j.n_starts;
  const int64_t per_chunk = std::max<int64_t>(1, kChunkFits / S);
  for (int64_t r0 = 0; r0 < j.resamples; r0 += per_chunk) {
    const int64_t rn = std::min(per_chunk, j.resamples - r0);
    const int64_t T = rn * S;
    std::vector<StartOutcome> oc(static_cast<size_t>(T));
    std::vector<double> th(static_cast<size_t>(T * P));
    parallel_for(static_cast<size_t>(T), 4, [&](size_t b, size_t e) {
      for (size_t t = b; t < e; ++t) {
        j.cancel.check();
        const int64_t r = r0 + static_cast<int64_t>(t) / S, s = static_cast<int64_t>(t) % S;
        oc[t] = run_fit(j, d, simd, &d.w[r * d.npad], j.starts + s * k, &th[t * P]);
        if (j.progress) j.progress->add(1);
      }
    });
    j.cancel.check();
    for (int64_t r = 0; r < rn; ++r) {
      FitResult& res = out[r0 + r];
      int64_t best = reduce_starts(&oc[r * S], S, j.optimum_rel_tol, P, &res);
      for (int i = 0; i < P; ++i) res.theta[i] = best >= 0 ? th[(r * S + best) * P + i] : NAN;
    }
  }
}

}  // namespace scaling
}  // namespace lw
