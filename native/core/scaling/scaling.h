// Scaling-law fitting (docs/scaling-laws.md): multi-start L-BFGS fits of Chinchilla / Kaplan laws, bootstrap, and the
// closed-form helpers. Contracts are plain structs; backends (cpu/, cuda/) implement multistart_*().
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "core/cancel.h"
#include "core/tensor.h"
#include "core/tuning.h"
#include "lbfgs.h"
#include "model.h"

namespace lw {
namespace scaling {

// Training runs: parameters N, tokens D, final loss (host, n each).
struct Runs {
  const double* N = nullptr;
  const double* D = nullptr;
  const double* loss = nullptr;
  int64_t n = 0;
};

// Fits finished so far, published to a caller-owned slot (a Float64Array read by JS on a timer).
struct Progress {
  volatile double* slot = nullptr;  // slot[0] = done, slot[1] = total
  std::atomic<int64_t> done{0};
  void set_total(int64_t total) {
    if (slot) slot[1] = static_cast<double>(total);
  }
  void add(int64_t k) {
    int64_t v = done.fetch_add(k, std::memory_order_relaxed) + k;
    if (slot) slot[0] = static_cast<double>(v);
  }
};

struct FitOptions {
  Law law = Law::Chinchilla;
  Objective objective = Objective::Huber;
  double delta = 1e-3;
  const double* starts = nullptr;  // n_starts × law_params(law), row-major; null = default grid
  int64_t n_starts = 0;
  LbfgsControl control;
  // Per-objective ftol/gtol (see prepare()); false keeps control.ftol/gtol as given.
  bool auto_tolerances = true;
  double optimum_rel_tol = 1e-6;   // a start "reached the optimum" if f ≤ f* + tol·|f*|
  Backend backend = Backend::Cpu;
  int device = 0;
  // CUDA: the devices a bootstrap's resamples are split over (core/multi_device.h); empty = every visible
  // device, used only when the bootstrap is large enough (kMultiDeviceMinTasks (resample, start) pairs).
  std::vector<int> devices;
  Cancel cancel;
  Progress* progress = nullptr;
  Tuning tuning = process_tuning();
};

// Below this many (resample, start) fits an automatic device list ("all") keeps the bootstrap on `device`:
// starting the other GPUs' contexts would cost more than it saves.
constexpr int64_t kMultiDeviceMinTasks = int64_t(1) << 18;

// Best of all starts for one data set (or one bootstrap resample).
struct FitResult {
  int n_params = 0;
  double theta[kMaxParams] = {0, 0, 0, 0, 0, 0};  // raw parameters (see model.h)
  double objective = 0;
  int64_t best_start = -1;
  int64_t n_starts = 0;
  int64_t starts_at_optimum = 0;
  int64_t converged_starts = 0;
  int64_t evaluations = 0;  // over all starts
  int iterations = 0;       // of the best start
  FitStatus status = FitStatus::BadStart;
  bool converged = false;   // best start met a tolerance
  bool ok() const { return best_start >= 0; }
};

struct BootstrapOptions {
  int64_t resamples = 0;  // 0 = no bootstrap
  uint64_t seed = 0;
  bool grid_per_resample = false;  // false: refit each resample from the full-data optimum
  double compute = 5.76e23;        // budget C for the derived compute-optimal quantities
  double level = 0.95;             // percentile interval coverage
};

// Derived quantities per resample, then their summaries (failed resamples excluded).
struct BootstrapResult {
  std::vector<std::string> names;  // e.g. A, B, E, alpha, beta, [sigma], a, tokensPerParam, N_opt, D_opt
  int64_t resamples = 0;
  int64_t failed = 0;
  std::vector<double> samples;     // resamples × names.size(), row-major (NaN rows for failed resamples)
  std::vector<double> mean, std_err, lower, upper;
  int64_t converged = 0;
};

// Fit over all starts (plus an optional bootstrap); validates everything first (lw::Error Range/Type).
FitResult fit(const Runs& runs, const FitOptions& opts);
FitResult fit_with_bootstrap(const Runs& runs, const FitOptions& opts, const BootstrapOptions& boot,
                             BootstrapResult* out);

// Bootstrap multiplicities: resamples × n counts (each row sums to n), from Philox keyed by seed, counter
// (resample, draw): the same on every thread count and backend.
std::vector<double> resample_weights(int64_t n, int64_t resamples, uint64_t seed);

// The default start grids: Chinchilla a, b ∈ {0,5,…,25}, e ∈ {−1,−.5,…,1}, α, β ∈ {0,.5,…,2} (4500 points);
// Kaplan nc, dc ∈ {10,15,…,40}, αN, αD ∈ {.05,.1,.2,.4,.8} (1225 points). Row-major, law_params columns.
std::vector<double> default_grid(Law law);

// Natural parameters from raw θ: chinchilla (A, B, E, α, β[, σ]); kaplan (Nc, Dc, αN, αD[, σ]).
void natural_params(Law law, Objective obj, const double* theta, double* out);

// ---------------------------------------------------------------------------------------------- backends
// A batch of fits: every start × every resample (weight vector), reduced to the best start per resample.
struct MultiStartJob {
  Problem pb;
  const double* ln_n = nullptr;  // host, pb.n each
  const double* ln_d = nullptr;
  const double* ln_l = nullptr;
  const double* weights = nullptr;  // host, resamples × pb.n multiplicities; null = all ones (resamples = 1)
  int64_t resamples = 1;
  const double* starts = nullptr;   // host, n_starts × law_params
  int64_t n_starts = 0;
  LbfgsControl control;
  double optimum_rel_tol = 1e-6;
  int device = 0;
  std::vector<int> devices;  // FitOptions::devices
  Cancel cancel;
  Progress* progress = nullptr;
  Tuning tuning = process_tuning();
};

// Backends run it as KernelTable::multistart(job, out /* resamples */).

// Shared by backends: one start's outcome, and the reduction over starts.
struct StartOutcome {
  double f;
  int32_t iterations;
  int32_t evaluations;
  int32_t status;  // FitStatus
};
// Fills everything but theta; returns the best start (−1 if none finished with a finite objective).
int64_t reduce_starts(const StartOutcome* o, int64_t n_starts, double rel_tol, int n_params, FitResult* r);

// ---------------------------------------------------------------------------------------------- closed forms
struct ChinchillaParams {
  double A, B, E, alpha, beta;
};
// L̂ = E + A/N^α + B/D^β.
double predict_chinchilla(const ChinchillaParams& p, double N, double D);
// L̂ = [(Nc/N)^(αN/αD) + Dc/D]^αD.
double predict_kaplan(double Nc, double Dc, double alphaN, double alphaD, double N, double D);

// Kaplan et al. 2020 eq. 1.6 / Su et al. 2024: L(N, S_min) = (Nc/N)^αN + (Sc/S_min)^αS.
double predict_kaplan_steps(double Nc, double Sc, double alphaN, double alphaS, double N, double steps);

struct ComputeOptimal {
  double N, D, tokens_per_param, a, b, G;
};
// C = 6ND: N_opt = G (C/6)^a, D_opt = G⁻¹ (C/6)^b, G = (αA/(βB))^(1/(α+β)), a = β/(α+β), b = α/(α+β).
ComputeOptimal compute_optimal(const ChinchillaParams& p, double C);

// Kaplan et al. 2020 / Su et al. 2024: B_crit(L) = B* / L^(1/α_B); S_min = S / (1 + B_crit/B);
// E_min = E / (1 + B/B_crit) (E = examples processed).
double critical_batch_size(double loss, double b_star, double alpha_b);
double min_steps(double steps, double batch, double b_crit);
double min_examples(double examples, double batch, double b_crit);

}  // namespace scaling
}  // namespace lw
