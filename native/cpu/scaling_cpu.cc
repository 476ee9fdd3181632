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
  std::vector<double> ln_n, ln_d, ln_l, ln_u, w;  // w: resamples × npad
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
  if (j.ln_u) copy(j.ln_u, p.ln_u);
  p.w.assign(static_cast<size_t>(j.resamples * p.npad), 0.0);
  for (int64_t r = 0; r < j.resamples; ++r)
    for (int64_t i = 0; i < p.n; ++i) p.w[r * p.npad + i] = j.weights ? j.weights[r * p.n + i] : 1.0;
  return p;
}

// One fit from `start` (free parameters, θ units); returns the outcome and writes the final full θ.
template <int P>
StartOutcome run_fit(const MultiStartJob& j, const PaddedData& d, cpu::ChinchillaEvalFn simd, cpu::CustomEvalFn csimd,
                     const double* w, const double* start, double* theta) {
  const Problem& pb = j.pb;
  const ParamMap& map = j.map;
  const bool lik = pb.objective == Objective::HuberLikelihood;
  const int m = map.reduced - (lik ? 1 : 0), kf = map.full - (lik ? 1 : 0);
  const LogData data{d.ln_n.data(), d.ln_d.data(), d.ln_l.data(), d.ln_u.empty() ? nullptr : d.ln_u.data()};
  Problem padded = pb;
  padded.n = d.npad;  // padding has weight 0
  const bool ident = map.identity();
  double x0[kMaxParams] = {0};
  for (int i = 0; i < m; ++i) x0[i] = map.inverse(i, start[i]);
  if (lik) {
    double th0[kMaxParams] = {0};
    map.start_full(start, kf, th0);
    x0[m] = initial_log_scale(padded, data, w, th0);
  }
  auto eval = [&](const double* th, double* g) {
    if (csimd) return csimd(pb, data.ln_n, data.ln_d, data.ln_u, data.ln_l, w, d.npad, th, g);
    return simd ? simd(pb, data.ln_n, data.ln_d, data.ln_l, w, d.npad, th, g) : objective_eval(padded, data, w, th, g);
  };
  Lbfgs<P, kMemory> st;
  st.start(map.reduced, x0, j.control);
  double g[kMaxParams];
  bool more = true;
  while (more) {
    double f;
    if (ident) {
      f = eval(st.xt, g);
    } else {
      double th[kMaxParams], dth[kMaxParams], gt[kMaxParams];
      map.to_full(st.xt, th, dth);
      f = eval(th, gt);
      map.reduce(gt, dth, g);
    }
    more = st.step(f, g);
  }
  StartOutcome o;
  o.status = static_cast<int32_t>(st.status);
  o.iterations = st.iter;
  o.evaluations = st.nfev;
  const bool bad = st.status == FitStatus::BadStart;
  o.f = bad ? NAN : st.f;
  double th[kMaxParams], dth[kMaxParams];
  map.to_full(st.x, th, dth);
  for (int i = 0; i < map.full; ++i) theta[i] = bad ? NAN : th[i];
  return o;
}

}  // namespace

void multistart_cpu(const MultiStartJob& j, FitResult* out) {
  const TuningScope tuning(j.tuning);  // the call's SIMD cap, seen by every pool thread it uses
  const PaddedData d = pad(j);
  const int P = j.map.full, k = j.map.reduced - (j.pb.objective == Objective::HuberLikelihood ? 1 : 0);
  const cpu::ChinchillaEvalFn simd = j.pb.law == Law::Chinchilla ? cpu::chinchilla_simd_eval() : nullptr;
  const cpu::CustomEvalFn csimd = j.pb.law == Law::Custom ? cpu::custom_simd_eval() : nullptr;
  const bool small = j.map.reduced <= kSmallParams;
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
        oc[t] = small ? run_fit<kSmallParams>(j, d, simd, csimd, &d.w[r * d.npad], j.starts + s * k, &th[t * P])
                      : run_fit<kMaxParams>(j, d, simd, csimd, &d.w[r * d.npad], j.starts + s * k, &th[t * P]);
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
