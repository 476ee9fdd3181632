// The register evaluator of custom laws (core/scaling/custom_regs.h, the CUDA kernel's) against the interpreter
// (model.h's custom_value / objective_eval_any), run here on the host: random valid programs over every opcode,
// K = 1..8 parameters, stack depths up to the pool and beyond it, hoisted prologues with up to 8 slots. Where the
// planner accepts a program, values, gradients, objectives (the three kinds, with weights) and the likelihood's
// starting σ must be bitwise equal, and whole fits through the kernel's loop (scaling_loop.h, a one-lane warp)
// must end identically; where it refuses, the refusal must be for a reason the planner documents.
// Built and run by `npm run check:native` (check custom_regs in native/sources.json). Argument: [programs].
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "core/scaling/custom_plan.h"
#include "core/scaling/scaling.h"
#include "cuda/scaling_loop.h"

using namespace lw::scaling;
#include "check.h"

namespace {

// Bitwise equal, except that any two NaNs match: IEEE 754 leaves open which NaN an operation on two NaNs returns
// (x86 returns its first operand's), and the compiler may commute a·b or a + b, so sign and payload of a NaN can
// differ between two compilations of the same arithmetic. The fit reads NaN only through isfinite / comparisons.
int nan_payloads = 0;
bool same(double a, double b) {
  if (std::memcmp(&a, &b, sizeof a) == 0) return true;
  const bool both = std::isnan(a) && std::isnan(b);
  nan_payloads += both;
  return both;
}
int32_t word(Op op, int arg = 0) { return static_cast<int32_t>(op) | arg << 8; }

struct Gen {
  std::mt19937_64 rng;
  int K = 1;
  std::vector<int32_t> code;
  std::vector<double> consts;
  bool stored[kMaxSlots] = {};
  int uniform(int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); }
  double real(double lo, double hi) { return lo + (hi - lo) * static_cast<double>(rng() >> 11) * 0x1.0p-53; }
  int any_stored() {
    int c = 0, pick = -1;
    for (int s = 0; s < kMaxSlots; ++s)
      if (stored[s] && uniform(++c) == 0) pick = s;
    return pick;
  }
  void push(bool vars) {
    const int slot = any_stored();
    for (;;) {
      switch (uniform(vars ? 6 : 3)) {
        case 0: consts.push_back(real(0.1, 2.5)); code.push_back(word(Op::Const, static_cast<int>(consts.size()) - 1)); return;
        case 1: code.push_back(word(Op::Param, uniform(K))); return;
        case 2: if (slot < 0) break; code.push_back(word(Op::Slot, slot)); return;
        case 3: code.push_back(word(uniform(2) ? Op::Var : Op::LogVar, uniform(3))); return;
        case 4: {
          const bool xs = slot >= 0 && uniform(2);
          const int x = xs ? slot : uniform(K);
          code.push_back(word(Op::PowTerm, (xs ? 1 : 0) | x << 1 | uniform(3) << 4 | uniform(K) << 6 | uniform(2) << 9));
          return;
        }
        default: code.push_back(word(Op::Param, uniform(K))); return;
      }
    }
  }
  // A sequence from depth 0 to depth 1 of about `len` instructions that reaches depth `peak` (≤ kMaxStack).
  void expression(int len, int peak, bool vars) {
    int depth = 0, reached = 0;
    for (int i = 0; i < len || depth != 1 || reached < peak; ++i) {
      const bool must_push = depth == 0 || (reached < peak && depth < peak && uniform(3) > 0);
      const bool must_pop = depth >= kMaxStack - 1 || (i >= len && reached >= peak && depth > 1) || depth >= peak + 1;
      int kind = must_push ? 0 : must_pop ? 2 : uniform(3);  // 0 push, 1 unary, 2 binary
      if (kind == 2 && depth < 2) kind = 1;
      if (kind == 0) {
        push(vars);
        ++depth;
      } else if (kind == 1) {
        const int u = uniform(vars ? 5 : 4);
        static const Op ops[] = {Op::Neg, Op::Exp, Op::Log, Op::Sqrt, Op::PowVar};
        code.push_back(word(ops[u], u == 4 ? uniform(3) : 0));
      } else {
        static const Op ops[] = {Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Pow, Op::Min, Op::Max};
        code.push_back(word(ops[uniform(7)]));
        --depth;
      }
      if (depth > reached) reached = depth;
      if (i > 200) break;  // cannot happen: pops bring depth back to 1
    }
  }
};

