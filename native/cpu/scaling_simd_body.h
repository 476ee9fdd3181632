// Chinchilla objective + gradient over padded SoA data, vectorised across data points. Included once per
// instruction set inside a `#pragma GCC target` region, after defining the vector traits `V` (see
// scaling_simd.cc); the math is model.h's chinchilla_point + objective_eval, lane-wise.
// exp(x) for x ≤ 0 (arguments are differences to the largest term): Cody–Waite reduction, degree-13 Taylor.
static inline V::T exp_nonpos(V::T x) {
  x = V::max(x, V::set1(-708.0));
  const V::T magic = V::set1(6755399441055744.0);  // 1.5·2^52: adding it rounds to an integer
  const V::T k = V::fma(x, V::set1(1.4426950408889634), magic);
  const V::T nn = V::sub(k, magic);
  V::T r = V::fnma(nn, V::set1(0.6931471803691238), x);
  r = V::fnma(nn, V::set1(1.9082149292705877e-10), r);
  // Estrin's scheme for Σ r^j/j!, j ≤ 13: shorter dependency chains than Horner.
  const V::T r2 = V::mul(r, r), r4 = V::mul(r2, r2), r8 = V::mul(r4, r4);
  const V::T p01 = V::fma(r, V::set1(1.0), V::set1(1.0));
  const V::T p23 = V::fma(r, V::set1(1.0 / 6), V::set1(0.5));
  const V::T p45 = V::fma(r, V::set1(1.0 / 120), V::set1(1.0 / 24));
  const V::T p67 = V::fma(r, V::set1(1.0 / 5040), V::set1(1.0 / 720));
  const V::T p89 = V::fma(r, V::set1(1.0 / 362880), V::set1(1.0 / 40320));
  const V::T p1011 = V::fma(r, V::set1(1.0 / 39916800), V::set1(1.0 / 3628800));
  const V::T p1213 = V::fma(r, V::set1(1.0 / 6227020800.0), V::set1(1.0 / 479001600));
  const V::T q03 = V::fma(r2, p23, p01), q47 = V::fma(r2, p67, p45);
  const V::T q811 = V::fma(r2, p1011, p89);
  const V::T q07 = V::fma(r4, q47, q03), q813 = V::fma(r4, p1213, q811);
  const V::T p = V::fma(r8, q813, q07);
  return V::scale2(p, k, nn);
}

// log(s) for s in [1, 3]: s = 2^k m with m in [√½, 1.5], log m = 2 atanh(t), t = (m−1)/(m+1).
static inline V::T log_1_3(V::T s) {
  const V::M big = V::gt(s, V::set1(1.4142135623730951));
  const V::T m = V::blend(big, V::mul(s, V::set1(0.5)), s);
  const V::T kk = V::blend(big, V::set1(1.0), V::set1(0.0));
  const V::T f = V::sub(m, V::set1(1.0));
  const V::T t = V::div(f, V::add(f, V::set1(2.0)));
  const V::T t2 = V::mul(t, t);
  // Σ_{j≤11} t2^j / (2j+1) by Estrin.
  const V::T u2 = V::mul(t2, t2), u4 = V::mul(u2, u2), u8 = V::mul(u4, u4);
  const V::T a01 = V::fma(t2, V::set1(1.0 / 3), V::set1(1.0));
  const V::T a23 = V::fma(t2, V::set1(1.0 / 7), V::set1(1.0 / 5));
  const V::T a45 = V::fma(t2, V::set1(1.0 / 11), V::set1(1.0 / 9));
  const V::T a67 = V::fma(t2, V::set1(1.0 / 15), V::set1(1.0 / 13));
  const V::T a89 = V::fma(t2, V::set1(1.0 / 19), V::set1(1.0 / 17));
  const V::T a1011 = V::fma(t2, V::set1(1.0 / 23), V::set1(1.0 / 21));
  const V::T b03 = V::fma(u2, a23, a01), b47 = V::fma(u2, a67, a45), b811 = V::fma(u2, a1011, a89);
  const V::T b07 = V::fma(u4, b47, b03);
  const V::T p = V::fma(u8, b811, b07);
  return V::fma(kk, V::set1(0.6931471805599453), V::mul(V::add(t, t), p));
}

