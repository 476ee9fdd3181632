#include "tree_verify.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "backend.h"
#include "error.h"
#include "tree_walk.h"

namespace lw {
namespace {

std::string at(const char* name, int64_t i) { return std::string(name) + "[" + std::to_string(i) + "]"; }

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
  const TreeBatchView& t = a.trees;
  if (t.batch < 1) throw_range("trees.offsets: the batch is empty (expected offsets of length batch + 1 >= 2)");
  if (!t.offsets || !t.tokens || !t.parents) throw_range("trees: tokens, parents and offsets are required");
  if (t.offsets[0] != 0) throw_range("trees.offsets[0] must be 0");
  for (int64_t b = 0; b < t.batch; ++b)
    if (t.offsets[b + 1] <= t.offsets[b])
      throw_range(at("trees.offsets", b + 1) + " = " + std::to_string(t.offsets[b + 1]) +
                  " must be greater than " + at("trees.offsets", b) + " (every tree has at least its root)");
  const int64_t nodes = t.offsets[t.batch];
  check_logits(a.target, "target", nodes);
  const int64_t V = a.target.vocab;
  const bool sample = a.mode == VerifyMode::Sample;
  if (sample && a.drafts != DraftKind::Deterministic) {
    if (!a.draft.mem.data || a.draft.rows == 0)
      throw_range("draft: draft logits (one row per node) are required for drafts 'iid' and 'without-replacement'");
    check_logits(a.draft, "draft", nodes);
    if (a.draft.vocab != V)
      throw_range("draft.vocab = " + std::to_string(a.draft.vocab) + " must equal target.vocab = " + std::to_string(V));
  }
  for (int64_t b = 0; b < t.batch; ++b) {
    const int64_t o = t.offsets[b], n = t.offsets[b + 1] - o;
    if (t.parents[o] != -1)
      throw_range(at("trees.parents", o) + " = " + std::to_string(t.parents[o]) + " must be -1 (root of tree " +
                  std::to_string(b) + ")");
    for (int64_t i = 1; i < n; ++i) {
      int32_t p = t.parents[o + i];
      if (p < 0 || p >= i)
        throw_range(at("trees.parents", o + i) + " = " + std::to_string(p) + " must be a local node id in [0, " +
                    std::to_string(i) + ") (tree " + std::to_string(b) + ", node " + std::to_string(i) +
                    ": parents precede children, which also rules out cycles)");
      int32_t tok = t.tokens[o + i];
      if (tok < 0 || tok >= V)
        throw_range(at("trees.tokens", o + i) + " = " + std::to_string(tok) + " is out of range [0, " +
                    std::to_string(V) + ")");
    }
  }
  if (sample) {
    if (!a.temperature || !a.top_k || !a.top_p) throw_range("temperature, topK and topP are required per request");
    for (int64_t b = 0; b < t.batch; ++b) {
      float T = a.temperature[b], P = a.top_p[b];
      if (!(T >= 0.f) || !std::isfinite(T))
        throw_range(at("temperature", b) + " = " + std::to_string(T) + " must be finite and >= 0");
      if (a.top_k[b] < 0) throw_range(at("topK", b) + " = " + std::to_string(a.top_k[b]) + " must be >= 0 (0 = off)");
      if (!(P > 0.f && P <= 1.f)) throw_range(at("topP", b) + " = " + std::to_string(P) + " must be in (0, 1]");
    }
  }
}

TreePlan plan_tree_verify(const TreeVerifyArgs& a) {
  const TreeBatchView& t = a.trees;
  TreePlan plan;
  const int64_t nodes = t.offsets[t.batch];
  plan.nodes = nodes;
  plan.child_start.assign(nodes + 1, 0);
  std::vector<int32_t> depth(nodes, 0);
  for (int64_t b = 0; b < t.batch; ++b)
    for (int64_t g = t.offsets[b] + 1; g < t.offsets[b + 1]; ++g) {
      int64_t pg = t.offsets[b] + t.parents[g];
      ++plan.child_start[pg + 1];
      depth[g] = depth[pg] + 1;
      plan.max_depth = std::max(plan.max_depth, depth[g]);
    }
  plan.path_offset.assign(t.batch + 1, 0);
  for (int64_t b = 0; b < t.batch; ++b) {
    int32_t d = 0;
    for (int64_t g = t.offsets[b]; g < t.offsets[b + 1]; ++g) d = std::max(d, depth[g]);
    plan.path_offset[b + 1] = plan.path_offset[b] + d + 1;
  }
  for (int64_t g = 0; g < nodes; ++g) {
    plan.max_children = std::max(plan.max_children, plan.child_start[g + 1]);
    plan.child_start[g + 1] += plan.child_start[g];
  }
  plan.child_node.resize(plan.child_start[nodes]);
  plan.child_token.resize(plan.child_start[nodes]);
  std::vector<int32_t> fill(plan.child_start.begin(), plan.child_start.end() - 1);
  for (int64_t b = 0; b < t.batch; ++b)
    for (int64_t g = t.offsets[b] + 1; g < t.offsets[b + 1]; ++g) {
      int64_t pg = t.offsets[b] + t.parents[g];
      int32_t k = fill[pg]++;
      plan.child_node[k] = static_cast<int32_t>(g);
      plan.child_token[k] = t.tokens[g];
    }
  const bool dup_ok = a.drafts == DraftKind::Iid;  // i.i.d. draws repeat (greedy verification of them too)
  if (!dup_ok) {
    std::vector<std::pair<int32_t, int32_t>> sib;
    for (int64_t g = 0; g < nodes; ++g) {
      int32_t cb = plan.child_start[g], ce = plan.child_start[g + 1];
      if (ce - cb < 2) continue;
      sib.clear();
      for (int32_t i = cb; i < ce; ++i) sib.emplace_back(plan.child_token[i], plan.child_node[i]);
      std::sort(sib.begin(), sib.end());
      for (size_t i = 1; i < sib.size(); ++i)
        if (sib[i].first == sib[i - 1].first)
          throw_range("trees.tokens: nodes " + std::to_string(sib[i - 1].second) + " and " +
                      std::to_string(sib[i].second) + " are siblings with the same token " +
                      std::to_string(sib[i].first) +
                      "; duplicate sibling tokens are only legal for drafts 'iid'");
    }
  }
  plan.kind.resize(t.batch);
  for (int64_t b = 0; b < t.batch; ++b) {
    int32_t k = tree::kGreedy;
    if (a.mode == VerifyMode::Sample && a.temperature[b] > 0.f)
      k = a.drafts == DraftKind::Deterministic ? tree::kDeterministic
          : a.drafts == DraftKind::Iid         ? tree::kIid
                                               : tree::kWithoutReplacement;
    plan.kind[b] = k;
  }
  return plan;
}

TreeVerifyResult verify_tree(const TreeVerifyArgs& a) {
  validate_tree_verify(a);
  TreePlan plan = plan_tree_verify(a);
  const bool on_device = a.target.mem.on_device || (a.draft.rows > 0 && a.draft.mem.on_device);
  const KernelTable& t = dispatch(a.backend, on_device, on_device && !a.target.mem.on_device ? "draft" : "target");
  return entry(t, t.verify_tree, "verifyTree")(a, plan);
}

}  // namespace lw
