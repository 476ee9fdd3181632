// L-BFGS with a weak-Wolfe bracketing line search (Lewis & Overton 2013: sound for the nearly nonsmooth Huber
// objectives fitted here, and it keeps sᵀy > 0), safeguarded cubic interpolation inside the bracket, written as a reverse-communication state machine: the caller evaluates f and ∇f at `xt`,
// hands them to step(), and repeats while step() returns true. Each step costs exactly one evaluation, so on a
// GPU every lane of a warp evaluates in lockstep whatever phase of the search its own fit is in.
//
// Vectors have P (compile-time) entries; coordinates at or beyond the fit's dimension n are kept exactly 0, so
// every loop runs over P and unrolls.
//
// Stopping is scale-aware (the objective may be ~1e-3 or ~−900): relative decrease of f, gradient relative to
// |f|, or a step that no longer moves x. Runs on host and device (LW_HD).
#pragma once
#include "model.h"

namespace lw {
namespace scaling {

enum class FitStatus : int {
  Running = 0,
  GradientTol = 1,  // ‖∇f‖∞ ≤ gtol · |f|
  RelativeTol = 2,  // f_prev − f ≤ ftol · max(|f_prev|, |f|)
  StepTol = 3,      // ‖Δx‖∞ ≤ xtol · (1 + ‖x‖∞)
  MaxIter = 4,
  LineSearch = 5,   // no step satisfied the Wolfe conditions, even along −∇f (x is the best point found)
  BadStart = 6,     // f or ∇f not finite at the start
};

LW_HD bool status_converged(FitStatus s) {
  return s == FitStatus::GradientTol || s == FitStatus::RelativeTol || s == FitStatus::StepTol;
}

struct LbfgsControl {
  double ftol = 1e-12;
  double gtol = 1e-9;
  double xtol = 1e-13;
  int max_iter = 1000;
  int max_ls = 25;          // evaluations per line search
  double first_step = 0.5;  // ‖Δx‖∞ of the first trial along −∇f
};

// Dot product with three independent partial sums: the two-loop recursion is latency-bound on these.
template <int P>
LW_HD double dot(const double* a, const double* b) {
  double s[3] = {0, 0, 0};
  for (int i = 0; i < P; ++i) s[i % 3] += a[i] * b[i];
  return (s[0] + s[1]) + s[2];
}
LW_HD double max2(double a, double b) { return a > b ? a : b; }

template <int P, int M>
struct Lbfgs {
  static constexpr double c1 = 1e-4, c2 = 0.9;
  enum Phase : int { Init = 0, Search = 1 };

  int n = P;
  LbfgsControl ctl;
  double x[P], f, g[P];  // current iterate
  double xt[P];          // point to evaluate next
  double d[P];
  double S[M][P], Y[M][P], rho[M];
  int mcount, mhead;
  // weak-Wolfe line search (Lewis & Overton): lo = largest step with sufficient decrease but a slope still
  // below c2·dg0, hi = smallest step failing sufficient decrease (∞ until one does)
  double f0, dg0, stp;
  double a_lo, f_lo, dg_lo, g_lo[P];
  double a_hi, f_hi, dg_hi;
  int phase, ls_evals;
  bool reset_tried;
  int iter, nfev;
  FitStatus status;

  LW_HD void start(int dims, const double* x0, const LbfgsControl& c) {
    n = dims;
    ctl = c;
    for (int i = 0; i < P; ++i) xt[i] = i < n ? x0[i] : 0.0;  // unused coordinates stay exactly 0
    mcount = mhead = 0;
    phase = Init;
    iter = nfev = 0;
    reset_tried = false;
    status = FitStatus::Running;
  }

  // Consumes f(xt), ∇f(xt); returns true if xt now holds the next point to evaluate.
  LW_HD bool step(double ft, const double* g_in) {
    ++nfev;
    double gt[P];
    for (int i = 0; i < P; ++i) gt[i] = i < n ? g_in[i] : 0.0;
    if (phase == Init) {
      if (!finite_all(ft, gt)) return finish(FitStatus::BadStart);
      for (int i = 0; i < P; ++i) { x[i] = xt[i]; g[i] = gt[i]; }
      f = ft;
      if (grad_small()) return finish(FitStatus::GradientTol);
      return steepest_start();
    }
    const double dgt = dot<P>(gt, d);
    ++ls_evals;
    if (!finite_all(ft, gt) || ft > f0 + c1 * stp * dg0) {
      set_hi(stp, isfinite(ft) ? ft : INFINITY, dgt);
    } else if (dgt < c2 * dg0) {
      set_lo(stp, ft, dgt, gt);  // sufficient decrease but still steep: the step may grow
    } else {
      return take(xt, ft, gt);  // weak Wolfe point
    }
    if (ls_evals >= ctl.max_ls || (isfinite(a_hi) && a_hi - a_lo <= 1e-15 * a_hi)) return accept_lo();
    return next_trial();
  }

 private:
  LW_HD bool finite_all(double fv, const double* gv) const {
    if (!isfinite(fv)) return false;
    for (int i = 0; i < P; ++i)
      if (!isfinite(gv[i])) return false;
    return true;
  }
  LW_HD bool grad_small() const {
    double gm = 0;
    for (int i = 0; i < P; ++i) gm = max2(gm, fabs(g[i]));
    return gm <= ctl.gtol * fabs(f) || gm == 0;
  }
  LW_HD bool finish(FitStatus s) {
    status = s;
    return false;
  }
  LW_HD void set_lo(double a, double fa, double dga, const double* ga) {
    a_lo = a; f_lo = fa; dg_lo = dga;
    for (int i = 0; i < P; ++i) g_lo[i] = ga[i];
  }
  LW_HD void set_hi(double a, double fa, double dga) { a_hi = a; f_hi = fa; dg_hi = dga; }

