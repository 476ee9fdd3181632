#include "tree_batch_errors.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "error.h"

namespace lw {
namespace {

std::string at(const char* name, int64_t i) { return std::string(name) + "[" + std::to_string(i) + "]"; }

[[noreturn]] void duplicate(int32_t first, int32_t second, int32_t token) {
  throw_range("trees.tokens: nodes " + std::to_string(first) + " and " + std::to_string(second) +
              " are siblings with the same token " + std::to_string(token) +
              "; duplicate sibling tokens are only legal for drafts 'iid'");
}

}  // namespace

void throw_tree_structure(const TreeBatchView& t, int64_t b, int64_t vocab) {
  const int64_t o = t.offsets[b], n = t.offsets[b + 1] - o;
  if (t.parents[o] != -1)
    throw_range(at("trees.parents", o) + " = " + std::to_string(t.parents[o]) + " must be -1 (root of tree " +
                std::to_string(b) + ")");
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
  }
  throw_range("trees: tree " + std::to_string(b) + " was reported malformed but passes every check (internal error)");
}

void throw_duplicate_siblings(const TreeBatchView& t, int64_t b) {
  const int64_t o = t.offsets[b], n = t.offsets[b + 1] - o;
  // Every child of every node of the tree (placeholders and what is below them included), in node order.
  std::vector<int32_t> start(static_cast<size_t>(n) + 1, 0), kids(static_cast<size_t>(n > 0 ? n - 1 : 0));
  for (int64_t i = 1; i < n; ++i) ++start[t.parents[o + i] + 1];
  for (int64_t i = 0; i < n; ++i) start[i + 1] += start[i];
  std::vector<int32_t> fill(start.begin(), start.end() - 1);
  for (int64_t i = 1; i < n; ++i) kids[fill[t.parents[o + i]]++] = static_cast<int32_t>(i);
  std::vector<std::pair<int32_t, int32_t>> sib;
  for (int64_t v = 0; v < n; ++v) {
    const int32_t cb = start[v], ce = start[v + 1];
    if (ce - cb < 2) continue;
    const auto node = [&](int32_t k) { return static_cast<int32_t>(o + kids[k]); };
    const auto token = [&](int32_t k) { return t.tokens[o + kids[k]]; };
    if (ce - cb <= 8) {  // the pair the pairwise scan meets first: the first child repeating an earlier one
      for (int32_t i = cb + 1; i < ce; ++i)
        for (int32_t j = cb; j < i; ++j)
          if (token(i) == token(j) && token(i) != kPlaceholderToken)
            duplicate(std::min(node(i), node(j)), std::max(node(i), node(j)), token(i));
      continue;
    }
    sib.clear();  // the smallest repeated token, its two lowest nodes
    for (int32_t i = cb; i < ce; ++i)
      if (token(i) != kPlaceholderToken) sib.emplace_back(token(i), node(i));
    std::sort(sib.begin(), sib.end());
    for (size_t i = 1; i < sib.size(); ++i)
      if (sib[i].first == sib[i - 1].first) duplicate(sib[i - 1].second, sib[i].second, sib[i].first);
  }
  throw_range("trees: tree " + std::to_string(b) + " was reported to repeat a sibling token but does not (internal error)");
}

}  // namespace lw
