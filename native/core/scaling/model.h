// Scaling laws and fitting objectives (docs/scaling-laws.md), per data point, in float64. Written once for host and
// device: the CPU scalar path, the CUDA kernel and the tests all evaluate through these functions.
//
// Parameter vectors θ:
//   chinchilla  [a, b, e, α, β]      log L̂ = LSE(a − α ln N, b − β ln D, e);  A, B, E = exp(a, b, e)
//   kaplan-nd   [nc, dc, αN, αD]     log L̂ = αD · LSE((αN/αD)(nc − ln N), dc − ln D); Nc, Dc = exp(nc, dc)
//   data-constrained [a, b, e, α, β, R_D*, R_N*]   Muennighoff et al. 2023: log L̂ = LSE(a − α ln N', b − β ln D', e),
//               D' = U + U R_D* (1 − e^(−R_D/R_D*)), R_D = max(D/U − 1, 0); N' = U_N + U_N R_N* (1 − e^(−R_N/R_N*)),
//               U_N = min(N, N_opt(U)), R_N = N/U_N − 1, N_opt(U) the compute-optimal N of the base law for D = U
//               (ln N_opt(U) = (ln α + a − ln β − b)/α + (β/α) ln U), differentiated through U_N as well
//   custom      user parameters (≤ 8), L̂ from a bytecode program over N, D, U (see CustomProgram)
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

enum class Law : int { Chinchilla = 0, KaplanND = 1, DataConstrained = 2, Custom = 3 };
enum class Objective : int { Huber = 0, Mse = 1, HuberLikelihood = 2 };

constexpr int kMaxParams = 10;     // full θ of any law, σ included
constexpr int kSmallParams = 6;    // chinchilla / kaplan-nd (+σ): the L-BFGS dimension of their fast path
constexpr int kMaxCustomParams = 8;
constexpr int kMaxStack = 16;

// Bytecode of a custom law (compiled by lib/scaling/expr.ts): a stack machine over dual numbers, one int32 per
// instruction, opcode in the low 8 bits, operand (constant / parameter / variable index) above. Variables:
// 0 = N, 1 = D, 2 = U. The program leaves L̂ > 0 on the stack.
enum class Op : int32_t {
  Const = 0, Param = 1, Var = 2, LogVar = 3, Add = 4, Sub = 5, Mul = 6, Div = 7, Neg = 8, Pow = 9,
  PowVar = 10,  // var^top = exp(top · ln var)
  Exp = 11, Log = 12, Sqrt = 13, Min = 14, Max = 15,
  Slot = 16,   // push slot `arg`
  Store = 17,  // pop into slot `arg` (slots hold subexpressions of the parameters alone, hoisted by the compiler)
  // push X · V^(±θ_p): the power-law term of scaling laws as one instruction. arg bits: 0 X is a slot (else a
  // parameter), 1–3 X's index, 4–5 V (0 N, 1 D, 2 U), 6–8 p, 9 minus sign on the exponent.
  PowTerm = 18,
};
struct PowTermArg {
  bool x_slot;
  int x, var, p;
  bool neg;
};
LW_HD PowTermArg pow_term_arg(int arg) {
  return PowTermArg{(arg & 1) != 0, (arg >> 1) & 7, (arg >> 4) & 3, (arg >> 6) & 7, ((arg >> 9) & 1) != 0};
}
constexpr int kMaxSlots = 8;

// Stack effect of an opcode (−2: unknown); `need` = operands it reads.
LW_HD int op_effect(int op, int* need) {
  if (op <= 3 || op == 16 || op == 18) { *need = 0; return 1; }
  if (op == 8 || (op >= 10 && op <= 13)) { *need = 1; return 0; }
  if ((op >= 4 && op <= 7) || op == 9 || op == 14 || op == 15) { *need = 2; return -1; }
  if (op == 17) { *need = 1; return -1; }
  *need = 0;
  return -2;
}
struct CustomProgram {
  const int32_t* code = nullptr;
  const double* consts = nullptr;
  int len = 0;
  int n_params = 0;
};

LW_HD int law_params_of(Law law, int custom_params) {
  return law == Law::Chinchilla ? 5 : law == Law::KaplanND ? 4 : law == Law::DataConstrained ? 7 : custom_params;
}
LW_HD int law_params(Law law) { return law_params_of(law, 0); }
LW_HD int total_params(Law law, Objective obj) {
  return law_params(law) + (obj == Objective::HuberLikelihood ? 1 : 0);
}

