// Closed forms: predictions, compute-optimal allocation, Kaplan/Su training-dynamics helpers (docs/scaling-laws.md).
#include <cmath>
#include <cstdio>
#include <string>

#include "core/error.h"
#include "scaling.h"

namespace lw {
namespace scaling {

namespace {
void positive(double v, const char* name) {
  if (!(std::isfinite(v) && v > 0)) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    throw_range(std::string(name) + " must be a finite number > 0 (got " + buf + ")");
  }
}
}  // namespace

double predict_chinchilla(const ChinchillaParams& p, double N, double D) {
  return p.E + p.A * std::pow(N, -p.alpha) + p.B * std::pow(D, -p.beta);
}

double predict_kaplan(double Nc, double Dc, double alphaN, double alphaD, double N, double D) {
  return std::pow(std::pow(Nc / N, alphaN / alphaD) + Dc / D, alphaD);
}

double predict_kaplan_steps(double Nc, double Sc, double alphaN, double alphaS, double N, double steps) {
  return std::pow(Nc / N, alphaN) + std::pow(Sc / steps, alphaS);
}

ComputeOptimal compute_optimal(const ChinchillaParams& p, double C) {
  positive(C, "C");
  ComputeOptimal r;
  const double s = p.alpha + p.beta;
  r.a = p.beta / s;
  r.b = p.alpha / s;
  r.G = std::pow(p.alpha * p.A / (p.beta * p.B), 1 / s);
  r.N = r.G * std::pow(C / 6, r.a);
  r.D = std::pow(C / 6, r.b) / r.G;
  r.tokens_per_param = r.D / r.N;
  return r;
}

double critical_batch_size(double loss, double b_star, double alpha_b) {
  positive(loss, "loss");
  positive(b_star, "bStar");
  positive(alpha_b, "alphaB");
  return b_star / std::pow(loss, 1 / alpha_b);
}

double min_steps(double steps, double batch, double b_crit) {
  positive(steps, "steps");
  positive(batch, "batchSize");
  positive(b_crit, "criticalBatchSize");
  return steps / (1 + b_crit / batch);
}

double min_examples(double examples, double batch, double b_crit) {
  positive(examples, "examples");
  positive(batch, "batchSize");
  positive(b_crit, "criticalBatchSize");
  return examples / (1 + batch / b_crit);
}

}  // namespace scaling
}  // namespace lw