// th = [a, b, e, α, β(, σ)]; data padded to a multiple of V::W with weight 0.
static double chinchilla_eval(const lw::scaling::Problem& pb, const double* ln_n, const double* ln_d,
                              const double* ln_l, const double* w, int64_t npad, const double* th, double* g) {
  const bool lik = pb.objective == lw::scaling::Objective::HuberLikelihood;
  const double delta = pb.objective == lw::scaling::Objective::Mse ? INFINITY : pb.delta;
  const double inv_s_d = lik ? std::exp(-th[5]) : 1.0;
  const V::T a = V::set1(th[0]), b = V::set1(th[1]), e = V::set1(th[2]), al = V::set1(th[3]), be = V::set1(th[4]);
  const V::T one = V::set1(1.0), half = V::set1(0.5), dp = V::set1(delta), dn = V::set1(-delta);
  const V::T inv_s = V::set1(inv_s_d);
  V::T sh = V::set1(0.0), s1 = sh, s2 = sh, s3 = sh, s1n = sh, s2d = sh, sz = sh, sw = sh;
  for (int64_t i = 0; i < npad; i += V::W) {
    const V::T lN = V::load(ln_n + i), lD = V::load(ln_d + i), lL = V::load(ln_l + i), c = V::load(w + i);
    const V::T t1 = V::fnma(al, lN, a), t2 = V::fnma(be, lD, b);
    const V::M c12 = V::ge(t1, t2);
    const V::T hi = V::blend(c12, t1, t2), lo = V::blend(c12, t2, t1);
    const V::M emax = V::ge(e, hi);
    const V::T m = V::blend(emax, e, hi);
    const V::T ex = exp_nonpos(V::blend(emax, V::sub(t1, e), V::sub(lo, hi)));
    const V::T ey = exp_nonpos(V::blend(emax, V::sub(t2, e), V::sub(e, hi)));
    const V::T v1 = V::blend(emax, ex, V::blend(c12, one, ex));
    const V::T v2 = V::blend(emax, ey, V::blend(c12, ex, one));
    const V::T v3 = V::blend(emax, one, ey);
    const V::T s = V::add(V::add(one, ex), ey);
    const V::T inv = V::div(one, s);
    const V::T r = V::sub(V::add(m, log_1_3(s)), lL);
    const V::T z = V::mul(r, inv_s);
    const V::T psi = V::max(V::min(z, dp), dn);
    const V::T cpsi = V::mul(c, psi);
    sh = V::fma(cpsi, V::fnma(half, psi, z), sh);
    const V::T cpi = V::mul(cpsi, inv);
    const V::T c1 = V::mul(cpi, v1), c2 = V::mul(cpi, v2);
    s1 = V::add(s1, c1);
    s2 = V::add(s2, c2);
    s3 = V::fma(cpi, v3, s3);
    s1n = V::fma(c1, lN, s1n);
    s2d = V::fma(c2, lD, s2d);
    sz = V::fma(cpsi, z, sz);
    sw = V::add(sw, c);
  }
  double f = V::hsum(sh);
  g[0] = V::hsum(s1) * inv_s_d;
  g[1] = V::hsum(s2) * inv_s_d;
  g[2] = V::hsum(s3) * inv_s_d;
  g[3] = -V::hsum(s1n) * inv_s_d;
  g[4] = -V::hsum(s2d) * inv_s_d;
  const double wsum = V::hsum(sw);
  if (lik) {
    f += wsum * (pb.log_z + th[5]);
    g[5] = wsum - V::hsum(sz);
  } else if (pb.objective == lw::scaling::Objective::Mse) {
    const double k = wsum > 0 ? 2 / wsum : 0;
    f *= k;
    for (int j = 0; j < 5; ++j) g[j] *= k;
  }
  return f;
}

