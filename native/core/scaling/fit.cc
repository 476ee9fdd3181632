#include <algorithm>
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
  if (law == Law::DataConstrained) {
    // The Chinchilla grid × R_D*, R_N* ∈ {20/3, 40/3, 20} (datablations' linspace(0, 20, 4) without the 0 that
    // makes the law 0/0).
    const std::vector<double> base = default_grid(Law::Chinchilla);
    const double r[] = {20.0 / 3, 40.0 / 3, 20.0};
    for (size_t i = 0; i < base.size(); i += 5)
      for (double rd : r)
        for (double rn : r) {
          g.insert(g.end(), base.begin() + i, base.begin() + i + 5);
          g.insert(g.end(), {rd, rn});
        }
  } else if (law == Law::Chinchilla) {
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

void natural_params(Law law, int k, Objective obj, const double* th, double* out) {
  for (int j = 0; j < k; ++j) out[j] = th[j];
  if (law != Law::Custom) {
    out[0] = std::exp(th[0]);
    out[1] = std::exp(th[1]);
  }
  if (law == Law::Chinchilla || law == Law::DataConstrained) out[2] = std::exp(th[2]);
  if (obj == Objective::HuberLikelihood) out[k] = th[k];
}

namespace {

// The law's map with σ appended (free, last) for the likelihood.
ParamMap complete_map(const ParamMap& law, Objective obj) {
  ParamMap m = law;
  if (obj == Objective::HuberLikelihood) {
    m.src[m.full] = m.reduced;
    m.fixed[m.full] = 0;
    m.kind[m.reduced] = 0;
    ++m.full;
    ++m.reduced;
  }
  return m;
}

void check_map(const ParamMap& m, int k) {
  if (m.full != k) throw_range("constraint map must cover the law's " + std::to_string(k) + " parameters");
  if (m.reduced < 0 || m.reduced > k) throw_range("constraint map has a bad number of free parameters");
  std::vector<int> used(static_cast<size_t>(m.reduced), 0);
  for (int j = 0; j < k; ++j) {
    if (m.src[j] >= m.reduced || m.src[j] < -1) throw_range("constraint map index out of range");
    if (m.src[j] < 0 && !std::isfinite(m.fixed[j])) throw_range("fixed parameter values must be finite");
    if (m.src[j] >= 0) used[m.src[j]] = 1;
  }
  for (int r = 0; r < m.reduced; ++r) {
    if (!used[r]) throw_range("constraint map leaves a free parameter unused");
    const Bound b = static_cast<Bound>(m.kind[r]);
    if (b == Bound::Both && !(std::isfinite(m.lo[r]) && std::isfinite(m.hi[r]) && m.lo[r] < m.hi[r]))
      throw_range("bounds must be finite with lo < hi");
    if ((b == Bound::Lower && !std::isfinite(m.lo[r])) || (b == Bound::Upper && !std::isfinite(m.hi[r])))
      throw_range("bounds must be finite");
    if (m.kind[r] < 0 || m.kind[r] > 3) throw_range("bad bound kind");
  }
}

// Default grid rows projected on the free parameters, duplicates dropped (first occurrence kept).
std::vector<double> project_grid(const std::vector<double>& full, int k, const ParamMap& m) {
  std::vector<int> first(static_cast<size_t>(m.reduced), -1);
  for (int j = k - 1; j >= 0; --j)
    if (m.src[j] >= 0) first[m.src[j]] = j;
  std::vector<double> out;
  std::vector<std::vector<double>> seen;
  const size_t rows = full.size() / k;
  for (size_t i = 0; i < rows; ++i) {
    std::vector<double> row(static_cast<size_t>(m.reduced));
    for (int r = 0; r < m.reduced; ++r) row[r] = full[i * k + first[r]];
    bool dup = false;
    for (const auto& s : seen)
      if (s == row) { dup = true; break; }
    if (dup) continue;
    seen.push_back(row);
    out.insert(out.end(), row.begin(), row.end());
  }
  return out;
}

}  // namespace

void set_objective(Prepared& p, Objective obj, const FitOptions& o) {
  p.pb.objective = obj;
  p.pb.log_z = obj == Objective::HuberLikelihood ? log_huber_normaliser(o.delta) : 0;
  p.map = complete_map(p.law_map, obj);
  p.control = o.control;
  if (o.auto_tolerances) {
    // Huber/MSE optima are reached to ~1e-13 relative in f with these (the best start's f agrees with tighter
    // settings to all printed digits, ~20% fewer evaluations); the near-L1 likelihood creeps along kinks at the
    // end and needs the tight defaults to land on the published optimum.
    // The data-constrained law keeps the tight defaults too: its valleys are flat (R_N* is often not identified,
    // the objective still falling as R_N* → ∞), where the loose tolerances stop mid-valley at a point that moves
    // with the last bits of the arithmetic (a 1e-12 change of the start moved the datablations 7-parameter fit's
    // objective by 6%), so CPU and CUDA ended in different places.
    if (obj != Objective::HuberLikelihood && p.pb.law != Law::DataConstrained) {
      p.control.ftol = 1e-10;
      p.control.gtol = 1e-6;
    }
  }
}

Prepared prepare(const Runs& runs, const FitOptions& o) {
  Prepared p;
  if (o.law == Law::Custom) {
    const CustomProgram& g = o.program;
    if (!g.code || g.len < 1 || g.n_params < 1 || g.n_params > kMaxCustomParams)
      throw_range("a custom law needs a program over 1 to " + std::to_string(kMaxCustomParams) + " parameters");
    int depth = 0, max_depth = 0;
    for (int i = 0; i < g.len; ++i) {
      const int op = g.code[i] & 0xff, arg = g.code[i] >> 8;
      int need = 0;
      const int eff = op_effect(op, &need);
      if (eff == -2) throw_range("custom program: unknown opcode");
      if (depth < need) throw_range("custom program: stack underflow");
      if (op == static_cast<int>(Op::Param) && (arg < 0 || arg >= g.n_params)) throw_range("custom program: bad parameter index");
      const bool var = op == static_cast<int>(Op::Var) || op == static_cast<int>(Op::LogVar) || op == static_cast<int>(Op::PowVar);
      if (var && (arg < 0 || arg > 2)) throw_range("custom program: bad variable index");
      if (var && arg == 2 && !runs.U) throw_range("the custom law reads U but data.U is missing");
      if ((op == static_cast<int>(Op::Slot) || op == static_cast<int>(Op::Store)) && (arg < 0 || arg >= kMaxSlots))
        throw_range("custom program: bad slot index");
      if (op == static_cast<int>(Op::PowTerm)) {
        const PowTermArg t = pow_term_arg(arg);
        if (arg < 0 || arg >= 1024 || t.var > 2 || t.p >= g.n_params || (!t.x_slot && t.x >= g.n_params))
          throw_range("custom program: bad power-term operand");
        if (t.var == 2 && !runs.U) throw_range("the custom law reads U but data.U is missing");
      }
      if (op == static_cast<int>(Op::Const) && (arg < 0 || !g.consts)) throw_range("custom program: bad constant index");
      depth += eff;
      max_depth = std::max(max_depth, depth);
    }
    if (depth != 1 || max_depth > kMaxStack) throw_range("custom program must leave one value (stack depth ≤ 16)");
  }
  const int k = law_params_of(o.law, o.program.n_params);
  const int P = k + (o.objective == Objective::HuberLikelihood ? 1 : 0);
  if (o.map.full == 0) {
    p.law_map.full = p.law_map.reduced = k;
    for (int j = 0; j < k; ++j) p.law_map.src[j] = j;
  } else {
    check_map(o.map, k);
    p.law_map = o.map;
  }
  const int m = p.law_map.reduced;  // free law parameters
  if (runs.n < P) {
    throw_range("data must hold at least as many runs as the law has parameters (" + std::to_string(P) +
                "), got " + std::to_string(runs.n));
  }
  check_positive(runs.N, runs.n, "data.N");
  check_positive(runs.D, runs.n, "data.D");
  check_positive(runs.loss, runs.n, "data.loss");
  if (o.law == Law::DataConstrained && !runs.U) throw_range("the data-constrained law needs data.U (unique tokens)");
  if (runs.U) check_positive(runs.U, runs.n, "data.U");
  if (o.weights) {
    double sum = 0;
    for (int64_t i = 0; i < runs.n; ++i) {
      if (!(std::isfinite(o.weights[i]) && o.weights[i] >= 0))
        throw_range("weights[" + std::to_string(i) + "] must be a finite number >= 0 (got " + num(o.weights[i]) + ")");
      sum += o.weights[i];
    }
    if (!(sum > 0)) throw_range("weights must not all be 0");
    p.weights.assign(o.weights, o.weights + runs.n);
  }
  if (o.objective != Objective::Mse && !(std::isfinite(o.delta) && o.delta > 0)) {
    throw_range("delta must be a finite number > 0 (got " + num(o.delta) + ")");
  }
  if (!(o.optimum_rel_tol >= 0 && std::isfinite(o.optimum_rel_tol))) throw_range("optimumRelTol must be >= 0");
  const LbfgsControl& c = o.control;
  if (c.max_iter < 1) throw_range("maxIterations must be >= 1");
  if (!(c.ftol >= 0 && c.gtol >= 0 && c.xtol >= 0)) throw_range("tolerances must be >= 0");
  p.ln_n.resize(runs.n);
  p.ln_d.resize(runs.n);
  p.ln_l.resize(runs.n);
  for (int64_t i = 0; i < runs.n; ++i) {
    p.ln_n[i] = std::log(runs.N[i]);
    p.ln_d[i] = std::log(runs.D[i]);
    p.ln_l[i] = std::log(runs.loss[i]);
  }
  if (runs.U) {
    p.ln_u.resize(runs.n);
    for (int64_t i = 0; i < runs.n; ++i) p.ln_u[i] = std::log(runs.U[i]);
  }
  p.pb.law = o.law;
  p.pb.delta = o.delta;
  p.pb.n = runs.n;
  p.pb.k = k;
  p.pb.prog = o.program;
  set_objective(p, o.objective, o);
  if (o.starts) {
    if (o.n_starts < 1) throw_range("grid must hold at least one start");
    for (int64_t i = 0; i < o.n_starts * m; ++i) {
      if (!std::isfinite(o.starts[i])) {
        throw_range("grid[" + std::to_string(i / m) + "][" + std::to_string(i % m) + "] must be finite");
      }
    }
    p.starts = o.starts;
    p.n_starts = o.n_starts;
  } else {
    if (o.law == Law::Custom) throw_range("a custom law needs a grid of starts");
    p.grid = default_grid(o.law);
    if (!p.law_map.identity()) p.grid = project_grid(p.grid, k, p.law_map);
    p.starts = p.grid.data();
    p.n_starts = m > 0 ? static_cast<int64_t>(p.grid.size()) / m : 1;
    if (m == 0) p.grid.clear();
  }
  return p;
}

MultiStartJob make_job(const Prepared& p, const FitOptions& o) {
  MultiStartJob j;
  j.pb = p.pb;
  j.ln_n = p.ln_n.data();
  j.ln_d = p.ln_d.data();
  j.ln_l = p.ln_l.data();
  j.ln_u = p.ln_u.empty() ? nullptr : p.ln_u.data();
  j.weights = p.weights.empty() ? nullptr : p.weights.data();
  j.resamples = 1;
  j.map = p.map;
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