// A random program: θ-only prologue segments each ending in Store, then the body; occasionally the forms the
// planner must refuse (a Store in the body, a slot read before its Store).
struct Program {
  std::vector<int32_t> code;
  std::vector<double> consts;
  int K;
  CustomProgram view() const { return CustomProgram{code.data(), consts.data(), static_cast<int>(code.size()), K}; }
};

Program random_program(std::mt19937_64& rng, int K, int* peak_out) {
  Gen g;
  g.rng.seed(rng());
  g.K = K;
  const int segments = g.uniform(5);
  for (int s = 0; s < segments; ++s) {
    const int values = 1 + g.uniform(2);  // two: the second Store runs at depth 2
    for (int v = 0; v < values; ++v) g.expression(1 + g.uniform(4), 1 + g.uniform(3), false);
    for (int v = 0; v < values; ++v) {
      const int slot = g.uniform(kMaxSlots);
      g.code.push_back(word(Op::Store, slot));
      g.stored[slot] = true;
    }
  }
  const int peak = 1 + g.uniform(7);
  g.expression(2 + g.uniform(14), peak, true);
  const int odd = g.uniform(40);
  if (odd == 0) {  // a Store in the body: keep the result, store a copy
    g.code.push_back(word(Op::Param, 0));
    g.code.push_back(word(Op::Store, 7));
  } else if (odd == 1 && segments == 0) {  // a slot never stored
    g.code.push_back(word(Op::Slot, 3));
    g.code.push_back(word(Op::Add));
  }
  if (g.consts.empty()) g.consts.push_back(0);
  *peak_out = peak;
  return Program{g.code, g.consts, K};
}

// What plan_registers must decide, derived independently: stack depth, distinct slots, Stores after the last
// variable-free depth-0 point, slots read before a Store.
bool fits_registers(const Program& p) {
  int depth = 0, peak = 0, prologue = 0, last_store = -1;
  bool var_free = true, stored[kMaxSlots] = {}, used[kMaxSlots] = {}, early_read = false;
  for (size_t pc = 0; pc < p.code.size(); ++pc) {
    const Op op = static_cast<Op>(p.code[pc] & 0xff);
    const int arg = p.code[pc] >> 8;
    int need = 0;
    depth += op_effect(static_cast<int>(op), &need);
    peak = std::max(peak, depth);
    if (op == Op::Var || op == Op::LogVar || op == Op::PowVar || op == Op::PowTerm) var_free = false;
    int slot = op == Op::Slot || op == Op::Store ? arg : -1;
    if (op == Op::PowTerm && (arg & 1)) slot = (arg >> 1) & 7;
    if (op == Op::Store) {
      stored[arg] = true;
      last_store = static_cast<int>(pc);
    } else if (slot >= 0 && !stored[slot]) {
      early_read = true;
    }
    if (slot >= 0) used[slot] = true;
    if (var_free && depth == 0) prologue = static_cast<int>(pc) + 1;
  }
  int slots = 0;
  for (bool u : used) slots += u;
  return !early_read && last_store < prologue && peak + slots <= reg_pool(p.K);
}