// ---------------------------------------------------------------------------------------------- custom laws
// exp(x) for any x: NaN stays NaN, x > 709 gives +inf, x < −708 clamps to e^−708.
static inline V::T exp_any(V::T x) {
  const V::T r = exp_nonpos(V::min(x, V::set1(709.0)));
  const V::T big = V::blend(V::gt(x, V::set1(709.0)), V::set1(INFINITY), r);
  return V::blend(V::isnan(x), x, big);
}

// log(v) for normal v > 0; NaN for v ≤ 0 or NaN, +inf for +inf.
static inline V::T log_any(V::T v) {
  V::T e, m;
  V::split(v, &e, &m);
  const V::M big = V::gt(m, V::set1(1.4142135623730951));
  m = V::blend(big, V::mul(m, V::set1(0.5)), m);
  e = V::blend(big, V::add(e, V::set1(1.0)), e);
  const V::T f = V::sub(m, V::set1(1.0));
  const V::T t = V::div(f, V::add(f, V::set1(2.0)));
  const V::T t2 = V::mul(t, t);
  const V::T u2 = V::mul(t2, t2), u4 = V::mul(u2, u2), u8 = V::mul(u4, u4);
  const V::T a01 = V::fma(t2, V::set1(1.0 / 3), V::set1(1.0));
  const V::T a23 = V::fma(t2, V::set1(1.0 / 7), V::set1(1.0 / 5));
  const V::T a45 = V::fma(t2, V::set1(1.0 / 11), V::set1(1.0 / 9));
  const V::T a67 = V::fma(t2, V::set1(1.0 / 15), V::set1(1.0 / 13));
  const V::T a89 = V::fma(t2, V::set1(1.0 / 19), V::set1(1.0 / 17));
  const V::T a1011 = V::fma(t2, V::set1(1.0 / 23), V::set1(1.0 / 21));
  const V::T b03 = V::fma(u2, a23, a01), b47 = V::fma(u2, a67, a45), b811 = V::fma(u2, a1011, a89);
  const V::T b07 = V::fma(u4, b47, b03);
  const V::T p = V::fma(u8, b811, b07);
  V::T r = V::fma(e, V::set1(0.6931471805599453), V::mul(V::add(t, t), p));
  r = V::blend(V::gt(v, V::set1(1.79769313486231570e308)), V::set1(INFINITY), r);
  return V::blend(V::mor(V::le(v, V::set1(0.0)), V::isnan(v)), V::set1(NAN), r);
}

// The custom-law interpreter runs each instruction over a block of NB vectors (NB·W data points) before the next
// one, so the dispatch and the per-lane bookkeeping are paid once per block, and the NB lanes of an exp or log are
// independent work for the core. Same arithmetic per point, in the same order, as one vector at a time.
// A register is uniform (u) when it does not depend on the data (constants, parameters, hoisted slots): then only
// index 0 is stored and computed. Each register carries the set of parameters its derivative can depend on (m):
// components outside it are zero and are neither stored nor computed, so A·N^(−α) costs two gradient lanes, not K.
template <int NB>
struct CReg {
  uint32_t m;
  bool u;
  V::T v[NB];
  V::T d[lw::scaling::kMaxCustomParams][NB];
};

struct CAcc {
  V::T sh, sz, sw, acc[lw::scaling::kMaxCustomParams];
};

struct CEnv {
  const lw::scaling::CustomProgram* prog;
  const double* th;
  const lw::scaling::Dual* slots;
  int body;
  V::T inv_s, dp, dn;
};

template <int NB>
static inline void c_expand(CReg<NB>& x) {
  if (!x.u) return;
  for (int b = 1; b < NB; ++b) x.v[b] = x.v[0];
  for (uint32_t mm = x.m; mm; mm &= mm - 1) {
    const int j = __builtin_ctz(mm);
    for (int b = 1; b < NB; ++b) x.d[j][b] = x.d[j][0];
  }
  x.u = false;
}

