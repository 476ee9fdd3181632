// Draft-tree utilities: per-node acceptance probabilities, expected accepted length and GTO's draft-tree reward
// (log-sum-exp form), for deterministic drafts (target only) and drafts sampled from q (recursive rejection).
#pragma once
#include <cstdint>
#include <vector>
#include "cancel.h"
#include "sampling_params.h"
#include "tensor.h"
#include "tree_batch.h"

namespace lw {

struct TreeUtilsArgs {
  TreeBatchView trees;
  LogitsView target;  // one row per node, same order as the tree nodes
  SamplingParams sampling;
  // Deterministic: the target only (mode B). Iid / without replacement: recursive rejection sampling with the
  // draft distribution q (modes C/D), children in draw order.
  DraftKind drafts = DraftKind::Deterministic;
  LogitsView draft;  // one row per node when drafts != Deterministic: q = softmax(row), unprocessed
  bool want_reward = false;
  double eta = 1.0;  // GTO temperature, > 0
  Cancel cancel;
};

struct TreeUtilsResult {
  std::vector<double> expected;   // per tree: E[accepted draft tokens] = sum_{v != root} prod_{u in path(v)} node_prob[u]
  std::vector<double> reward;     // per tree (when want_reward): (1/eta) log sum_paths exp(eta L_i)
  // per node: P(node accepted | parent accepted); deterministic drafts: p_parent(x_node); 1 for roots
  std::vector<double> node_prob;
};

// Float64 reference of the processed probability p(x) of each of `tokens` under one logits row
// (processed_distribution); Range error naming target row `row` on NaN/+inf logits or an all -inf row.
// `scratch` is reused between calls by one thread.
struct RowScratch {
  std::vector<double> z, p;
  std::vector<unsigned char> host;  // a device row copied to the host
};
// `proc`, when given, applies request proc->b's logits processors first (row = the global node).
struct RowProcessors {
  const ProcessorPlan* plan;
  const TreeBatchView* trees;
  int64_t b;
};
void processed_probs(const void* row_data, DType dtype, int64_t vocab, int64_t row, bool greedy,
                     const SamplingRow& s, const int32_t* tokens, int64_t count, double* out, RowScratch& scratch,
                     const RowProcessors* proc = nullptr);

// q = softmax(row) in float64 (processed first when `proc` is given); Range error naming `draft` row `row` on
// NaN / +inf / all -inf.
void softmax_row(const void* row_data, DType dtype, int64_t vocab, int64_t row, double* out,
                 const RowProcessors* proc = nullptr);

// Conditional acceptance probabilities of children with tokens[0..m) (draw order) at one node under recursive
// rejection sampling (docs/tree-verification.md §4 C/D): out[j] = P(child j accepted | node reached) given the processed target
// p and the draft q (both normalised, length vocab); `wor` = drawn without replacement. Mirrors the verifier:
// q^(j)(c_j) = 0 rejects; without replacement, no draft mass left rejects the rest; a vanishing residual
// (sum <= 1e-30) rejects the rest.
void rrs_accept_probs(const double* p, const double* q, int64_t vocab, const int32_t* tokens, int64_t m, bool wor,
                      double* out, std::vector<double>& r, std::vector<double>& qwork);

// Validates the call (trees, logits, sampling, eta) and plans it: plan_trees plus the rows that have children
// (the only rows read), shared by the CPU kernel and the reference.
struct TreeUtilsPlan {
  TreePlan tree;
  std::vector<int32_t> rows;
};
TreeUtilsPlan plan_tree_utils(const TreeUtilsArgs& args);
// Per-tree expectation and reward from res.node_prob.
void finish_tree_utils(const TreeUtilsArgs& args, const TreeUtilsPlan& plan, TreeUtilsResult& res);

// Row `row` of `l` in host memory (copied into `buf` when `l` is on a device).
const void* host_row(const LogitsView& l, int64_t row, std::vector<unsigned char>& buf);

// Float64 reference: serial, every row through processed_probs.
TreeUtilsResult tree_utils_reference(const TreeUtilsArgs& args);

// The CPU kernel (native/cpu/tree_utils_cpu.cc): rows in parallel on the pool, SIMD reductions (float exps
// accumulated in double), selection-based top-k / top-p. Device-resident logits are read row by row.
TreeUtilsResult tree_utils(const TreeUtilsArgs& args);

}  // namespace lw
