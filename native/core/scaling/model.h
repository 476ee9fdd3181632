// Scaling laws and fitting objectives (docs/scaling-laws.md), per data point, in float64. Written once for host and
// device: the CPU scalar path, the CUDA kernel and the tests all evaluate through these functions.
//
// Parameter vectors θ:
//   chinchilla  [a, b, e, α, β]      log L̂ = LSE(a − α ln N, b − β ln D, e);  A, B, E = exp(a, b, e)
//   kaplan-nd   [nc, dc, αN, αD]     log L̂ = αD · LSE((αN/αD)(nc − ln N), dc − ln D); Nc, Dc = exp(nc, dc)
// The Huber-likelihood objective appends σ (log scale of the residuals) as the last parameter.
#pragma once
#include <cmath>
#include <cstdint>

#include "../hd.h"

namespace lw {
namespace scaling {

using std::exp;
using std::fabs;
using std::fmax;
using std::isfinite;
using std::log;
using std::log1p;
using std::sqrt;

enum class Law : int { Chinchilla = 0, KaplanND = 1 };
enum class Objective : int { Huber = 0, Mse = 1, HuberLikelihood = 2 };

constexpr int kMaxParams = 6;

LW_HD int law_params(Law law) { return law == Law::Chinchilla ? 5 : 4; }
LW_HD int total_params(Law law, Objective obj) {
  return law_params(law) + (obj == Objective::HuberLikelihood ? 1 : 0);
}

// What one objective evaluation needs besides the data.
struct Problem {
  Law law = Law::Chinchilla;
  Objective objective = Objective::Huber;
  double delta = 1e-3;  // Huber threshold (Huber, HuberLikelihood)
  double log_z = 0;     // ln Z(δ) for HuberLikelihood (see log_huber_normaliser)
  int64_t n = 0;        // data points
};

// Z(δ) = ∫ exp(−Huber_δ(z)) dz = √(2π)(1 − 2Φ̄(δ)) + 2 e^(−δ²/2)/δ, in log form.
inline double log_huber_normaliser(double delta) {
  const double sqrt2pi = 2.5066282746310002;
  double tail = 0.5 * std::erfc(delta / std::sqrt(2.0));  // Φ̄(δ)
  return std::log(sqrt2pi * (1 - 2 * tail) + 2 * std::exp(-delta * delta / 2) / delta);
}

// Predicted log loss at one point and its gradient with respect to the law's parameters.
LW_HD double chinchilla_point(const double* th, double lN, double lD, double* dr) {
  const double t1 = th[0] - th[3] * lN, t2 = th[1] - th[4] * lD, t3 = th[2];
  // Only two exponentials: the largest of the three terms contributes e^0 = 1.
  const double hi = t1 >= t2 ? t1 : t2, lo = t1 >= t2 ? t2 : t1;
  const bool e_max = t3 >= hi;
  const double m = e_max ? t3 : hi;
  const double ex = exp(e_max ? t1 - t3 : lo - hi);
  const double ey = exp(e_max ? t2 - t3 : t3 - hi);
  double v1, v2, v3;
  if (e_max) {
    v1 = ex; v2 = ey; v3 = 1;
  } else if (t1 >= t2) {
    v1 = 1; v2 = ex; v3 = ey;
  } else {
    v1 = ex; v2 = 1; v3 = ey;
  }
  const double inv = 1 / (1 + ex + ey);
  const double w1 = v1 * inv, w2 = v2 * inv;
  dr[0] = w1;
  dr[1] = w2;
  dr[2] = v3 * inv;
  dr[3] = -w1 * lN;
  dr[4] = -w2 * lD;
  return m + log1p(ex + ey);
}

LW_HD double kaplan_point(const double* th, double lN, double lD, double* dr) {
  const double nc = th[0], dc = th[1], an = th[2], ad = th[3];
  const double ratio = an / ad;
  const double u1 = ratio * (nc - lN), u2 = dc - lD;
  const double ex = exp(-fabs(u1 - u2));
  const double lse = (u1 >= u2 ? u1 : u2) + log1p(ex);
  const double w1 = u1 >= u2 ? 1 / (1 + ex) : ex / (1 + ex);
  dr[0] = an * w1;
  dr[1] = ad * (1 - w1);
  dr[2] = w1 * (nc - lN);
  dr[3] = lse - w1 * u1;
  return ad * lse;
}

LW_HD double law_point(Law law, const double* th, double lN, double lD, double* dr) {
  return law == Law::Chinchilla ? chinchilla_point(th, lN, lD, dr) : kaplan_point(th, lN, lD, dr);
}

// Huber with threshold δ (δ = +inf gives z²/2): ψ = clamp(z, −δ, δ), h = ψ (z − ψ/2).
LW_HD double huber_psi(double z, double delta) { return z > delta ? delta : (z < -delta ? -delta : z); }

// Objective and gradient over all points: `lN, lD, lL` are ln N, ln D, ln loss; `w` are per-point
// multiplicities (null = all 1; a bootstrap resample is a weight vector of counts). Returns f, writes g.
// Huber: Σ w h(r);  MSE: Σ w r² / Σ w;  Huber likelihood: Σ w [h(r e^−σ) + ln Z + σ].
// The law is a template parameter so per-point arrays stay in registers (matters on the GPU).
template <Law L, typename Data>
LW_HD double objective_eval_law(const Problem& pb, const Data& data, const double* w, const double* theta, double* g) {
  constexpr int k = L == Law::Chinchilla ? 5 : 4;
  double th[k + 1];
  for (int j = 0; j <= k; ++j) th[j] = theta[j];  // θ may carry σ at index k
  const bool lik = pb.objective == Objective::HuberLikelihood;
  const double delta = pb.objective == Objective::Mse ? INFINITY : pb.delta;
  const double inv_s = lik ? exp(-th[k]) : 1.0;
  double f = 0, wsum = 0, gz = 0, acc[k];
  for (int j = 0; j < k; ++j) acc[j] = 0;
  for (int64_t i = 0; i < pb.n; ++i) {
    const double c = w ? w[i] : 1.0;
    if (c == 0) continue;
    double dr[5];
    const double pred = L == Law::Chinchilla ? chinchilla_point(th, data.lN(i), data.lD(i), dr)
                                             : kaplan_point(th, data.lN(i), data.lD(i), dr);
    const double r = pred - data.lL(i);
    const double z = r * inv_s;
    const double psi = huber_psi(z, delta);
    f += c * psi * (z - 0.5 * psi);
    const double cp = c * psi;
    for (int j = 0; j < k; ++j) acc[j] += cp * dr[j];
    gz += cp * z;
    wsum += c;
  }
  for (int j = 0; j < k; ++j) g[j] = acc[j] * inv_s;
  if (lik) {
    f += wsum * (pb.log_z + th[k]);
    g[k] = wsum - gz;
  } else if (pb.objective == Objective::Mse) {
    const double s = wsum > 0 ? 2 / wsum : 0;
    f *= s;
    for (int j = 0; j < k; ++j) g[j] *= s;
  }
  return f;
}

template <typename Data>
LW_HD double objective_eval(const Problem& pb, const Data& data, const double* w, const double* th, double* g) {
  return pb.law == Law::Chinchilla ? objective_eval_law<Law::Chinchilla>(pb, data, w, th, g)
                                   : objective_eval_law<Law::KaplanND>(pb, data, w, th, g);
}

// Starting σ for the likelihood: the profile optimum when every scaled residual is in Huber's linear zone,
// e^σ = δ · mean|r| (so the free σ starts where it would end for fixed law parameters).
template <typename Data>
LW_HD double initial_log_scale(const Problem& pb, const Data& data, const double* w, const double* th) {
  double sa = 0, sw = 0, dr[5];
  for (int64_t i = 0; i < pb.n; ++i) {
    const double c = w ? w[i] : 1.0;
    if (c == 0) continue;
    sa += c * fabs(law_point(pb.law, th, data.lN(i), data.lD(i), dr) - data.lL(i));
    sw += c;
  }
  double mean = sw > 0 ? sa / sw : 0;
  if (!(mean > 1e-12)) mean = 1e-12;
  if (!(mean < 1e12)) mean = 1e12;
  return log(pb.delta * mean);
}

// Plain arrays of ln N, ln D, ln loss.
struct LogData {
  const double* ln_n;
  const double* ln_d;
  const double* ln_l;
  LW_HD double lN(int64_t i) const { return ln_n[i]; }
  LW_HD double lD(int64_t i) const { return ln_d[i]; }
  LW_HD double lL(int64_t i) const { return ln_l[i]; }
};

}  // namespace scaling
}  // namespace lw