// Neg, Exp, Log, Sqrt, PowVar on the top register, C vectors (1 when it is uniform).
template <int NB, int C>
static inline void c_unary(lw::scaling::Op op, int arg, CReg<NB>& x, const V::T (*lx)[NB]) {
  using lw::scaling::Op;
  const V::T zero = V::set1(0.0), one = V::set1(1.0), half = V::set1(0.5);
  if (op == Op::Neg) {
    for (int b = 0; b < C; ++b) x.v[b] = V::sub(zero, x.v[b]);
    for (uint32_t mm = x.m; mm; mm &= mm - 1) {
      const int j = __builtin_ctz(mm);
      for (int b = 0; b < C; ++b) x.d[j][b] = V::sub(zero, x.d[j][b]);
    }
    return;
  }
  V::T s[C];
  switch (op) {
    case Op::Exp:
      for (int b = 0; b < C; ++b) { x.v[b] = exp_any(x.v[b]); s[b] = x.v[b]; }
      break;
    case Op::Log:
      for (int b = 0; b < C; ++b) { s[b] = V::div(one, x.v[b]); x.v[b] = log_any(x.v[b]); }
      break;
    case Op::Sqrt:
      for (int b = 0; b < C; ++b) { x.v[b] = V::sqrt(x.v[b]); s[b] = V::div(half, x.v[b]); }
      break;
    default:  // PowVar
      for (int b = 0; b < C; ++b) { x.v[b] = exp_any(V::mul(x.v[b], lx[arg][b])); s[b] = V::mul(x.v[b], lx[arg][b]); }
      break;
  }
  for (uint32_t mm = x.m; mm; mm &= mm - 1) {
    const int j = __builtin_ctz(mm);
    for (int b = 0; b < C; ++b) x.d[j][b] = V::mul(x.d[j][b], s[b]);
  }
}