// Points: realistic ranges (ln N ≈ 16–25) or small ones (more finite values through Var, Pow and Exp).
struct Points {
  std::vector<double> lN, lD, lU, lL, w;
};
Points random_points(std::mt19937_64& rng, int n, bool small) {
  Gen g;
  g.rng.seed(rng());
  Points p;
  for (int i = 0; i < n; ++i) {
    p.lN.push_back(small ? g.real(-1, 1.5) : g.real(16, 25));
    p.lD.push_back(small ? g.real(-1, 1.5) : g.real(18, 28));
    p.lU.push_back(small ? g.real(-1, 1.5) : g.real(17, 27));
    p.lL.push_back(g.real(-0.5, 1.5));
    p.w.push_back(g.uniform(4) == 0 ? 0.0 : static_cast<double>(1 + g.uniform(3)));
  }
  return p;
}

template <int K>
struct Compare {
  static void run(const Program& prog, const RegPlan& plan, const Points& pts, std::mt19937_64& rng, int* finite) {
    const CustomProgram cp = prog.view();
    const RegProgram rp = plan.program(plan.code.data(), prog.consts.data());
    const int n = static_cast<int>(pts.lN.size());
    const LogData data{pts.lN.data(), pts.lD.data(), pts.lL.data(), pts.lU.data()};
    Gen g;
    g.rng.seed(rng());
    double th[kMaxParams];
    for (int j = 0; j <= K; ++j) th[j] = g.real(-1.2, 1.2);
    // per point: L̂ and d ln L̂/dθ through reg_sweep vs custom_point
    int i = -1, bad = 0;
    auto at = [&](double, double r, const double* dr) {
      do ++i;
      while (pts.w[i] == 0);
      double ref[kMaxParams];
      const double v = custom_point(cp, th, pts.lN[i], pts.lD[i], pts.lU[i], ref) - pts.lL[i];
      bool ok = same(v, r);
      for (int j = 0; j < K; ++j) ok = ok && same(ref[j], dr[j]);
      if (std::isfinite(v)) ++*finite;
      if (!ok && ++bad == 1)
        CHECK(false, "K=%d len=%d point %d: registers %.17g vs interpreter %.17g", K, cp.len, i, r, v);
    };
    Problem pb;
    pb.law = Law::Custom;
    pb.n = n;
    pb.k = K;
    pb.prog = cp;
    reg_sweep<K>(pb, rp, data, pts.w.data(), th, at);
    // objectives, with and without weights
    for (int o = 0; o < 3; ++o) {
      pb.objective = static_cast<Objective>(o);
      pb.log_z = log_huber_normaliser(pb.delta);
      for (const double* w : {static_cast<const double*>(nullptr), pts.w.data()}) {
        double g1[kMaxParams], g2[kMaxParams];
        const double f1 = objective_eval_any(pb, data, w, th, g1);
        const double f2 = objective_eval_regs<K>(pb, rp, data, w, th, g2);
        bool ok = same(f1, f2);
        for (int j = 0; j < K + (o == 2); ++j) ok = ok && same(g1[j], g2[j]);
        CHECK(ok, "K=%d len=%d objective %d: %.17g vs %.17g", K, cp.len, o, f1, f2);
        if (o == 2) {
          const double s1 = initial_log_scale(pb, data, w, th), s2 = initial_log_scale_regs<K>(pb, rp, data, w, th);
          CHECK(same(s1, s2), "K=%d initial log scale %.17g vs %.17g", K, s1, s2);
        }
      }
    }
  }
};

using CompareFn = void (*)(const Program&, const RegPlan&, const Points&, std::mt19937_64&, int*);
const CompareFn kCompare[kMaxCustomParams + 1] = {nullptr, Compare<1>::run, Compare<2>::run, Compare<3>::run,
                                                  Compare<4>::run, Compare<5>::run, Compare<6>::run, Compare<7>::run,
                                                  Compare<8>::run};

// The kernel's loop with a one-lane warp: every task in turn on this thread.
struct SoloWarp {
  unsigned long long next = 0;
  unsigned lane() const { return 0; }
  uint32_t ballot(bool p) const { return p ? 1u : 0u; }
  unsigned long long shfl(unsigned long long v, int) const { return v; }
  unsigned long long next_unit() { return next++; }
  void progress(unsigned long long) {}
};

