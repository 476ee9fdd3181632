// Bootstrap (docs/scaling-laws.md): resample runs with replacement — a resample is a weight vector of counts — refit
// each (from the full-data optimum, or over the whole start grid), then summarise parameters and derived
// compute-optimal quantities with standard errors and percentile intervals.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "fit_internal.h"
#include "rng.h"
#include "scaling.h"

namespace lw {
namespace scaling {

namespace {

bool has_allocation(Law law) { return law == Law::Chinchilla || law == Law::DataConstrained; }

std::vector<std::string> quantity_names(Law law, int k, Objective obj) {
  std::vector<std::string> n;
  if (law == Law::Chinchilla) n = {"A", "B", "E", "alpha", "beta"};
  else if (law == Law::DataConstrained) n = {"A", "B", "E", "alpha", "beta", "rdStar", "rnStar"};
  else if (law == Law::KaplanND) n = {"Nc", "Dc", "alphaN", "alphaD"};
  else
    for (int j = 0; j < k; ++j) n.push_back("p" + std::to_string(j));  // custom: named in TS
  if (obj == Objective::HuberLikelihood) n.push_back("sigma");
  if (has_allocation(law)) n.insert(n.end(), {"a", "tokensPerParam", "nOpt", "dOpt"});
  return n;
}

void quantities(Law law, int kl, Objective obj, const double* theta, double compute, double* q) {
  natural_params(law, kl, obj, theta, q);
  if (!has_allocation(law)) return;
  const int k = kl + (obj == Objective::HuberLikelihood ? 1 : 0);
  ChinchillaParams p{q[0], q[1], q[2], q[3], q[4]};
  ComputeOptimal c = compute_optimal(p, compute);
  q[k] = c.a;
  q[k + 1] = c.tokens_per_param;
  q[k + 2] = c.N;
  q[k + 3] = c.D;
}

// numpy's default ("linear") percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return NAN;
  const double h = (sorted.size() - 1) * p;
  const size_t lo = static_cast<size_t>(std::floor(h));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

}  // namespace

std::vector<double> resample_weights(int64_t n, int64_t resamples, uint64_t seed) {
  std::vector<double> w(static_cast<size_t>(n * resamples), 0.0);
  const Philox4x32 rng(seed);
  for (int64_t r = 0; r < resamples; ++r)
    for (int64_t j = 0; j < n; ++j) w[r * n + rng.below(static_cast<uint64_t>(r), static_cast<uint64_t>(j), static_cast<uint32_t>(n))] += 1;
  return w;
}

FitResult fit_with_bootstrap(const Runs& runs, const FitOptions& opts, const BootstrapOptions& boot,
                             BootstrapResult* out) {
  Prepared p = prepare(runs, opts);
  if (boot.resamples < 0) throw_range("bootstrap.resamples must be an integer >= 0");
  if (boot.resamples > 0) {
    if (!(boot.level > 0 && boot.level < 1)) throw_range("bootstrap.level must be in (0, 1)");
    if (!(std::isfinite(boot.compute) && boot.compute > 0)) throw_range("bootstrap.compute must be a finite number > 0");
    if (runs.n > 0xffffffffLL) throw_range("data holds too many runs for the bootstrap");
  }
  const int64_t boot_starts = boot.grid_per_resample ? p.n_starts : 1;
  if (opts.progress) opts.progress->set_total(p.n_starts + boot.resamples * boot_starts);
  FitResult full;
  MultiStartJob job = make_job(p, opts);
  run_multistart(opts.backend, job, &full);
  opts.cancel.check();
  if (boot.resamples == 0 || !out) return full;
  if (!full.ok()) throw_runtime("the full-data fit failed from every start; nothing to bootstrap");

  const Law law = opts.law;
  const int kl = p.pb.k;
  const Objective obj = boot.same_objective ? opts.objective : boot.objective;
  if (obj != opts.objective) {
    set_objective(p, obj, opts);
    job.pb = p.pb;
    job.map = p.map;
    job.control = p.control;
  }
  std::vector<double> weights = resample_weights(runs.n, boot.resamples, boot.seed);
  if (!p.weights.empty())
    for (int64_t r = 0; r < boot.resamples; ++r)
      for (int64_t i = 0; i < runs.n; ++i) weights[r * runs.n + i] *= p.weights[i];
  job.weights = weights.data();
  job.resamples = boot.resamples;
  double start[kMaxParams];
  if (!boot.grid_per_resample) {
    // the full-data optimum in the free parameters' θ units (σ is re-initialised per resample)
    for (int j = p.law_map.full - 1; j >= 0; --j)
      if (p.law_map.src[j] >= 0) start[p.law_map.src[j]] = full.theta[j];
    job.starts = start;
    job.n_starts = 1;
    // One start per resample: the refits run to the tight defaults whatever the objective (a few fits, so the
    // cost is nothing next to the grid). With the loose Huber/MSE tolerances a refit from another objective's
    // optimum (a likelihood point estimate, a Huber-sum bootstrap) stopped early along the B–β valley, at a point
    // that moved with the last bits of the arithmetic: AVX-512, AVX2, scalar CPU and CUDA differed by 3e-4 in B,
    // and one resample's B was 5% from its optimum.
    const LbfgsControl tight;
    job.control.ftol = std::min(job.control.ftol, tight.ftol);
    job.control.gtol = std::min(job.control.gtol, tight.gtol);
  }
  std::vector<FitResult> res(static_cast<size_t>(boot.resamples));
  run_multistart(opts.backend, job, res.data());
  opts.cancel.check();

  BootstrapResult& b = *out;
  b.names = quantity_names(law, kl, obj);
  const size_t Q = b.names.size();
  b.resamples = boot.resamples;
  b.samples.assign(static_cast<size_t>(boot.resamples) * Q, NAN);
  b.failed = b.converged = 0;
  for (int64_t r = 0; r < boot.resamples; ++r) {
    if (!res[r].ok()) {
      ++b.failed;
      continue;
    }
    if (res[r].converged) ++b.converged;
    quantities(law, kl, obj, res[r].theta, boot.compute, &b.samples[r * Q]);
  }
  b.mean.assign(Q, NAN);
  b.std_err.assign(Q, NAN);
  b.lower.assign(Q, NAN);
  b.upper.assign(Q, NAN);
  const double tail = (1 - boot.level) / 2;
  for (size_t q = 0; q < Q; ++q) {
    std::vector<double> v;
    for (int64_t r = 0; r < boot.resamples; ++r) {
      double x = b.samples[r * Q + q];
      if (std::isfinite(x)) v.push_back(x);
    }
    if (v.empty()) continue;
    double mean = 0;
    for (double x : v) mean += x;
    mean /= v.size();
    double ss = 0;
    for (double x : v) ss += (x - mean) * (x - mean);
    b.mean[q] = mean;
    b.std_err[q] = v.size() > 1 ? std::sqrt(ss / (v.size() - 1)) : NAN;
    std::sort(v.begin(), v.end());
    b.lower[q] = percentile(v, tail);
    b.upper[q] = percentile(v, 1 - tail);
  }
  return full;
}

}  // namespace scaling
}  // namespace lw