// x ← x op y over C vectors; y is read at stride sy (0 when y is uniform and x is not).
template <int NB, int C>
static inline void c_binary(lw::scaling::Op op, CReg<NB>& x, const CReg<NB>& y, int sy) {
  using lw::scaling::Op;
  const V::T zero = V::set1(0.0), one = V::set1(1.0);
  const uint32_t mu = x.m | y.m;
  switch (op) {
    case Op::Add: case Op::Sub: {
      // A lane only x has stays as it is (x ± 0); a lane only y has is ±y (0 ± y).
      if (op == Op::Sub) {
        for (int b = 0; b < C; ++b) x.v[b] = V::sub(x.v[b], y.v[b * sy]);
        for (uint32_t mm = y.m; mm; mm &= mm - 1) {
          const int j = __builtin_ctz(mm);
          if (x.m >> j & 1)
            for (int b = 0; b < C; ++b) x.d[j][b] = V::sub(x.d[j][b], y.d[j][b * sy]);
          else
            for (int b = 0; b < C; ++b) x.d[j][b] = V::sub(zero, y.d[j][b * sy]);
        }
      } else {
        for (int b = 0; b < C; ++b) x.v[b] = V::add(x.v[b], y.v[b * sy]);
        for (uint32_t mm = y.m; mm; mm &= mm - 1) {
          const int j = __builtin_ctz(mm);
          if (x.m >> j & 1)
            for (int b = 0; b < C; ++b) x.d[j][b] = V::add(x.d[j][b], y.d[j][b * sy]);
          else
            for (int b = 0; b < C; ++b) x.d[j][b] = y.d[j][b * sy];
        }
      }
      break;
    }
    case Op::Mul:
      for (uint32_t mm = mu; mm; mm &= mm - 1) {
        const int j = __builtin_ctz(mm);
        const bool hx = x.m >> j & 1, hy = y.m >> j & 1;
        if (hx && hy)
          for (int b = 0; b < C; ++b) x.d[j][b] = V::fma(x.v[b], y.d[j][b * sy], V::mul(x.d[j][b], y.v[b * sy]));
        else if (hx)
          for (int b = 0; b < C; ++b) x.d[j][b] = V::mul(x.d[j][b], y.v[b * sy]);
        else
          for (int b = 0; b < C; ++b) x.d[j][b] = V::mul(x.v[b], y.d[j][b * sy]);
      }
      for (int b = 0; b < C; ++b) x.v[b] = V::mul(x.v[b], y.v[b * sy]);
      break;
    case Op::Div: {
      V::T iy[C], q[C];
      for (int b = 0; b < C; ++b) { iy[b] = V::div(one, y.v[b * sy]); q[b] = V::mul(x.v[b], iy[b]); }
      for (uint32_t mm = mu; mm; mm &= mm - 1) {
        const int j = __builtin_ctz(mm);
        const bool hx = x.m >> j & 1, hy = y.m >> j & 1;
        for (int b = 0; b < C; ++b) {
          const V::T xd = hx ? x.d[j][b] : zero, yd = hy ? y.d[j][b * sy] : zero;
          x.d[j][b] = V::mul(V::fnma(q[b], yd, xd), iy[b]);
        }
      }
      for (int b = 0; b < C; ++b) x.v[b] = q[b];
      break;
    }
    case Op::Pow: {
      V::T v[C], sx[C], syv[C];
      for (int b = 0; b < C; ++b) {
        const V::T yv = y.v[b * sy], lxv = log_any(x.v[b]);
        v[b] = exp_any(V::mul(yv, lxv));
        sx[b] = V::div(V::mul(v[b], yv), x.v[b]);
        syv[b] = V::mul(v[b], lxv);
      }
      for (uint32_t mm = mu; mm; mm &= mm - 1) {
        const int j = __builtin_ctz(mm);
        const bool hx = x.m >> j & 1, hy = y.m >> j & 1;
        if (hx && hy)
          for (int b = 0; b < C; ++b) x.d[j][b] = V::fma(syv[b], y.d[j][b * sy], V::mul(sx[b], x.d[j][b]));
        else if (hx)
          for (int b = 0; b < C; ++b) x.d[j][b] = V::mul(sx[b], x.d[j][b]);
        else
          for (int b = 0; b < C; ++b) x.d[j][b] = V::mul(syv[b], y.d[j][b * sy]);
      }
      for (int b = 0; b < C; ++b) x.v[b] = v[b];
      break;
    }
    default: {  // Min, Max
      const bool mn = op == Op::Min;
      V::M take[C];
      for (int b = 0; b < C; ++b) {
        take[b] = mn ? V::gt(x.v[b], y.v[b * sy]) : V::gt(y.v[b * sy], x.v[b]);
        x.v[b] = V::blend(take[b], y.v[b * sy], x.v[b]);
      }
      for (uint32_t mm = mu; mm; mm &= mm - 1) {
        const int j = __builtin_ctz(mm);
        const bool hx = x.m >> j & 1, hy = y.m >> j & 1;
        for (int b = 0; b < C; ++b) {
          const V::T xd = hx ? x.d[j][b] : zero, yd = hy ? y.d[j][b * sy] : zero;
          x.d[j][b] = V::blend(take[b], yd, xd);
        }
      }
      break;
    }
  }
  x.m = mu;
}

