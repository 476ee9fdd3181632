#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/backend.h"
#include "core/device.h"
#include "core/error.h"
#include "core/multi_device.h"
#include "fit_internal.h"
#include "scaling.h"

namespace lw {
namespace scaling {

namespace {

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

void check_positive(const double* v, int64_t n, const char* name) {
  if (!v) throw_range(std::string(name) + " is missing");
  for (int64_t i = 0; i < n; ++i) {
    if (!(std::isfinite(v[i]) && v[i] > 0)) {
      throw_range(std::string(name) + "[" + std::to_string(i) + "] must be a finite number > 0 (got " + num(v[i]) +
                  ")");
    }
  }
}

std::vector<double> grid_values(double lo, double step, int count) {
  std::vector<double> v(count);
  for (int i = 0; i < count; ++i) v[i] = lo + step * i;
  return v;
}

}  // namespace

std::vector<double> default_grid(Law law) {
  std::vector<double> g;
  if (law == Law::Chinchilla) {
    auto ab = grid_values(0, 5, 6), e = grid_values(-1, 0.5, 5), al = grid_values(0, 0.5, 5);
    for (double a : ab)
      for (double b : ab)
        for (double ee : e)
          for (double x : al)
            for (double y : al) g.insert(g.end(), {a, b, ee, x, y});
  } else {
    auto c = grid_values(10, 5, 7);
    const double al[] = {0.05, 0.1, 0.2, 0.4, 0.8};
    for (double nc : c)
      for (double dc : c)
        for (double an : al)
          for (double ad : al) g.insert(g.end(), {nc, dc, an, ad});
  }
  return g;
}

void natural_params(Law law, Objective obj, const double* th, double* out) {
  (void)law;
  out[0] = std::exp(th[0]);
  out[1] = std::exp(th[1]);
  if (law == Law::Chinchilla) {
    out[2] = std::exp(th[2]);
    out[3] = th[3];
    out[4] = th[4];
  } else {
    out[2] = th[2];
    out[3] = th[3];
  }
  int k = law_params(law);
  if (obj == Objective::HuberLikelihood) out[k] = th[k];
}

Prepared prepare(const Runs& runs, const FitOptions& o) {
  Prepared p;
  const int k = law_params(o.law);
  const int P = total_params(o.law, o.objective);
  if (runs.n < P) {
    throw_range("data must hold at least as many runs as the law has parameters (" + std::to_string(P) +
                "), got " + std::to_string(runs.n));
  }
  check_positive(runs.N, runs.n, "data.N");
  check_positive(runs.D, runs.n, "data.D");
  check_positive(runs.loss, runs.n, "data.loss");
  if (o.objective != Objective::Mse && !(std::isfinite(o.delta) && o.delta > 0)) {
    throw_range("delta must be a finite number > 0 (got " + num(o.delta) + ")");
  }
  if (!(o.optimum_rel_tol >= 0 && std::isfinite(o.optimum_rel_tol))) throw_range("optimumRelTol must be >= 0");
  const LbfgsControl& c = o.control;
  if (c.max_iter < 1) throw_range("maxIterations must be >= 1");
  if (!(c.ftol >= 0 && c.gtol >= 0 && c.xtol >= 0)) throw_range("tolerances must be >= 0");
  p.control = o.control;
  if (o.auto_tolerances) {
    // Huber/MSE optima are reached to ~1e-13 relative in f with these (the best start's f agrees with tighter
    // settings to all printed digits, ~20% fewer evaluations); the near-L1 likelihood creeps along kinks at the
    // end and needs the tight defaults to land on the published optimum.
    if (o.objective != Objective::HuberLikelihood) {
      p.control.ftol = 1e-10;
      p.control.gtol = 1e-6;
    }
  }
  p.ln_n.resize(runs.n);
  p.ln_d.resize(runs.n);
  p.ln_l.resize(runs.n);
  for (int64_t i = 0; i < runs.n; ++i) {
    p.ln_n[i] = std::log(runs.N[i]);
    p.ln_d[i] = std::log(runs.D[i]);
    p.ln_l[i] = std::log(runs.loss[i]);
  }
  p.pb.law = o.law;
  p.pb.objective = o.objective;
  p.pb.delta = o.delta;
  p.pb.n = runs.n;
  if (o.objective == Objective::HuberLikelihood) p.pb.log_z = log_huber_normaliser(o.delta);
  if (o.starts) {
    if (o.n_starts < 1) throw_range("grid must hold at least one start");
    for (int64_t i = 0; i < o.n_starts * k; ++i) {
      if (!std::isfinite(o.starts[i])) {
        throw_range("grid[" + std::to_string(i / k) + "][" + std::to_string(i % k) + "] must be finite");
      }
    }
    p.starts = o.starts;
    p.n_starts = o.n_starts;
  } else {
    p.grid = default_grid(o.law);
    p.starts = p.grid.data();
    p.n_starts = static_cast<int64_t>(p.grid.size()) / k;
  }
  return p;
}

MultiStartJob make_job(const Prepared& p, const FitOptions& o) {
  MultiStartJob j;
  j.pb = p.pb;
  j.ln_n = p.ln_n.data();
  j.ln_d = p.ln_d.data();
  j.ln_l = p.ln_l.data();
  j.starts = p.starts;
  j.n_starts = p.n_starts;
  j.control = p.control;
  j.optimum_rel_tol = o.optimum_rel_tol;
  j.device = o.device;
  j.devices = o.devices;
  j.cancel = o.cancel;
  j.progress = o.progress;
  j.tuning = o.tuning;
  return j;
}

// On CUDA, resamples are split over the requested devices (every visible one by default, for a large enough
// bootstrap), each device fitting a contiguous range exactly as one device would; a single fit (or an explicit
// list of one device) runs on the list's first device.
void run_multistart(Backend backend, const MultiStartJob& job, FitResult* out) {
  const KernelTable& t = dispatch(backend, false, "runs");
  const MultistartFn fn = entry(t, t.multistart, "scaling fit");
  const bool automatic = job.devices.empty();
  const bool large = job.resamples > 1 && job.resamples * job.n_starts >= kMultiDeviceMinTasks;
  if (backend != Backend::Cuda || (automatic && !large)) return fn(job, out);
  const std::vector<int> devs = resolve_devices(job.devices, device::count(), "opts.devices");
  if (devs.empty()) return fn(job, out);  // no device visible: the backend reports it
  if (devs.size() == 1 || job.resamples <= 1) {
    MultiStartJob one = job;
    if (!automatic) one.device = devs[0];
    return fn(one, out);
  }
  for_each_device(devs, job.resamples, [&](int dev, int64_t b, int64_t e) {
    MultiStartJob sub = job;
    sub.device = dev;
    sub.resamples = e - b;
    if (job.weights) sub.weights = job.weights + b * job.pb.n;
    fn(sub, out + b);
  });
}

FitResult fit(const Runs& runs, const FitOptions& opts) {
  Prepared p = prepare(runs, opts);
  if (opts.progress) opts.progress->set_total(p.n_starts);
  FitResult r;
  run_multistart(opts.backend, make_job(p, opts), &r);
  opts.cancel.check();
  return r;
}

int64_t reduce_starts(const StartOutcome* o, int64_t n, double rel_tol, int n_params, FitResult* r) {
  int64_t best = -1;
  int64_t evals = 0, conv = 0;
  for (int64_t s = 0; s < n; ++s) {
    evals += o[s].evaluations;
    if (status_converged(static_cast<FitStatus>(o[s].status))) ++conv;
    if (o[s].status == static_cast<int32_t>(FitStatus::BadStart) || !std::isfinite(o[s].f)) continue;
    if (best < 0 || o[s].f < o[best].f) best = s;
  }
  r->n_params = n_params;
  r->n_starts = n;
  r->evaluations = evals;
  r->converged_starts = conv;
  r->best_start = best;
  r->starts_at_optimum = 0;
  if (best < 0) {
    r->objective = NAN;
    r->status = FitStatus::BadStart;
    r->converged = false;
    r->iterations = 0;
    return best;
  }
  const double fb = o[best].f, lim = fb + rel_tol * std::fabs(fb);
  for (int64_t s = 0; s < n; ++s)
    if (o[s].status != static_cast<int32_t>(FitStatus::BadStart) && o[s].f <= lim) ++r->starts_at_optimum;
  r->objective = fb;
  r->iterations = o[best].iterations;
  r->status = static_cast<FitStatus>(o[best].status);
  r->converged = status_converged(r->status);
  return best;
}

}  // namespace scaling
}  // namespace lw
