// Shared between fit.cc and bootstrap.cc: validated, log-transformed inputs and the backend dispatch.
#pragma once
#include <vector>

#include "scaling.h"

namespace lw {
namespace scaling {

struct Prepared {
  std::vector<double> ln_n, ln_d, ln_l, ln_u, weights;
  Problem pb;
  ParamMap law_map;          // law parameters only
  ParamMap map;              // σ appended for the likelihood
  std::vector<double> grid;  // owns the default grid when no user grid was given
  const double* starts = nullptr;
  int64_t n_starts = 0;
  LbfgsControl control;  // with per-objective tolerances resolved
};

Prepared prepare(const Runs& runs, const FitOptions& opts);
// The same problem under another objective (σ appended or dropped, tolerances and ln Z(δ) resolved).
void set_objective(Prepared& p, Objective obj, const FitOptions& opts);
MultiStartJob make_job(const Prepared& p, const FitOptions& opts);
void run_multistart(Backend backend, const MultiStartJob& job, FitResult* out);

}  // namespace scaling
}  // namespace lw