// One block of NB vectors starting at point i: runs the program body, then adds the block's points to `a`.
template <int NB>
static inline void c_block(const CEnv& env, const double* ln_n, const double* ln_d, const double* ln_u,
                           const double* ln_l, const double* w, int64_t i, CAcc& a) {
  using lw::scaling::Op;
  const lw::scaling::CustomProgram& prog = *env.prog;
  const double* th = env.th;
  const V::T zero = V::set1(0.0), half = V::set1(0.5), one = V::set1(1.0);
  V::T lx[3][NB];
  for (int b = 0; b < NB; ++b) {
    const int64_t o = i + b * V::W;
    lx[0][b] = V::load(ln_n + o);
    lx[1][b] = V::load(ln_d + o);
    lx[2][b] = ln_u ? V::load(ln_u + o) : lx[1][b];
  }
  CReg<NB> st[lw::scaling::kMaxStack];
  int sp = 0;
  for (int pc = env.body; pc < prog.len; ++pc) {
    const int32_t ins = prog.code[pc];
    const int arg = ins >> 8;
    const Op op = static_cast<Op>(ins & 0xff);
    switch (op) {
      case Op::Slot: {
        CReg<NB>& x = st[sp++];
        const lw::scaling::Dual& y = env.slots[arg];
        x.u = true;
        x.v[0] = V::set1(y.v);
        x.m = 0;
        for (int j = 0; j < prog.n_params; ++j)
          if (y.d[j] != 0) { x.m |= 1u << j; x.d[j][0] = V::set1(y.d[j]); }
        break;
      }
      case Op::PowTerm: {
        const lw::scaling::PowTermArg t = lw::scaling::pow_term_arg(arg);
        CReg<NB>& x = st[sp++];
        x.u = false;
        const double sg = t.neg ? -1.0 : 1.0;
        const V::T ex = V::set1(sg * th[t.p]), sgv = V::set1(sg);
        V::T e[NB];
        for (int b = 0; b < NB; ++b) e[b] = exp_any(V::mul(ex, lx[t.var][b]));
        if (t.x_slot) {
          const lw::scaling::Dual& y = env.slots[t.x];
          x.m = 0;
          for (int j = 0; j < prog.n_params; ++j) {
            if (y.d[j] == 0) continue;
            x.m |= 1u << j;
            const V::T yd = V::set1(y.d[j]);
            for (int b = 0; b < NB; ++b) x.d[j][b] = V::mul(yd, e[b]);
          }
          const V::T yv = V::set1(y.v);
          for (int b = 0; b < NB; ++b) x.v[b] = V::mul(yv, e[b]);
        } else {
          x.m = 1u << t.x;
          const V::T xv = V::set1(th[t.x]);
          for (int b = 0; b < NB; ++b) { x.d[t.x][b] = e[b]; x.v[b] = V::mul(xv, e[b]); }
        }
        const bool had = x.m >> t.p & 1;
        for (int b = 0; b < NB; ++b) {
          const V::T dp_ = V::mul(V::mul(sgv, x.v[b]), lx[t.var][b]);
          x.d[t.p][b] = had ? V::add(x.d[t.p][b], dp_) : dp_;
        }
        x.m |= 1u << t.p;
        break;
      }
      case Op::Const: { CReg<NB>& x = st[sp++]; x.u = true; x.v[0] = V::set1(prog.consts[arg]); x.m = 0; break; }
      case Op::Param: {
        CReg<NB>& x = st[sp++];
        x.u = true;
        x.v[0] = V::set1(th[arg]);
        x.m = 1u << arg;
        x.d[arg][0] = one;
        break;
      }
      case Op::Var: case Op::LogVar: {
        CReg<NB>& x = st[sp++];
        x.u = false;
        x.m = 0;
        for (int b = 0; b < NB; ++b) x.v[b] = op == Op::Var ? exp_any(lx[arg][b]) : lx[arg][b];
        break;
      }
      case Op::Neg: case Op::Exp: case Op::Log: case Op::Sqrt: case Op::PowVar: {
        CReg<NB>& x = st[sp - 1];
        if (op == Op::PowVar) c_expand(x);
        if (x.u) c_unary<NB, 1>(op, arg, x, lx);
        else c_unary<NB, NB>(op, arg, x, lx);
        break;
      }
      default: {
        CReg<NB>& x = st[sp - 2];
        const CReg<NB>& y = st[--sp];
        if (x.u && !y.u) c_expand(x);
        if (x.u) c_binary<NB, 1>(op, x, y, 0);
        else c_binary<NB, NB>(op, x, y, y.u ? 0 : 1);
      }
    }
  }
  CReg<NB>& out = st[0];
  c_expand(out);
  for (int b = 0; b < NB; ++b) {
    const int64_t o = i + b * V::W;
    const V::T c = V::load(w + o);
    const V::M live = V::gt(c, zero);
    const V::T inv = V::div(one, out.v[b]);
    const V::T r = V::sub(log_any(out.v[b]), V::load(ln_l + o));
    const V::T z = V::blend(live, V::mul(r, env.inv_s), zero);  // dead (weight-0) lanes contribute exactly 0
    const V::T psi = V::blend(live, V::max(V::min(z, env.dp), env.dn), zero);
    const V::T cpsi = V::mul(c, psi);
    a.sh = V::fma(cpsi, V::fnma(half, psi, z), a.sh);
    const V::T cpi = V::mul(cpsi, inv);
    for (uint32_t mm = out.m; mm; mm &= mm - 1) {
      const int j = __builtin_ctz(mm);
      a.acc[j] = V::add(a.acc[j], V::blend(live, V::mul(cpi, out.d[j][b]), zero));
    }
    a.sz = V::fma(cpsi, z, a.sz);
    a.sw = V::add(a.sw, c);
  }
}

