// Draft-tree batches shared by verifyTree and the tree utilities: the CSR view, how the children were drafted,
// and the validated plan (children lists, depths) both build from it.
//
// Trees (CSR, ragged): request b owns global nodes offsets[b] .. offsets[b+1]-1; local node i of request b is
// global node offsets[b] + i. Local node 0 is the root (its token is the last committed token and is ignored;
// its parent must be -1); every other node has a LOCAL parent index with 0 <= parent < node.
#pragma once
#include <cstdint>
#include <vector>

#include "processors.h"
#include "sampling_params.h"

namespace lw {

// Placeholder draft token (vLLM's PLACEHOLDER_TOKEN_ID): legal at any non-root node, never accepted; the nodes
// below it are unreachable. Verification treats it as absent (it is not a candidate at its parent), which is
// lossless for every draft kind when the placeholder is padding, not a draw: deterministic children are any
// set of distinct tokens; for 'iid' the remaining children are still i.i.d. draws from q; for
// 'without-replacement' the remaining children, in order, are still the draw sequence. Rejecting it as if it
// had been drawn from q (a residual update without a draw) would bias the correction.
constexpr int32_t kPlaceholderToken = -1;

// No cap on accepted drafts (maxAccepted absent).
constexpr int32_t kNoCap = 0x7fffffff;

struct TreeBatchView {
  const int32_t* tokens = nullptr;   // [nodes]
  const int32_t* parents = nullptr;  // [nodes], local; -1 at each root
  const int32_t* offsets = nullptr;  // [batch + 1], offsets[0] = 0, strictly increasing
  int64_t batch = 0;
};

// How the children of each node were drafted (sampling only; greedy verification ignores it).
// Deterministic: any rule that does not sample; verification uses the target only, sibling tokens distinct.
// Iid: children drawn independently from the parent's draft distribution q (repeats legal).
// WithoutReplacement: drawn one after another from q with the drawn tokens removed; sibling tokens distinct.
enum class DraftKind : int { Deterministic = 0, Iid = 1, WithoutReplacement = 2 };

// A validated batch: children of every global node in increasing node order (= draw order).
struct TreePlan {
  int64_t nodes = 0;
  std::vector<int32_t> tree_of;       // [nodes] request of each node
  std::vector<int32_t> child_start;   // [nodes + 1] into child_node / child_token
  std::vector<int32_t> child_node;    // global ids
  std::vector<int32_t> child_token;
  int32_t max_children = 0;
  int32_t max_depth = 0;              // edges on the longest root-to-leaf path
  std::vector<int32_t> path_offset;   // [batch + 1]: room for request b's path = its depth + 1 (≤ its nodes)
  std::vector<int32_t> kind;          // [batch] tree::WalkKind (filled by plan_tree_verify)
  ProcessorPlan processors;           // the call's logits processors (inactive when none was given)
  // [nodes] 1 = a placeholder or below one: in no child list, never reached (tree utilities: probability 0).
  std::vector<uint8_t> unreachable;
};

// Checks offsets (Range errors naming the field and index). Every other check needs the vocabulary.
void validate_offsets(const TreeBatchView& t);

// Checks parents and tokens (ids in [0, vocab) or kPlaceholderToken), builds the plan and rejects two siblings
// with the same token unless `duplicate_siblings` (i.i.d. drafts). Assumes validate_offsets passed.
// Child lists leave out placeholders (and what is below them) and, with max_accepted, every node deeper than
// its request's cap: the walk then stops after max_accepted.at(b) accepted drafts and emits the bonus token of
// the node it reached (a plain sample of p there), exactly as if the tree were cut at that depth.
TreePlan plan_trees(const TreeBatchView& t, int64_t vocab, bool duplicate_siblings,
                    const PerRequest<int32_t>& max_accepted = PerRequest<int32_t>{kNoCap});
// The same into `plan`, reusing its storage (a per-thread plan allocates nothing once warm). Every field
// plan_trees fills is overwritten; `kind` and `processors` are left as they are.
void plan_trees_into(TreePlan& plan, const TreeBatchView& t, int64_t vocab, bool duplicate_siblings,
                     const PerRequest<int32_t>& max_accepted = PerRequest<int32_t>{kNoCap});

}  // namespace lw
