// The plan_trees / validate_offsets of 28310e4 (git show 28310e4:native/core/tree_batch.cc), kept verbatim as the
// reference the plan check compares the current implementation with (test/native/tree_plan_check.cc) and as the
// same-process baseline of bench/native/tree_plan_bench.cc. Header-only, namespace lw::ref.
#pragma once
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/tree_batch.h"

namespace lw {
namespace ref {

inline std::string at(const char* name, int64_t i) { return std::string(name) + "[" + std::to_string(i) + "]"; }

inline void validate_offsets(const TreeBatchView& t) {
  if (t.batch < 1) throw_range("trees.offsets: the batch is empty (expected offsets of length batch + 1 >= 2)");
  if (!t.offsets || !t.tokens || !t.parents) throw_range("trees: tokens, parents and offsets are required");
  if (t.offsets[0] != 0) throw_range("trees.offsets[0] must be 0");
  for (int64_t b = 0; b < t.batch; ++b)
    if (t.offsets[b + 1] <= t.offsets[b])
      throw_range(at("trees.offsets", b + 1) + " = " + std::to_string(t.offsets[b + 1]) +
                  " must be greater than " + at("trees.offsets", b) + " (every tree has at least its root)");
}

inline TreePlan plan_trees(const TreeBatchView& t, int64_t vocab, bool duplicate_siblings,
                           const PerRequest<int32_t>& max_accepted = PerRequest<int32_t>{kNoCap}) {
  TreePlan plan;
  const int64_t nodes = t.offsets[t.batch];
  plan.nodes = nodes;
  plan.tree_of.resize(nodes);
  plan.child_start.assign(nodes + 1, 0);
  plan.path_offset.assign(t.batch + 1, 0);
  plan.unreachable.assign(nodes, 0);
  std::vector<int32_t> depth(nodes, 0);
  bool cut = false;  // some child is left out (a placeholder, below one, or past its request's cap)
  for (int64_t b = 0; b < t.batch; ++b) {
    const int64_t o = t.offsets[b], n = t.offsets[b + 1] - o;
    if (t.parents[o] != -1)
      throw_range(at("trees.parents", o) + " = " + std::to_string(t.parents[o]) + " must be -1 (root of tree " +
                  std::to_string(b) + ")");
    plan.tree_of[o] = static_cast<int32_t>(b);
    const int32_t cap = max_accepted.at(b);
    int32_t d = 0;
    for (int64_t i = 1; i < n; ++i) {
      const int32_t p = t.parents[o + i];
      if (p < 0 || p >= i)
        throw_range(at("trees.parents", o + i) + " = " + std::to_string(p) + " must be a local node id in [0, " +
                    std::to_string(i) + ") (tree " + std::to_string(b) + ", node " + std::to_string(i) +
                    ": parents precede children, which also rules out cycles)");
      const int32_t tok = t.tokens[o + i];
      if (tok != kPlaceholderToken && (tok < 0 || tok >= vocab))
        throw_range(at("trees.tokens", o + i) + " = " + std::to_string(tok) + " is out of range [0, " +
                    std::to_string(vocab) + ") (or -1, a placeholder)");
      plan.tree_of[o + i] = static_cast<int32_t>(b);
      ++plan.child_start[o + p + 1];
      depth[o + i] = depth[o + p] + 1;
      plan.unreachable[o + i] = plan.unreachable[o + p] || tok == kPlaceholderToken;
      if (plan.unreachable[o + i] || depth[o + i] > cap) {
        cut = true;
        continue;
      }
      d = std::max(d, depth[o + i]);
    }
    plan.max_depth = std::max(plan.max_depth, d);
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
      const int32_t k = fill[t.offsets[b] + t.parents[g]]++;
      plan.child_node[k] = static_cast<int32_t>(g);
      plan.child_token[k] = t.tokens[g];
    }
  if (!duplicate_siblings) {  // every sibling set, before any is cut; placeholders are not tokens and may repeat
    std::vector<std::pair<int32_t, int32_t>> sib;
    for (int64_t g = 0; g < nodes; ++g) {
      const int32_t cb = plan.child_start[g], ce = plan.child_start[g + 1];
      if (ce - cb < 2) continue;
      if (ce - cb <= 8) {  // few siblings (the common case): pairwise, no sort
        for (int32_t i = cb + 1; i < ce; ++i)
          for (int32_t j = cb; j < i; ++j)
            if (plan.child_token[i] == plan.child_token[j] && plan.child_token[i] != kPlaceholderToken)
              throw_range("trees.tokens: nodes " + std::to_string(std::min(plan.child_node[i], plan.child_node[j])) +
                          " and " + std::to_string(std::max(plan.child_node[i], plan.child_node[j])) +
                          " are siblings with the same token " + std::to_string(plan.child_token[i]) +
                          "; duplicate sibling tokens are only legal for drafts 'iid'");
        continue;
      }
      sib.clear();
      for (int32_t i = cb; i < ce; ++i)
        if (plan.child_token[i] != kPlaceholderToken) sib.emplace_back(plan.child_token[i], plan.child_node[i]);
      std::sort(sib.begin(), sib.end());
      for (size_t i = 1; i < sib.size(); ++i)
        if (sib[i].first == sib[i - 1].first)
          throw_range("trees.tokens: nodes " + std::to_string(sib[i - 1].second) + " and " +
                      std::to_string(sib[i].second) + " are siblings with the same token " +
                      std::to_string(sib[i].first) + "; duplicate sibling tokens are only legal for drafts 'iid'");
    }
  }
  if (cut) {  // drop placeholders, what is below them and nodes past the cap from the lists, in place
    int32_t k = 0;
    plan.max_children = 0;
    for (int64_t g = 0; g < nodes; ++g) {
      const int32_t cb = plan.child_start[g], ce = plan.child_start[g + 1];
      plan.child_start[g] = k;
      const int32_t cap = max_accepted.at(plan.tree_of[g]);
      for (int32_t i = cb; i < ce; ++i) {
        const int32_t c = plan.child_node[i];
        if (plan.unreachable[c] || depth[c] > cap) continue;
        plan.child_node[k] = c;
        plan.child_token[k] = plan.child_token[i];
        ++k;
      }
      plan.max_children = std::max(plan.max_children, k - plan.child_start[g]);
    }
    plan.child_start[nodes] = k;
    plan.child_node.resize(k);
    plan.child_token.resize(k);
  }
  return plan;
}

}  // namespace ref
}  // namespace lw
