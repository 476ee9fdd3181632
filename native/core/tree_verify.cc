#include "tree_verify.h"
#include "tuning.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "backend.h"
#include "error.h"
#include "tree_walk.h"

namespace lw {
namespace {

void check_logits(const LogitsView& l, const char* name, int64_t nodes) {
  if (!l.mem.data) throw_range(std::string(name) + ": logits data is missing");
  if (l.rows != nodes)
    throw_range(std::string(name) + ".rows = " + std::to_string(l.rows) + " must equal the number of tree nodes (" +
                std::to_string(nodes) + "): one row per node, in node order");
  if (l.vocab < 1 || l.vocab > std::numeric_limits<int32_t>::max())
    throw_range(std::string(name) + ".vocab = " + std::to_string(l.vocab) + " must be in [1, 2^31)");
}

}  // namespace

void validate_tree_verify(const TreeVerifyArgs& a) {
  validate_offsets(a.trees);
  const int64_t nodes = a.trees.offsets[a.trees.batch];
  check_logits(a.target, "target", nodes);
  if (!a.sampling.greedy && a.drafts != DraftKind::Deterministic) {
    if (!a.draft.mem.data || a.draft.rows == 0)
      throw_range("draft: draft logits (one row per node) are required for drafts 'iid' and 'without-replacement'");
    check_logits(a.draft, "draft", nodes);
    if (a.draft.vocab != a.target.vocab)
      throw_range("draft.vocab = " + std::to_string(a.draft.vocab) + " must equal target.vocab = " +
                  std::to_string(a.target.vocab));
  }
  validate_sampling(a.sampling, a.trees.batch);
  const int64_t ncap = a.max_accepted.array ? a.trees.batch : 1;
  for (int64_t b = 0; b < ncap; ++b)
    if (a.max_accepted.at(b) < 0)
      throw_range((a.max_accepted.array ? "maxAccepted[" + std::to_string(b) + "]" : std::string("maxAccepted")) +
                  " = " + std::to_string(a.max_accepted.at(b)) + " must be >= 0 (0 = emit only the root's token)");
}

void plan_tree_verify_into(const TreeVerifyArgs& a, TreePlan& plan) {
  // i.i.d. draws repeat (greedy verification of them too)
  plan_trees_into(plan, a.trees, a.target.vocab, a.drafts == DraftKind::Iid, a.max_accepted);
  const int32_t sampled = a.drafts == DraftKind::Deterministic ? tree::kDeterministic
                          : a.drafts == DraftKind::Iid         ? tree::kIid
                                                               : tree::kWithoutReplacement;
  plan.kind.resize(a.trees.batch);
  for (int64_t b = 0; b < a.trees.batch; ++b) plan.kind[b] = a.sampling.greedy_at(b) ? tree::kGreedy : sampled;
  plan.processors = plan_processors(a.sampling.processors, a.trees, a.target.vocab);
}

TreePlan plan_tree_verify(const TreeVerifyArgs& a) {
  TreePlan plan;
  plan_tree_verify_into(a, plan);
  return plan;
}

TreeVerifyResult verify_tree(const TreeVerifyArgs& a) {
  host_mark("core start");
  validate_tree_verify(a);
  // One plan per thread, reused: its storage stays allocated between calls (the backends only read it, and a
  // call finishes with it before the thread takes the next).
  static thread_local TreePlan plan;
  plan_tree_verify_into(a, plan);
  host_mark("core planned");
  const ProcessorPlan& pp = plan.processors;
  if (pp.mask_on_device && (!a.target.mem.on_device || a.target.mem.device != pp.mask_device))
    throw_range("opts.allowedTokens is a DeviceTensor on device " + std::to_string(pp.mask_device) +
                ": the target logits must be a DeviceTensor on the same device (host logits take a Uint32Array mask)");
  const bool on_device = a.target.mem.on_device || (a.draft.rows > 0 && a.draft.mem.on_device);
  const KernelTable& t = dispatch(a.backend, on_device, on_device && !a.target.mem.on_device ? "draft" : "target");
  return entry(t, t.verify_tree, "verifyTree")(a, plan);
}

}  // namespace lw