// Constraints as a map from the reduced vector u the optimiser moves to the full θ the law reads: θ_j is fixed,
// or T_m(u_m) with m = src[j] (several j sharing one m are tied); T_m is the identity, or a transform onto a box:
// [lo, hi] by lo + (hi − lo)·sigmoid(u), [lo, ∞) by lo + e^u, (−∞, hi] by hi − e^u. Starts and results are in θ
// units; the optimiser never leaves the box (an optimum on a bound is approached to the stopping tolerance).
enum class Bound : int32_t { None = 0, Both = 1, Lower = 2, Upper = 3 };
struct ParamMap {
  int full = 0;     // θ length, σ included
  int reduced = 0;  // u length, σ included (σ is always free and last)
  int32_t src[kMaxParams] = {0};
  double fixed[kMaxParams] = {0};
  int32_t kind[kMaxParams] = {0};  // per reduced index
  double lo[kMaxParams] = {0}, hi[kMaxParams] = {0};

  LW_HD double forward(int m, double u, double* d) const {
    switch (static_cast<Bound>(kind[m])) {
      case Bound::Both: {
        const double s = u >= 0 ? 1 / (1 + exp(-u)) : exp(u) / (1 + exp(u));
        *d = (hi[m] - lo[m]) * s * (1 - s);
        return lo[m] + (hi[m] - lo[m]) * s;
      }
      case Bound::Lower: { const double e = exp(u); *d = e; return lo[m] + e; }
      case Bound::Upper: { const double e = exp(u); *d = -e; return hi[m] - e; }
      default: *d = 1; return u;
    }
  }
  // θ units → u, starts pulled strictly inside the box (1e-6 of its width, or 1e-8 from a one-sided bound).
  LW_HD double inverse(int m, double x) const {
    switch (static_cast<Bound>(kind[m])) {
      case Bound::Both: {
        const double w = hi[m] - lo[m], eps = 1e-6 * w;
        x = x < lo[m] + eps ? lo[m] + eps : (x > hi[m] - eps ? hi[m] - eps : x);
        return log((x - lo[m]) / (hi[m] - x));
      }
      case Bound::Lower: { const double t = x - lo[m]; return log(t > 1e-8 ? t : 1e-8); }
      case Bound::Upper: { const double t = hi[m] - x; return log(t > 1e-8 ? t : 1e-8); }
      default: return x;
    }
  }
  LW_HD void to_full(const double* u, double* th, double* dth) const {
    double x[kMaxParams], dx[kMaxParams];
    for (int m = 0; m < reduced; ++m) x[m] = forward(m, u[m], &dx[m]);
    for (int j = 0; j < full; ++j) {
      const int m = src[j];
      th[j] = m < 0 ? fixed[j] : x[m];
      dth[j] = m < 0 ? 0 : dx[m];
    }
  }
  LW_HD void reduce(const double* g, const double* dth, double* gu) const {
    for (int m = 0; m < reduced; ++m) gu[m] = 0;
    for (int j = 0; j < full; ++j)
      if (src[j] >= 0) gu[src[j]] += g[j] * dth[j];
  }
  // θ of a start given in reduced θ units (the law part; σ left to the caller).
  LW_HD void start_full(const double* x, int law_full, double* th) const {
    for (int j = 0; j < law_full; ++j) th[j] = src[j] < 0 ? fixed[j] : x[src[j]];
  }
  LW_HD bool identity() const {
    if (full != reduced) return false;
    for (int j = 0; j < full; ++j)
      if (src[j] != j || kind[j] != 0) return false;
    return true;
  }
};

// No constraints: θ = u, all `k` free.
inline ParamMap identity_map(int k) {
  ParamMap m;
  m.full = m.reduced = k;
  for (int j = 0; j < k; ++j) m.src[j] = j;
  return m;
}