  LW_HD bool propose() {
    for (int i = 0; i < P; ++i) xt[i] = x[i] + stp * d[i];
    return true;
  }

  LW_HD bool begin_search(double stp0) {
    dg0 = dot<P>(g, d);
    if (!(dg0 < 0)) return finish(FitStatus::GradientTol);  // −∇f · ∇f ≥ 0 only when ∇f = 0
    f0 = f;
    set_lo(0, f, dg0, g);
    set_hi(INFINITY, INFINITY, 0);
    phase = Search;
    ls_evals = 0;
    stp = stp0;
    return propose();
  }

  // Along −∇f with a first trial that moves the largest coordinate by ctl.first_step.
  LW_HD bool steepest_start() {
    double gm = 0;
    for (int i = 0; i < P; ++i) {
      d[i] = -g[i];
      gm = max2(gm, fabs(g[i]));
    }
    mcount = mhead = 0;
    return begin_search(ctl.first_step / gm);
  }

  // Next trial: expand while no step has failed Armijo yet; otherwise a safeguarded cubic between lo and hi
  // (bisection when the cubic is unusable, a quick shrink when f overflowed at hi).
  LW_HD bool next_trial() {
    if (!isfinite(a_hi)) {
      stp = 4 * a_lo;
      return propose();
    }
    const double w = a_hi - a_lo;
    double t = a_lo + 0.5 * w;
    if (!isfinite(f_hi) || !isfinite(dg_hi)) {
      t = a_lo + 0.2 * w;
    } else {
      const double d1 = dg_lo + dg_hi - 3 * (f_lo - f_hi) / (a_lo - a_hi);
      const double disc = d1 * d1 - dg_lo * dg_hi;
      if (disc >= 0) {
        const double d2 = sqrt(disc);
        const double den = dg_hi - dg_lo + 2 * d2;
        if (den != 0) {
          const double c = a_hi - w * (dg_hi + d2 - d1) / den;
          if (c >= a_lo + 0.1 * w && c <= a_hi - 0.1 * w) t = c;
        }
      }
    }
    stp = t;
    return propose();
  }

  // Line search ends without a Wolfe point: take the best Armijo point, or restart along −∇f once.
  LW_HD bool accept_lo() {
    if (a_lo > 0 && f_lo < f0) {
      double xa[P];
      for (int i = 0; i < P; ++i) xa[i] = x[i] + a_lo * d[i];
      return take(xa, f_lo, g_lo);
    }
    if (!reset_tried && mcount > 0) {
      reset_tried = true;
      return steepest_start();
    }
    return finish(FitStatus::LineSearch);
  }

  LW_HD bool take(const double* xn, double fn, const double* gn) {
    double sv[P], yv[P], smax = 0, xmax = 0;
    for (int i = 0; i < P; ++i) {
      sv[i] = xn[i] - x[i];
      yv[i] = gn[i] - g[i];
      smax = max2(smax, fabs(sv[i]));
      x[i] = xn[i];
      g[i] = gn[i];
      xmax = max2(xmax, fabs(x[i]));
    }
    const double sy = dot<P>(sv, yv), yy = dot<P>(yv, yv);
    const double fprev = f;
    f = fn;
    ++iter;
    reset_tried = false;
    if (sy > 1e-16 * yy && sy > 0) {  // curvature pair usable (when full, it replaces the oldest)
      for (int i = 0; i < P; ++i) {
        S[mhead][i] = sv[i];
        Y[mhead][i] = yv[i];
      }
      rho[mhead] = 1 / sy;
      mhead = (mhead + 1) % M;
      if (mcount < M) ++mcount;
    }
    if (grad_small()) return finish(FitStatus::GradientTol);
    if (fprev - f <= ctl.ftol * max2(fabs(fprev), fabs(f))) return finish(FitStatus::RelativeTol);
    if (smax <= ctl.xtol * (1 + xmax)) return finish(FitStatus::StepTol);
    if (iter >= ctl.max_iter) return finish(FitStatus::MaxIter);
    if (mcount == 0) return steepest_start();
    two_loop();
    const double dg = dot<P>(g, d);
    if (!(dg < 0)) return steepest_start();  // rounding made H indefinite: drop the memory
    return begin_search(1.0);
  }

  // d = −H∇f by the two-loop recursion, H0 = (sᵀy / yᵀy) I from the newest pair.
  LW_HD void two_loop() {
    double q[P], alpha[M];
    for (int i = 0; i < P; ++i) q[i] = -g[i];
    int idx = mhead;
    for (int k = 0; k < mcount; ++k) {
      idx = (idx - 1 + M) % M;
      const double a = dot<P>(S[idx], q) * rho[idx];
      alpha[k] = a;
      for (int i = 0; i < P; ++i) q[i] -= a * Y[idx][i];
    }
    const int newest = (mhead - 1 + M) % M;
    const double yy = dot<P>(Y[newest], Y[newest]);
    const double gamma = 1 / (rho[newest] * yy);
    for (int i = 0; i < P; ++i) q[i] *= gamma;
    for (int k = mcount - 1; k >= 0; --k) {
      idx = (mhead - 1 - k + 2 * M) % M;
      const double b = dot<P>(Y[idx], q) * rho[idx];
      for (int i = 0; i < P; ++i) q[i] += S[idx][i] * (alpha[k] - b);
    }
    for (int i = 0; i < P; ++i) d[i] = q[i];
  }
};

}  // namespace scaling
}  // namespace lw
