// Speculative-decoding tree verification: contract shared by every backend (DESIGN.md §3, §4.3).
//
// Trees (CSR, ragged): request b owns global nodes offsets[b] .. offsets[b+1]-1; local node i of request b is
// global node offsets[b] + i. Local node 0 is the root (its token is the last committed token and is ignored;
// its parent must be -1); every other node has a LOCAL parent index with 0 <= parent < node.
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
#include "tensor.h"
#include "tuning.h"

namespace lw {

enum class VerifyMode : int { Greedy = 0, Sample = 1 };
enum class DraftKind : int { Deterministic = 0, Iid = 1, WithoutReplacement = 2 };

struct TreeBatchView {
  const int32_t* tokens = nullptr;   // [nodes]
  const int32_t* parents = nullptr;  // [nodes], local; -1 at each root
  const int32_t* offsets = nullptr;  // [batch + 1], offsets[0] = 0, strictly increasing
  int64_t batch = 0;
};

struct TreeVerifyArgs {
  TreeBatchView trees;               // host memory
  LogitsView target;                 // rows = total nodes; host or device
  LogitsView draft;                  // rows = total nodes, or rows = 0 when not needed
  VerifyMode mode = VerifyMode::Greedy;
  DraftKind drafts = DraftKind::Deterministic;
  // Per request (length batch, host memory). temperature 0 = greedy for that request; topK 0 = off; topP 1 = off.
  const float* temperature = nullptr;
  const int32_t* top_k = nullptr;
  const float* top_p = nullptr;
  uint64_t seed = 0;
  uint32_t step = 0;
  // Per-request streams (length batch, host memory), or null: seeds[b] replaces `seed` and drops the request
  // index from the key (tree::request_key); steps[b] replaces `step`.
  const uint64_t* seeds = nullptr;
  const uint32_t* steps = nullptr;
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

// Children of every global node, in increasing node order (= draw order), plus per-request walk settings.
struct TreePlan {
  int64_t nodes = 0;
  std::vector<int32_t> child_start;   // [nodes + 1] into child_node / child_token
  std::vector<int32_t> child_node;    // global ids
  std::vector<int32_t> child_token;
  std::vector<int32_t> kind;          // [batch] tree::WalkKind
  int32_t max_children = 0;
  int32_t max_depth = 0;              // edges on the longest root-to-leaf path
  std::vector<int32_t> path_offset;   // [batch + 1]: room for request b's path = its depth + 1 (≤ its nodes)
};

// Throws lw::Error (Range/Type) naming the argument and the expected shape.
void validate_tree_verify(const TreeVerifyArgs& a);
TreePlan plan_tree_verify(const TreeVerifyArgs& a);  // assumes validated

// Validates, plans and runs on a.backend (Cuda also when the logits live on a device).
TreeVerifyResult verify_tree(const TreeVerifyArgs& a);

// Backends (same semantics, same random streams).
TreeVerifyResult verify_tree_cpu(const TreeVerifyArgs& a, const TreePlan& plan);
TreeVerifyResult verify_tree_cuda(const TreeVerifyArgs& a, const TreePlan& plan);

// Plain float64 reference walk (host memory only), for tests: materialises every visited distribution.
TreeVerifyResult verify_tree_reference(const TreeVerifyArgs& a);

}  // namespace lw