// What one objective evaluation needs besides the data.
struct Problem {
  Law law = Law::Chinchilla;
  Objective objective = Objective::Huber;
  double delta = 1e-3;  // Huber threshold (Huber, HuberLikelihood)
  double log_z = 0;     // ln Z(δ) for HuberLikelihood (see log_huber_normaliser)
  int64_t n = 0;        // data points
  int k = 5;            // law parameters (custom: the program's)
  CustomProgram prog;   // custom law only (device pointers on the GPU)
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

// ln(1 + R*(1 − e^(−R/R*))) and its derivatives in R* and R (the repetition discount of Muennighoff et al.).
LW_HD double repeat_log(double R, double rs, double* d_rs, double* d_R) {
  if (!(rs > 0)) {
    *d_rs = *d_R = NAN;
    return NAN;
  }
  const double q = R / rs, eq = exp(-q), om = -expm1(-q);  // 1 − e^(−q)
  const double h = rs * om, inv = 1 / (1 + h);
  *d_rs = (om - q * eq) * inv;
  *d_R = eq * inv;
  return log1p(h);
}

// Data-constrained law: lU = ln U (unique tokens). dr gets 7 entries.
LW_HD double dc_point(const double* th, double lN, double lD, double lU, double* dr) {
  const double a = th[0], b = th[1], e = th[2], al = th[3], be = th[4], rd = th[5], rn = th[6];
  // unique-token repetition
  double RD = exp(lD - lU) - 1;
  if (RD < 0) RD = 0;
  double drd, dRD;
  const double lDp = lU + repeat_log(RD, rd, &drd, &dRD);
  // excess parameters: U_N = min(N, N_opt(U))
  const double c0 = log(al) + a - log(be) - b;
  const double lopt = c0 / al + (be / al) * lU;
  const bool capped = lopt < lN;
  const double lUN = capped ? lopt : lN;
  const double RN = capped ? exp(lN - lUN) - 1 : 0.0;
  double drn, dRN;
  const double lNp = lUN + repeat_log(RN, rn, &drn, &dRN);
  // d lNp / d lUN (only when capped): 1 − (dlog/dR)(R + 1)
  const double k_un = capped ? 1 - dRN * (RN + 1) : 0.0;
  const double t1 = a - al * lNp, t2 = b - be * lDp, t3 = e;
  const double m = fmax(t1, fmax(t2, t3));
  const double x1 = exp(t1 - m), x2 = exp(t2 - m), x3 = exp(t3 - m);
  const double inv = 1 / (x1 + x2 + x3);
  const double w1 = x1 * inv, w2 = x2 * inv, w3 = x3 * inv;
  // dt1 = da − α dlNp − lNp dα, dlNp = k_un dlUN + drn drn*, dlUN = (da − db)/α + dα (1 − c0 − β lU)/α² + dβ (lU − 1/β)/α
  const double s1 = -al * k_un;  // ∂t1/∂lUN
  dr[0] = w1 * (1 + s1 / al);
  dr[1] = w2 + w1 * (-s1 / al);
  dr[2] = w3;
  dr[3] = w1 * (-lNp + s1 * (1 - c0 - be * lU) / (al * al));
  dr[4] = -w2 * lDp + w1 * s1 * (lU - 1 / be) / al;
  dr[5] = -w2 * be * drd;
  dr[6] = -w1 * al * drn;
  return m + log(x1 + x2 + x3);
}

// Dual numbers over ≤ kMaxCustomParams parameters, for custom laws.
struct Dual {
  double v;
  double d[kMaxCustomParams];
};

// x <- x op y for a binary op on duals of K derivative entries (an unknown op gives NaN). The one definition for the
// interpreter below and the register evaluator (custom_regs.h): the two agree bit for bit.
template <int K, class D>
LW_HD void dual_binary(D& x, const D& y, Op op) {
  switch (op) {
    case Op::Add: x.v += y.v; for (int j = 0; j < K; ++j) x.d[j] += y.d[j]; break;
    case Op::Sub: x.v -= y.v; for (int j = 0; j < K; ++j) x.d[j] -= y.d[j]; break;
    case Op::Mul:
      for (int j = 0; j < K; ++j) x.d[j] = x.d[j] * y.v + x.v * y.d[j];
      x.v *= y.v;
      break;
    case Op::Div: {
      const double iy = 1 / y.v, q = x.v * iy;
      for (int j = 0; j < K; ++j) x.d[j] = (x.d[j] - q * y.d[j]) * iy;
      x.v = q;
      break;
    }
    case Op::Pow: {  // x^y = exp(y ln x)
      const double lx = log(x.v), v = exp(y.v * lx), sx = v * y.v / x.v, sy = v * lx;
      for (int j = 0; j < K; ++j) x.d[j] = sx * x.d[j] + (y.d[j] != 0 ? sy * y.d[j] : 0.0);
      x.v = v;
      break;
    }
    case Op::Min: case Op::Max: {
      const bool take_y = op == Op::Min ? y.v < x.v : y.v > x.v;
      if (take_y) x = y;
      break;
    }
    default: x.v = NAN; break;
  }
}

// Runs a custom program at one point: L̂ and dL̂/dθ as a dual number (`slots`: kMaxSlots scratch entries).
LW_HD Dual custom_value(const CustomProgram& p, const double* th, double lN, double lD, double lU, Dual* slots) {
  Dual st[kMaxStack];
  int sp = 0;
  const int K = kMaxCustomParams;
  for (int pc = 0; pc < p.len; ++pc) {
    const int32_t ins = p.code[pc];
    const Op op = static_cast<Op>(ins & 0xff);
    const int arg = ins >> 8;
    switch (op) {
      case Op::Const: case Op::Param: case Op::Var: case Op::LogVar: {
        Dual& x = st[sp++];
        for (int j = 0; j < K; ++j) x.d[j] = 0;
        if (op == Op::Const) x.v = p.consts[arg];
        else if (op == Op::Param) { x.v = th[arg]; x.d[arg] = 1; }
        else {
          const double lv = arg == 0 ? lN : arg == 1 ? lD : lU;
          x.v = op == Op::Var ? exp(lv) : lv;
        }
        break;
      }
      case Op::Slot: st[sp++] = slots[arg]; break;
      case Op::Store: slots[arg] = st[--sp]; break;
      case Op::PowTerm: {
        const PowTermArg t = pow_term_arg(arg);
        Dual& x = st[sp++];
        if (t.x_slot) x = slots[t.x];
        else {
          for (int j = 0; j < K; ++j) x.d[j] = 0;
          x.v = th[t.x];
          x.d[t.x] = 1;
        }
        const double lv = t.var == 0 ? lN : t.var == 1 ? lD : lU;
        const double sg = t.neg ? -1.0 : 1.0;
        const double e = exp(sg * th[t.p] * lv);
        for (int j = 0; j < K; ++j) x.d[j] *= e;
        x.d[t.p] += sg * x.v * e * lv;
        x.v *= e;
        break;
      }
      case Op::Neg: { Dual& x = st[sp - 1]; x.v = -x.v; for (int j = 0; j < K; ++j) x.d[j] = -x.d[j]; break; }
      case Op::Exp: case Op::Log: case Op::Sqrt: {
        Dual& x = st[sp - 1];
        double v, s;
        if (op == Op::Exp) { v = exp(x.v); s = v; }
        else if (op == Op::Log) { v = log(x.v); s = 1 / x.v; }
        else { v = sqrt(x.v); s = 0.5 / v; }
        x.v = v;
        for (int j = 0; j < K; ++j) x.d[j] *= s;
        break;
      }
      case Op::PowVar: {  // var^x = exp(x ln var)
        Dual& x = st[sp - 1];
        const double lv = arg == 0 ? lN : arg == 1 ? lD : lU;
        const double v = exp(x.v * lv), s = v * lv;
        x.v = v;
        for (int j = 0; j < K; ++j) x.d[j] *= s;
        break;
      }
      default: {  // binary
        --sp;
        dual_binary<K>(st[sp - 1], st[sp], op);
      }
    }
  }
  return st[0];
}

// ln L̂ of a custom program at one point; writes d ln L̂ / dθ (k entries).
LW_HD double custom_point(const CustomProgram& p, const double* th, double lN, double lD, double lU, double* dr) {
  Dual slots[kMaxSlots];
  const Dual r = custom_value(p, th, lN, lD, lU, slots);
  const double inv = 1 / r.v;
  for (int j = 0; j < p.n_params; ++j) dr[j] = r.d[j] * inv;
  return r.v > 0 ? log(r.v) : NAN;
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

// Any law with ln U (data-constrained, custom): same objectives, k = pb.k parameters (+σ).
template <typename Data>
LW_HD double point_any(const Problem& pb, const Data& data, int64_t i, const double* th, double* dr) {
  if (pb.law == Law::DataConstrained) return dc_point(th, data.lN(i), data.lD(i), data.lU(i), dr);
  if (pb.law == Law::Custom) return custom_point(pb.prog, th, data.lN(i), data.lD(i), data.lU(i), dr);
  return law_point(pb.law, th, data.lN(i), data.lD(i), dr);
}

template <typename Data>
LW_HD double objective_eval_any(const Problem& pb, const Data& data, const double* w, const double* th, double* g) {
  const int k = pb.k;
  const bool lik = pb.objective == Objective::HuberLikelihood;
  const double delta = pb.objective == Objective::Mse ? INFINITY : pb.delta;
  const double inv_s = lik ? exp(-th[k]) : 1.0;
  double f = 0, wsum = 0, gz = 0, acc[kMaxParams];
  for (int j = 0; j < k; ++j) acc[j] = 0;
  for (int64_t i = 0; i < pb.n; ++i) {
    const double c = w ? w[i] : 1.0;
    if (c == 0) continue;
    double dr[kMaxParams];
    const double r = point_any(pb, data, i, th, dr) - data.lL(i);
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
  switch (pb.law) {
    case Law::Chinchilla: return objective_eval_law<Law::Chinchilla>(pb, data, w, th, g);
    case Law::KaplanND: return objective_eval_law<Law::KaplanND>(pb, data, w, th, g);
    default: return objective_eval_any(pb, data, w, th, g);
  }
}

// The objective in the reduced coordinates u of a constraint map; `ident` (map.identity()): θ = u, no map.
// `obj` evaluates it in θ (LawObjective below, or the CUDA kernel's register evaluator of custom laws,
// custom_regs.h), from one call site so the GPU kernel inlines it once.
template <typename Obj, typename Data>
LW_HD double reduced_eval(const Obj& obj, const Problem& pb, const ParamMap& map, bool ident, const Data& data,
                          const double* w, const double* u, double* gu) {
  double th[kMaxParams], dth[kMaxParams], g[kMaxParams];
  if (!ident) map.to_full(u, th, dth);
  const double f = obj(pb, data, w, ident ? u : th, ident ? gu : g);
  if (!ident) map.reduce(g, dth, gu);
  return f;
}

// Starting σ for the likelihood: the profile optimum when every scaled residual is in Huber's linear zone,
// e^σ = δ · mean|r| (so the free σ starts where it would end for fixed law parameters).
template <typename Data>
LW_HD double initial_log_scale(const Problem& pb, const Data& data, const double* w, const double* th) {
  double sa = 0, sw = 0, dr[kMaxParams];
  for (int64_t i = 0; i < pb.n; ++i) {
    const double c = w ? w[i] : 1.0;
    if (c == 0) continue;
    sa += c * fabs(point_any(pb, data, i, th, dr) - data.lL(i));
    sw += c;
  }
  double mean = sw > 0 ? sa / sw : 0;
  if (!(mean > 1e-12)) mean = 1e-12;
  if (!(mean < 1e12)) mean = 1e12;
  return log(pb.delta * mean);
}

// The objective of any law through the functions above (custom laws by the interpreter).
struct LawObjective {
  template <typename Data>
  LW_HD double operator()(const Problem& pb, const Data& d, const double* w, const double* th, double* g) const {
    return objective_eval(pb, d, w, th, g);
  }
  template <typename Data>
  LW_HD double log_scale(const Problem& pb, const Data& d, const double* w, const double* th) const {
    return initial_log_scale(pb, d, w, th);
  }
};

// Plain arrays of ln N, ln D, ln loss (and ln U for the laws that read it).
struct LogData {
  const double* ln_n;
  const double* ln_d;
  const double* ln_l;
  const double* ln_u = nullptr;
  LW_HD double lN(int64_t i) const { return ln_n[i]; }
  LW_HD double lD(int64_t i) const { return ln_d[i]; }
  LW_HD double lL(int64_t i) const { return ln_l[i]; }
  LW_HD double lU(int64_t i) const { return ln_u ? ln_u[i] : ln_d[i]; }
};

}  // namespace scaling
}  // namespace lw
