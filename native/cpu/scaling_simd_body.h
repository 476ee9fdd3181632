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

static double custom_eval(const lw::scaling::Problem& pb, const double* ln_n, const double* ln_d, const double* ln_u,
                          const double* ln_l, const double* w, int64_t npad, const double* th, double* g) {
  using lw::scaling::Op;
  const lw::scaling::CustomProgram& prog = pb.prog;
  const int K = prog.n_params, k = pb.k;
  const bool lik = pb.objective == lw::scaling::Objective::HuberLikelihood;
  const double delta = pb.objective == lw::scaling::Objective::Mse ? INFINITY : pb.delta;
  const double inv_s_d = lik ? std::exp(-th[k]) : 1.0;
  const V::T zero = V::set1(0.0), one = V::set1(1.0), half = V::set1(0.5), dp = V::set1(delta), dn = V::set1(-delta);
  const V::T inv_s = V::set1(inv_s_d);
  // Each stack entry carries the set of parameters its derivative can depend on (a bit mask): components outside it
  // are zero and are neither stored nor computed, so e.g. A·N^(−α) costs two gradient lanes, not K.
  struct DV {
    V::T v;
    uint32_t m;
    V::T d[lw::scaling::kMaxCustomParams];
  };
  DV st[lw::scaling::kMaxStack];
  // Hoisted subexpressions of the parameters alone (the program's leading Store segments): once per evaluation.
  DV slots[lw::scaling::kMaxSlots];
  int body = 0;
  {
    lw::scaling::Dual psl[lw::scaling::kMaxSlots];
    lw::scaling::CustomProgram pre = prog;
    for (int pc = 0; pc < prog.len; ++pc)
      if (static_cast<Op>(prog.code[pc] & 0xff) == Op::Store) body = pc + 1;
    int seg = 0;
    while (seg < body) {
      int end = seg;
      while (static_cast<Op>(prog.code[end] & 0xff) != Op::Store) ++end;
      pre.code = prog.code + seg;
      pre.len = end - seg;
      const lw::scaling::Dual x = lw::scaling::custom_value(pre, th, 0, 0, 0, psl);
      psl[prog.code[end] >> 8] = x;
      DV& sl = slots[prog.code[end] >> 8];
      sl.v = V::set1(x.v);
      sl.m = 0;
      for (int j = 0; j < K; ++j) {
        sl.d[j] = V::set1(x.d[j]);
        if (x.d[j] != 0) sl.m |= 1u << j;
      }
      seg = end + 1;
    }
  }
  const uint32_t all = (1u << K) - 1;
  V::T sh = zero, sz = zero, sw = zero, acc[lw::scaling::kMaxCustomParams];
  for (int j = 0; j < K; ++j) acc[j] = zero;
  for (int64_t i = 0; i < npad; i += V::W) {
    const V::T c = V::load(w + i);
    const V::M live = V::gt(c, zero);
    const V::T lx[3] = {V::load(ln_n + i), V::load(ln_d + i), ln_u ? V::load(ln_u + i) : V::load(ln_d + i)};
    int sp = 0;
    for (int pc = body; pc < prog.len; ++pc) {
      const int32_t ins = prog.code[pc];
      const int arg = ins >> 8;
      switch (static_cast<Op>(ins & 0xff)) {
        case Op::Slot: {
          DV& x = st[sp++];
          const DV& y = slots[arg];
          x.v = y.v;
          x.m = y.m;
          for (int j = 0; j < K; ++j)
            if (y.m >> j & 1) x.d[j] = y.d[j];
          break;
        }
        case Op::PowTerm: {
          const lw::scaling::PowTermArg t = lw::scaling::pow_term_arg(arg);
          DV& x = st[sp++];
          const V::T lv = lx[t.var];
          const double sg = t.neg ? -1.0 : 1.0;
          const V::T e = exp_any(V::mul(V::set1(sg * th[t.p]), lv));
          if (t.x_slot) {
            const DV& y = slots[t.x];
            x.m = y.m;
            for (int j = 0; j < K; ++j)
              if (y.m >> j & 1) x.d[j] = V::mul(y.d[j], e);
            x.v = V::mul(y.v, e);
          } else {
            x.m = 1u << t.x;
            x.d[t.x] = e;
            x.v = V::mul(V::set1(th[t.x]), e);
          }
          const V::T dp_ = V::mul(V::mul(V::set1(sg), x.v), lv);
          x.d[t.p] = x.m >> t.p & 1 ? V::add(x.d[t.p], dp_) : dp_;
          x.m |= 1u << t.p;
          break;
        }
        case Op::Const: { DV& x = st[sp++]; x.v = V::set1(prog.consts[arg]); x.m = 0; break; }
        case Op::Param: { DV& x = st[sp++]; x.v = V::set1(th[arg]); x.m = 1u << arg; x.d[arg] = one; break; }
        case Op::Var: { DV& x = st[sp++]; x.v = exp_any(lx[arg]); x.m = 0; break; }
        case Op::LogVar: { DV& x = st[sp++]; x.v = lx[arg]; x.m = 0; break; }
        case Op::Neg: {
          DV& x = st[sp - 1];
          x.v = V::sub(zero, x.v);
          for (int j = 0; j < K; ++j)
            if (x.m >> j & 1) x.d[j] = V::sub(zero, x.d[j]);
          break;
        }
        case Op::Exp: case Op::Log: case Op::Sqrt: case Op::PowVar: {
          DV& x = st[sp - 1];
          V::T s;
          switch (static_cast<Op>(ins & 0xff)) {
            case Op::Exp: x.v = exp_any(x.v); s = x.v; break;
            case Op::Log: s = V::div(one, x.v); x.v = log_any(x.v); break;
            case Op::Sqrt: x.v = V::sqrt(x.v); s = V::div(half, x.v); break;
            default: x.v = exp_any(V::mul(x.v, lx[arg])); s = V::mul(x.v, lx[arg]); break;
          }
          for (int j = 0; j < K; ++j)
            if (x.m >> j & 1) x.d[j] = V::mul(x.d[j], s);
          break;
        }
        default: {
          DV& x = st[sp - 2];
          const DV& y = st[--sp];
          const uint32_t mu = x.m | y.m;
          switch (static_cast<Op>(ins & 0xff)) {
            case Op::Add: case Op::Sub: {
              const bool sub = static_cast<Op>(ins & 0xff) == Op::Sub;
              x.v = sub ? V::sub(x.v, y.v) : V::add(x.v, y.v);
              for (int j = 0; j < K; ++j) {
                if (!(mu >> j & 1)) continue;
                const V::T yd = y.m >> j & 1 ? y.d[j] : zero;
                const V::T xd = x.m >> j & 1 ? x.d[j] : zero;
                x.d[j] = sub ? V::sub(xd, yd) : V::add(xd, yd);
              }
              break;
            }
            case Op::Mul:
              for (int j = 0; j < K; ++j) {
                if (!(mu >> j & 1)) continue;
                const bool hx = x.m >> j & 1, hy = y.m >> j & 1;
                x.d[j] = hx && hy ? V::fma(x.v, y.d[j], V::mul(x.d[j], y.v)) : hx ? V::mul(x.d[j], y.v) : V::mul(x.v, y.d[j]);
              }
              x.v = V::mul(x.v, y.v);
              break;
            case Op::Div: {
              const V::T iy = V::div(one, y.v), q = V::mul(x.v, iy);
              for (int j = 0; j < K; ++j) {
                if (!(mu >> j & 1)) continue;
                const V::T xd = x.m >> j & 1 ? x.d[j] : zero, yd = y.m >> j & 1 ? y.d[j] : zero;
                x.d[j] = V::mul(V::fnma(q, yd, xd), iy);
              }
              x.v = q;
              break;
            }
            case Op::Pow: {
              const V::T lxv = log_any(x.v), v = exp_any(V::mul(y.v, lxv));
              const V::T sx = V::div(V::mul(v, y.v), x.v), sy = V::mul(v, lxv);
              for (int j = 0; j < K; ++j) {
                if (!(mu >> j & 1)) continue;
                const bool hx = x.m >> j & 1, hy = y.m >> j & 1;
                x.d[j] = hx && hy ? V::fma(sy, y.d[j], V::mul(sx, x.d[j])) : hx ? V::mul(sx, x.d[j]) : V::mul(sy, y.d[j]);
              }
              x.v = v;
              break;
            }
            default: {  // Min, Max
              const V::M take = static_cast<Op>(ins & 0xff) == Op::Min ? V::gt(x.v, y.v) : V::gt(y.v, x.v);
              x.v = V::blend(take, y.v, x.v);
              for (int j = 0; j < K; ++j) {
                if (!(mu >> j & 1)) continue;
                const V::T xd = x.m >> j & 1 ? x.d[j] : zero, yd = y.m >> j & 1 ? y.d[j] : zero;
                x.d[j] = V::blend(take, yd, xd);
              }
              break;
            }
          }
          x.m = mu;
        }
      }
    }
    const DV& out = st[0];
    const V::T inv = V::div(one, out.v);
    const V::T r = V::sub(log_any(out.v), V::load(ln_l + i));
    const V::T z = V::blend(live, V::mul(r, inv_s), zero);  // dead (weight-0) lanes contribute exactly 0
    const V::T psi = V::blend(live, V::max(V::min(z, dp), dn), zero);
    const V::T cpsi = V::mul(c, psi);
    sh = V::fma(cpsi, V::fnma(half, psi, z), sh);
    const V::T cpi = V::mul(cpsi, inv);
    for (int j = 0; j < K; ++j)
      if (out.m >> j & 1) acc[j] = V::add(acc[j], V::blend(live, V::mul(cpi, out.d[j]), zero));
    sz = V::fma(cpsi, z, sz);
    sw = V::add(sw, c);
  }
  (void)all;
  double f = V::hsum(sh);
  for (int j = 0; j < K; ++j) g[j] = V::hsum(acc[j]) * inv_s_d;
  const double wsum = V::hsum(sw);
  if (lik) {
    f += wsum * (pb.log_z + th[k]);
    g[k] = wsum - V::hsum(sz);
  } else if (pb.objective == lw::scaling::Objective::Mse) {
    const double s = wsum > 0 ? 2 / wsum : 0;
    f *= s;
    for (int j = 0; j < K; ++j) g[j] *= s;
  }
  return f;
}
