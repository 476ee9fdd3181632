// Custom laws with the stack in registers: the device evaluator of the CUDA fit kernel (host-callable for checks).
// custom_value (model.h) indexes its stack and slots by a runtime pointer, so on the GPU they live in per-thread
// local memory; here the parameter count K is a template parameter and every instruction carries the stack depth
// it executes at (known statically, see custom_plan.h), so each case of the dispatch names fixed stack entries
// and slots, and the whole machine is SROA'd into registers. The θ-only prologue (the Store instructions the
// compiler hoists) runs once per objective evaluation instead of once per point.
//
// Same operations in the same order as custom_value (restricted to the K live gradient entries, each of which is
// computed independently of the others there), so values and gradients are bitwise equal on the host; the
// native check custom_regs verifies that on random programs.
#pragma once
#include "model.h"

namespace lw {
namespace scaling {

// The machine: reg_pool(K) dual numbers; the stack entry at depth d is pool[d], slot s of the program is
// pool[max depth + s]. Programs needing more (deeper stacks, more distinct slots) take the interpreter. Six
// duals for K ≤ 7 fit the kernel's registers without spills; at K = 8 six spill (255 registers), four do not.
constexpr int kRegPoolMax = 6;
constexpr int reg_pool(int K) { return K <= 7 ? 6 : 4; }
// Code word of a register program: opcode | depth before the instruction << 5 | operand << 8 (unsigned).
// Parameter and slot operands are one-hot masks, so that every access to θ, a gradient entry or a pool entry is a
// select over compile-time indices: written as `j == index`, the compiler folds the selects back into one access
// at a runtime index, and the machine goes to local memory. Operands:
//   Const: constant index; Var, LogVar, PowVar: variable (0 N, 1 D, 2 U); Param: 1 << p; Slot, Store: 1 << pool
//   entry; PowTerm: bits 0–7 1 << p, bits 8–15 1 << x (bit 16 set: X is pool entry x, else parameter x), 17–18 V,
//   19 negative exponent.
constexpr int kRegOpBits = 5;
struct RegPowTerm {
  uint32_t p, x;
  bool x_slot;
  int var;
  bool neg;
};
LW_HD RegPowTerm reg_pow_term(uint32_t a) {
  return RegPowTerm{a & 0xff, (a >> 8) & 0xff, ((a >> 16) & 1) != 0, static_cast<int>((a >> 17) & 3),
                    ((a >> 19) & 1) != 0};
}
// `entry`: X's pool entry when X is a slot.
LW_HD uint32_t reg_pow_term_operand(const PowTermArg& t, int entry) {
  return (1u << t.p) | (1u << (t.x_slot ? entry : t.x)) << 8 | (t.x_slot ? 1u << 16 : 0u) |
         static_cast<uint32_t>(t.var) << 17 | (t.neg ? 1u << 19 : 0u);
}

struct RegProgram {
  const int32_t* code = nullptr;  // len + 1 words: the last one is padding, read by the one-ahead fetch
  const double* consts = nullptr;
  int prologue = 0;  // [0, prologue): θ-only, ends at depth 0; [prologue, len): per point, leaves L̂
  int len = 0;
};

template <int K>
struct DualK {
  double v;
  double d[K];
};

template <int K>
struct RegMachine {
  static constexpr int kPool = reg_pool(K);
  DualK<K> s[kPool];
  double th[K];
};

// θ_j for the bit j of a one-hot mask.
template <int K>
LW_HD double pick(const double (&a)[K], uint32_t mask) {
  double r = 0;
  for (int j = 0; j < K; ++j) r = (mask >> j & 1) ? a[j] : r;
  return r;
}
template <int K>
LW_HD void load_slot(const RegMachine<K>& m, uint32_t mask, DualK<K>& x) {
  for (int i = 0; i < RegMachine<K>::kPool; ++i)
    if (mask >> i & 1) x = m.s[i];
}
template <int K>
LW_HD void store_slot(RegMachine<K>& m, uint32_t mask, const DualK<K>& x) {
  for (int i = 0; i < RegMachine<K>::kPool; ++i)
    if (mask >> i & 1) m.s[i] = x;
}
// The dual of parameter θ_j (one-hot mask).
template <int K>
LW_HD void load_param(const RegMachine<K>& m, uint32_t mask, DualK<K>& x) {
  for (int j = 0; j < K; ++j) x.d[j] = 0;  // then d_j = 1: custom_value's order
  x.v = pick(m.th, mask);
  for (int j = 0; j < K; ++j) x.d[j] = (mask >> j & 1) ? 1.0 : x.d[j];
}

struct RegPoint {
  double lN, lD, lU;
  LW_HD double var(int i) const { return i == 0 ? lN : i == 1 ? lD : lU; }
};

template <int K>
LW_HD void reg_push(RegMachine<K>& m, DualK<K>& x, Op op, uint32_t arg, const RegPoint& p, const double* consts) {
  switch (op) {
    case Op::Param: load_param(m, arg, x); break;
    case Op::Const: case Op::Var: case Op::LogVar:
      for (int j = 0; j < K; ++j) x.d[j] = 0;
      if (op == Op::Const) x.v = consts[arg];
      else {
        const double lv = p.var(static_cast<int>(arg));
        x.v = op == Op::Var ? exp(lv) : lv;
      }
      break;
    case Op::Slot: load_slot(m, arg, x); break;
    default: {  // PowTerm
      const RegPowTerm t = reg_pow_term(arg);
      if (t.x_slot) load_slot(m, t.x, x);
      else load_param(m, t.x, x);
      const double lv = p.var(t.var);
      const double sg = t.neg ? -1.0 : 1.0;
      const double e = exp(sg * pick(m.th, t.p) * lv);
      for (int j = 0; j < K; ++j) x.d[j] *= e;
      const double dp = sg * x.v * e * lv;
      for (int j = 0; j < K; ++j) x.d[j] = (t.p >> j & 1) ? x.d[j] + dp : x.d[j];
      x.v *= e;
    }
  }
}

template <int K>
LW_HD void reg_unary(DualK<K>& x, Op op, uint32_t arg, const RegPoint& p) {
  if (op == Op::Neg) {
    x.v = -x.v;
    for (int j = 0; j < K; ++j) x.d[j] = -x.d[j];
    return;
  }
  double v, s;
  if (op == Op::Exp) { v = exp(x.v); s = v; }
  else if (op == Op::Log) { v = log(x.v); s = 1 / x.v; }
  else if (op == Op::Sqrt) { v = sqrt(x.v); s = 0.5 / v; }
  else {  // PowVar: var^x = exp(x ln var)
    const double lv = p.var(static_cast<int>(arg));
    v = exp(x.v * lv);
    s = v * lv;
  }
  x.v = v;
  for (int j = 0; j < K; ++j) x.d[j] *= s;
}

// One instruction at stack depth Dp (entries [0, Dp) live). Combinations a valid plan never produces do nothing.
template <int Dp, int K>
LW_HD void reg_step(RegMachine<K>& m, Op op, uint32_t arg, const RegPoint& p, const double* consts) {
  const int need = op == Op::Store ? 1 : (op == Op::Neg || (op >= Op::PowVar && op <= Op::Sqrt)) ? 1
                 : (op <= Op::LogVar || op == Op::Slot || op == Op::PowTerm) ? 0 : 2;
  if (need == 0) {
    if constexpr (Dp < RegMachine<K>::kPool) reg_push(m, m.s[Dp], op, arg, p, consts);
  } else if (op == Op::Store) {
    if constexpr (Dp >= 1 && Dp <= RegMachine<K>::kPool) store_slot(m, arg, m.s[Dp - 1]);
  } else if (need == 1) {
    if constexpr (Dp >= 1 && Dp <= RegMachine<K>::kPool) reg_unary(m.s[Dp - 1], op, arg, p);
  } else {
    if constexpr (Dp >= 2 && Dp <= RegMachine<K>::kPool) dual_binary<K>(m.s[Dp - 2], m.s[Dp - 1], op);
  }
}

template <int K>
LW_HD void reg_exec(RegMachine<K>& m, int32_t ins, const RegPoint& p, const double* consts) {
  const Op op = static_cast<Op>(ins & ((1 << kRegOpBits) - 1));
  const uint32_t arg = static_cast<uint32_t>(ins) >> 8;
  static_assert(kRegPoolMax == 6, "reg_exec's depth cases");
  switch ((ins >> kRegOpBits) & 7) {
    case 0: reg_step<0>(m, op, arg, p, consts); break;
    case 1: reg_step<1>(m, op, arg, p, consts); break;
    case 2: reg_step<2>(m, op, arg, p, consts); break;
    case 3: reg_step<3>(m, op, arg, p, consts); break;
    case 4: reg_step<4>(m, op, arg, p, consts); break;
    case 5: reg_step<5>(m, op, arg, p, consts); break;
    default: reg_step<6>(m, op, arg, p, consts); break;
  }
}

// L̂'s dual at the end of the body, as custom_point: ln L̂, and d ln L̂ / dθ into dr.
template <int K>
LW_HD double reg_result(const RegMachine<K>& m, double* dr) {
  const DualK<K>& r = m.s[0];
  const double inv = 1 / r.v;
  for (int j = 0; j < K; ++j) dr[j] = r.d[j] * inv;
  return r.v > 0 ? log(r.v) : NAN;
}

// One pass over the data: the prologue, then the body at every point of nonzero weight, as a single instruction
// stream (so the kernel holds one copy of the dispatch); at(c, ln L̂ − ln loss, dr) gets each point in order.
template <int K, typename Data, typename At>
LW_HD void reg_sweep(const Problem& pb, const RegProgram& rp, const Data& data, const double* w, const double* th,
                     At& at) {
  RegMachine<K> m;
  for (int j = 0; j < K; ++j) m.th[j] = th[j];
  RegPoint p{0, 0, 0};  // the prologue reads no variable
  int64_t i = -1;
  int pc = 0, end = rp.prologue;
  int32_t ins = rp.code[0];
  for (;;) {
    if (pc == end) {
      if (i >= 0) {
        double dr[K];
        const double pred = reg_result(m, dr);
        at(w ? w[i] : 1.0, pred - data.lL(i), dr);
      }
      do ++i;
      while (i < pb.n && w && w[i] == 0);
      if (i >= pb.n) break;
      p = RegPoint{data.lN(i), data.lD(i), data.lU(i)};
      pc = rp.prologue;
      end = rp.len;
      ins = rp.code[pc];
    }
    const int32_t next = rp.code[pc + 1];  // fetched before the dispatch that depends on `ins`
    reg_exec(m, ins, p, rp.consts);
    ins = next;
    ++pc;
  }
}

// objective_eval_any for a custom law of K parameters (+σ at θ[K]), through the register machine.
template <int K, typename Data>
LW_HD double objective_eval_regs(const Problem& pb, const RegProgram& rp, const Data& data, const double* w,
                                 const double* th, double* g) {
  const bool lik = pb.objective == Objective::HuberLikelihood;
  const double delta = pb.objective == Objective::Mse ? INFINITY : pb.delta;
  const double inv_s = lik ? exp(-th[K]) : 1.0;
  double f = 0, wsum = 0, gz = 0, acc[K];
  for (int j = 0; j < K; ++j) acc[j] = 0;
  auto at = [&](double c, double r, const double* dr) {
    const double z = r * inv_s;
    const double psi = huber_psi(z, delta);
    f += c * psi * (z - 0.5 * psi);
    const double cp = c * psi;
    for (int j = 0; j < K; ++j) acc[j] += cp * dr[j];
    gz += cp * z;
    wsum += c;
  };
  reg_sweep<K>(pb, rp, data, w, th, at);
  for (int j = 0; j < K; ++j) g[j] = acc[j] * inv_s;
  if (lik) {
    f += wsum * (pb.log_z + th[K]);
    g[K] = wsum - gz;
  } else if (pb.objective == Objective::Mse) {
    const double s = wsum > 0 ? 2 / wsum : 0;
    f *= s;
    for (int j = 0; j < K; ++j) g[j] *= s;
  }
  return f;
}

// initial_log_scale for a custom law, through the register machine.
template <int K, typename Data>
LW_HD double initial_log_scale_regs(const Problem& pb, const RegProgram& rp, const Data& data, const double* w,
                                    const double* th) {
  double sa = 0, sw = 0;
  auto at = [&](double c, double r, const double*) {
    sa += c * fabs(r);
    sw += c;
  };
  reg_sweep<K>(pb, rp, data, w, th, at);
  double mean = sw > 0 ? sa / sw : 0;
  if (!(mean > 1e-12)) mean = 1e-12;
  if (!(mean < 1e12)) mean = 1e12;
  return log(pb.delta * mean);
}

// The fitting loop's objective for a custom law of K parameters (scaling_loop.h; model.h's LawObjective is the
// interpreter's counterpart).
template <int K>
struct RegObjective {
  RegProgram prog;
  template <typename Data>
  LW_HD double operator()(const Problem& pb, const Data& d, const double* w, const double* th, double* g) const {
    return objective_eval_regs<K>(pb, prog, d, w, th, g);
  }
  template <typename Data>
  LW_HD double log_scale(const Problem& pb, const Data& d, const double* w, const double* th) const {
    return initial_log_scale_regs<K>(pb, prog, d, w, th);
  }
};

}  // namespace scaling
}  // namespace lw