// Fits of the Chinchilla form exp(a)/N^α + exp(b)/D^β + exp(e) as expression.ts compiles it, through fit_loop
// with the interpreter and with the register machine: outcomes and parameters bitwise equal.
int fits_through_loop() {
  const int K = 5;
  const int32_t pt_a = 1 | 0 << 1 | 0 << 4 | 3 << 6 | 1 << 9, pt_b = 1 | 1 << 1 | 1 << 4 | 4 << 6 | 1 << 9;
  const std::vector<int32_t> code = {word(Op::Param, 0), word(Op::Exp), word(Op::Store, 0), word(Op::Param, 1),
                                     word(Op::Exp), word(Op::Store, 1), word(Op::Param, 2), word(Op::Exp),
                                     word(Op::Store, 2), word(Op::PowTerm, pt_a), word(Op::PowTerm, pt_b),
                                     word(Op::Add), word(Op::Slot, 2), word(Op::Add)};
  const double consts[] = {0};
  const CustomProgram cp{code.data(), consts, static_cast<int>(code.size()), K};
  RegPlan plan;
  if (!plan_registers(cp, &plan)) {
    CHECK(false, "the Chinchilla expression must fit the register machine");
    return 0;
  }
  CHECK(plan.prologue == 9 && plan.max_depth == 2 && plan.slots == 3, "plan: prologue %d depth %d slots %d", plan.prologue,
        plan.max_depth, plan.slots);
  const int n = 60;
  std::vector<double> cols;
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < n; ++i) {
      const double N = std::pow(10, 7 + 3.0 * (i % 10) / 9), D = std::pow(10, 9 + 3.0 * (i / 10) / 5);
      cols.push_back(c == 0 ? std::log(N) : c == 1 ? std::log(D)
                                                   : std::log(1.7 + 400 * std::pow(N, -0.33) + 1500 * std::pow(D, -0.3)) +
                                                         0.01 * std::sin(7.0 * i));
    }
  const LogData data{cols.data(), cols.data() + n, cols.data() + 2 * n};
  std::vector<double> starts;
  for (double a : {4.0, 6.0})
    for (double b : {6.0, 8.0})
      for (double al : {0.2, 0.4}) starts.insert(starts.end(), {a, b, 0.5, al, 0.3});
  int compared = 0;
  for (int o = 0; o < 3; ++o)
    for (int constrained = 0; constrained < 2; ++constrained) {
      KernelArgs a{};
      a.pb.law = Law::Custom;
      a.pb.objective = static_cast<Objective>(o);
      a.pb.n = n;
      a.pb.k = K;
      a.pb.prog = cp;
      a.pb.log_z = log_huber_normaliser(a.pb.delta);
      a.k = K;
      a.P = K + (o == 2);
      a.map = identity_map(a.P);
      if (constrained) {  // α ∈ [0, 1]: the reduced-coordinates path
        a.map.kind[3] = static_cast<int32_t>(Bound::Both);
        a.map.lo[3] = 0;
        a.map.hi[3] = 1;
      }
      a.columns = 3;
      a.starts = starts.data();
      a.S = static_cast<int64_t>(starts.size() / K);
      a.total = a.S;
      a.unit = 1;
      a.ctl.ftol = 1e-10;
      a.reg = plan.program(plan.code.data(), consts);
      std::vector<StartOutcome> o1(a.total), o2(a.total);
      std::vector<double> t1(a.total * a.P), t2(a.total * a.P);
      a.outcome = o1.data();
      a.theta = t1.data();
      SoloWarp w1;
      fit_loop<kSmallParams>(a, data, w1);
      a.outcome = o2.data();
      a.theta = t2.data();
      SoloWarp w2;
      fit_loop<kSmallParams>(a, data, w2, RegObjective<K>{a.reg});
      for (int64_t t = 0; t < a.total; ++t) {
        bool ok = same(o1[t].f, o2[t].f) && o1[t].iterations == o2[t].iterations &&
                  o1[t].evaluations == o2[t].evaluations && o1[t].status == o2[t].status;
        for (int j = 0; j < a.P; ++j) ok = ok && same(t1[t * a.P + j], t2[t * a.P + j]);
        CHECK(ok, "fit objective %d constrained %d start %lld: f %.17g vs %.17g, %d vs %d iterations", o, constrained,
              (long long)t, o1[t].f, o2[t].f, o1[t].iterations, o2[t].iterations);
        CHECK(o1[t].evaluations > 5, "fit objective %d start %lld ran %d evaluations", o, (long long)t, o1[t].evaluations);
        ++compared;
      }
    }
  return compared;
}

}  // namespace

