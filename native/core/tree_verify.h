// Speculative-decoding tree verification: contract shared by every backend (docs/tree-verification.md).
//
// Trees: see tree_batch.h (placeholder tokens -1 are never accepted; maxAccepted cuts each tree at its depth).
// target: one logits row per global node (row g = distribution of the token after node g's path).
// draft:  one logits row per global node for 'iid' / 'without-replacement' drafts: row g is the (already
//         processed) distribution the children of g were drawn from; q_g = softmax(row g).
//
// Result, per request b, with n_b = acceptedLength[b]:
//   path = acceptedNodes[tokenOffsets[b] .. tokenOffsets[b+1]-1]: n_b + 1 LOCAL node ids, root first, then the
//          accepted nodes in depth order;
//   tokens[tokenOffsets[b] + i] = the token emitted from row path[i]: for i < n_b the token of path[i+1]
//          (an accepted draft token), for i = n_b the correction token (rejection) or bonus token (leaf).
//   tokenOffsets[b+1] - tokenOffsets[b] = n_b + 1 always.
#pragma once
#include <cstdint>
#include <vector>

#include "cancel.h"
#include "sampling_params.h"
#include "tensor.h"
#include "tuning.h"
#include "tree_batch.h"

namespace lw {

struct TreeVerifyArgs {
  TreeBatchView trees;               // host memory
  LogitsView target;                 // rows = total nodes; host or device
  LogitsView draft;                  // rows = total nodes, or rows = 0 when not needed
  SamplingParams sampling;           // greedy = mode 'greedy'; per-request arrays in host memory
  DraftKind drafts = DraftKind::Deterministic;
  uint64_t seed = 0;
  uint32_t step = 0;
  // Per-request streams (length batch, host memory), or null: seeds[b] replaces `seed` and drops the request
  // index from the key (tree::request_key); steps[b] replaces `step`.
  const uint64_t* seeds = nullptr;
  const uint32_t* steps = nullptr;
  // Cap on accepted drafts per request (>= 0; kNoCap = none): the walk stops after that many and emits the
  // bonus token of the node it reached (tree_batch.h plan_trees).
  PerRequest<int32_t> max_accepted{kNoCap};
  Backend backend = Backend::Cpu;
  Cancel cancel;
  Tuning tuning = process_tuning();
};

struct TreeVerifyResult {
  std::vector<int32_t> accepted_length;  // [batch]
  std::vector<int32_t> accepted_nodes;   // [tokenOffsets[batch]]
  std::vector<int32_t> tokens;           // [tokenOffsets[batch]]
  std::vector<int32_t> token_offsets;    // [batch + 1]
};

// Throws lw::Error (Range/Type) naming the argument and the expected shape.
void validate_tree_verify(const TreeVerifyArgs& a);
// plan_trees plus the walk kind of every request (greedy, deterministic, iid, without replacement).
TreePlan plan_tree_verify(const TreeVerifyArgs& a);  // assumes validated
void plan_tree_verify_into(const TreeVerifyArgs& a, TreePlan& plan);  // the same, reusing plan's storage

// Validates, plans and runs on a.backend (Cuda also when the logits live on a device).
TreeVerifyResult verify_tree(const TreeVerifyArgs& a);

// Backends (same semantics, same random streams).
TreeVerifyResult verify_tree_cpu(const TreeVerifyArgs& a, const TreePlan& plan);
TreeVerifyResult verify_tree_cuda(const TreeVerifyArgs& a, const TreePlan& plan);

// Plain float64 reference walk (host memory only), for tests: materialises every visited distribution.
TreeVerifyResult verify_tree_reference(const TreeVerifyArgs& a);

}  // namespace lw