static double custom_eval(const lw::scaling::Problem& pb, const double* ln_n, const double* ln_d, const double* ln_u,
                          const double* ln_l, const double* w, int64_t npad, const double* th, double* g) {
  using lw::scaling::Op;
  const lw::scaling::CustomProgram& prog = pb.prog;
  const int K = prog.n_params, k = pb.k;
  const bool lik = pb.objective == lw::scaling::Objective::HuberLikelihood;
  const double delta = pb.objective == lw::scaling::Objective::Mse ? INFINITY : pb.delta;
  const double inv_s_d = lik ? std::exp(-th[k]) : 1.0;
  // Hoisted subexpressions of the parameters alone (the program's leading Store segments): once per evaluation.
  lw::scaling::Dual slots[lw::scaling::kMaxSlots];
  int body = 0;
  {
    lw::scaling::CustomProgram pre = prog;
    for (int pc = 0; pc < prog.len; ++pc)
      if (static_cast<Op>(prog.code[pc] & 0xff) == Op::Store) body = pc + 1;
    int seg = 0;
    while (seg < body) {
      int end = seg;
      while (static_cast<Op>(prog.code[end] & 0xff) != Op::Store) ++end;
      pre.code = prog.code + seg;
      pre.len = end - seg;
      slots[prog.code[end] >> 8] = lw::scaling::custom_value(pre, th, 0, 0, 0, slots);
      seg = end + 1;
    }
  }
  CEnv env{&prog, th, slots, body, V::set1(inv_s_d), V::set1(delta), V::set1(-delta)};
  CAcc a;
  a.sh = a.sz = a.sw = V::set1(0.0);
  for (int j = 0; j < K; ++j) a.acc[j] = a.sh;
  constexpr int NB = 32 / V::W;  // 32 points a block
  const int64_t full = npad / (NB * V::W) * (NB * V::W);
  for (int64_t i = 0; i < full; i += NB * V::W) c_block<NB>(env, ln_n, ln_d, ln_u, ln_l, w, i, a);
  switch ((npad - full) / V::W) {  // the last vectors (npad is a multiple of 8)
    case 1: c_block<1>(env, ln_n, ln_d, ln_u, ln_l, w, full, a); break;
    case 2: c_block<2>(env, ln_n, ln_d, ln_u, ln_l, w, full, a); break;
    case 3: c_block<3>(env, ln_n, ln_d, ln_u, ln_l, w, full, a); break;
    case 4: c_block<4>(env, ln_n, ln_d, ln_u, ln_l, w, full, a); break;
    case 5: c_block<5>(env, ln_n, ln_d, ln_u, ln_l, w, full, a); break;
    case 6: c_block<6>(env, ln_n, ln_d, ln_u, ln_l, w, full, a); break;
    case 7: c_block<7>(env, ln_n, ln_d, ln_u, ln_l, w, full, a); break;
    default: break;
  }
  double f = V::hsum(a.sh);
  for (int j = 0; j < K; ++j) g[j] = V::hsum(a.acc[j]) * inv_s_d;
  const double wsum = V::hsum(a.sw);
  if (lik) {
    f += wsum * (pb.log_z + th[k]);
    g[k] = wsum - V::hsum(a.sz);
  } else if (pb.objective == lw::scaling::Objective::Mse) {
    const double s = wsum > 0 ? 2 / wsum : 0;
    f *= s;
    for (int j = 0; j < K; ++j) g[j] *= s;
  }
  return f;
}
