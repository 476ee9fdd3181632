// Host side of the register evaluator (custom_regs.h): rewrites a validated custom program (fit.cc's prepare) into
// register-machine code, or says it does not fit (then the interpreter runs it).
//  - the prologue is the longest prefix that reads no variable and ends at stack depth 0 (expression.ts puts the
//    hoisted θ-only subexpressions, each ending in Store, first): it runs once per objective evaluation;
//  - the body (the rest) must not Store, so the slots hold the prologue's values at every point;
//  - every slot read must follow a Store of that slot;
//  - max stack depth + distinct slots ≤ reg_pool(K): the stack takes pool entries [0, depth), the slots the next;
//  - each word gets the depth it executes at in bits 5–7 (opcodes are < 32), operands as custom_regs.h says.
#pragma once
#include <cstdint>
#include <vector>

#include "custom_regs.h"

namespace lw {
namespace scaling {

struct RegPlan {
  std::vector<int32_t> code;  // len + 1 words
  int prologue = 0;
  int len = 0;
  int max_depth = 0;
  int slots = 0;
  // `at`: where `code` lives for the evaluator (host vector or its device copy).
  RegProgram program(const int32_t* at, const double* consts) const {
    RegProgram r;
    r.code = at;
    r.consts = consts;
    r.prologue = prologue;
    r.len = len;
    return r;
  }
};

inline bool reads_variable(Op op) { return op == Op::Var || op == Op::LogVar || op == Op::PowVar || op == Op::PowTerm; }

// False when the program needs the interpreter.
inline bool plan_registers(const CustomProgram& p, RegPlan* out) {
  RegPlan plan;
  plan.len = p.len;
  // Pass 1: depths, the prologue, slot numbering, and the checks.
  int depth = 0, last_store = -1;
  bool var_free = true;
  int dense[kMaxSlots];
  bool stored[kMaxSlots];
  for (int s = 0; s < kMaxSlots; ++s) {
    dense[s] = -1;
    stored[s] = false;
  }
  std::vector<int> at(static_cast<size_t>(p.len));
  for (int pc = 0; pc < p.len; ++pc) {
    const Op op = static_cast<Op>(p.code[pc] & 0xff);
    const int arg = p.code[pc] >> 8;
    int need = 0;
    const int eff = op_effect(static_cast<int>(op), &need);
    if (eff == -2 || depth < need) return false;
    if ((op == Op::Store || op == Op::Slot) && (arg < 0 || arg >= kMaxSlots)) return false;
    if (reads_variable(op)) var_free = false;
    const int slot = op == Op::Store || op == Op::Slot ? arg
                   : op == Op::PowTerm && pow_term_arg(arg).x_slot ? pow_term_arg(arg).x : -1;
    if (op == Op::Store) {
      last_store = pc;
      stored[arg] = true;
    } else if (slot >= 0 && !stored[slot]) {
      return false;
    }
    if (slot >= 0 && dense[slot] < 0) dense[slot] = plan.slots++;
    at[pc] = depth;
    depth += eff;
    if (depth > plan.max_depth) plan.max_depth = depth;
    if (var_free && depth == 0) plan.prologue = pc + 1;
  }
  if (last_store >= plan.prologue) return false;  // a Store in the body
  if (depth != 1 || plan.max_depth + plan.slots > reg_pool(p.n_params)) return false;
  // Pass 2: the code words.
  for (int pc = 0; pc < p.len; ++pc) {
    const Op op = static_cast<Op>(p.code[pc] & 0xff);
    const int arg = p.code[pc] >> 8;
    uint32_t operand = static_cast<uint32_t>(arg);
    if (op == Op::Store || op == Op::Slot) operand = 1u << (plan.max_depth + dense[arg]);
    else if (op == Op::Param) operand = 1u << arg;
    else if (op == Op::PowTerm) {
      const PowTermArg t = pow_term_arg(arg);
      operand = reg_pow_term_operand(t, t.x_slot ? plan.max_depth + dense[t.x] : 0);
    }
    plan.code.push_back(static_cast<int32_t>(static_cast<uint32_t>(op) | static_cast<uint32_t>(at[pc]) << kRegOpBits |
                                             operand << 8));
  }
  plan.code.push_back(0);
  *out = std::move(plan);
  return true;
}

}  // namespace scaling
}  // namespace lw