int main(int argc, char** argv) {
  const int programs = argc > 1 ? std::atoi(argv[1]) : 4000;
  std::mt19937_64 rng(20261203);
  int accepted = 0, refused = 0, finite = 0, values = 0;
  int per_k[kMaxCustomParams + 1] = {}, by_depth[kRegPoolMax + 2] = {};
  bool seen[32][kRegPoolMax + 1] = {};  // (opcode, depth) executed by accepted programs
  for (int t = 0; t < programs; ++t) {
    const int K = 1 + static_cast<int>(rng() % kMaxCustomParams);
    int peak = 0;
    const Program prog = random_program(rng, K, &peak);
    RegPlan plan;
    const bool ok = plan_registers(prog.view(), &plan);
    CHECK(ok == fits_registers(prog), "program %d (K=%d, len %zu): planner says %d", t, K, prog.code.size(), ok);
    if (!ok) {
      ++refused;
      continue;
    }
    ++accepted;
    ++per_k[K];
    ++by_depth[std::min(plan.max_depth, kRegPoolMax + 1)];
    for (int pc = 0; pc < plan.len; ++pc) seen[plan.code[pc] & 31][(plan.code[pc] >> kRegOpBits) & 7] = true;
    const Points pts = random_points(rng, 23, t % 2 == 0);
    for (double w : pts.w) values += w != 0;
    kCompare[K](prog, plan, pts, rng, &finite);
  }
  // every opcode must have run at every depth it can run at (pushes below the pool's top, pops from 1 or 2)
  int missing = 0;
  for (int op = 0; op <= static_cast<int>(Op::PowTerm); ++op) {
    int need = 0;
    const int eff = op_effect(op, &need);
    // a slot read leaves at most 5 entries to the stack; Stores run at the end of prologue segments
    const int top = op == static_cast<int>(Op::Store) ? 2 : op == static_cast<int>(Op::Slot) ? kRegPoolMax - 2
                  : kRegPoolMax - (eff > 0 ? 1 : 0);
    for (int d = need; d <= top; ++d) {
      if (!seen[op][d]) {
        ++missing;
        std::printf("not covered: opcode %d at depth %d\n", op, d);
      }
    }
  }
  CHECK(missing == 0, "%d (opcode, depth) pairs never ran", missing);
  for (int k = 1; k <= kMaxCustomParams; ++k) CHECK(per_k[k] > 0, "no accepted program with K = %d", k);
  CHECK(refused > programs / 10, "only %d refused programs: the fallback cases are not exercised", refused);
  CHECK(finite > values / 4, "only %d of %d point values finite", finite, values);
  const int fits = fits_through_loop();
  std::printf("custom_regs: %d programs (%d on the register machine, max depth 1..6: %d %d %d %d %d %d; %d refused), "
              "%d of %d point values finite, compared bitwise with the interpreter (NaN == NaN: %d NaNs of another sign "
              "or payload); %d fits through fit_loop compared; %d failures\n",
              programs, accepted, by_depth[1], by_depth[2], by_depth[3], by_depth[4], by_depth[5], by_depth[6], refused,
              finite, values, nan_payloads, fits, failures);
  return failures ? 1 : 0;
}
