#include "tree_batch.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "error.h"
#include "tree_batch_errors.h"

namespace lw {
namespace {

std::string at(const char* name, int64_t i) { return std::string(name) + "[" + std::to_string(i) + "]"; }

// Per-thread working memory of plan_trees, sized for the largest tree seen (nothing allocated once warm).
struct PlanScratch {
  // [n] per local node: its depth in the low 32 bits, the placeholders on its root path (itself included) above:
  // one value to carry down the tree instead of two.
  std::vector<int64_t> level;
  std::vector<int32_t> count;      // [n] kept children per local node, then each one's fill cursor
  std::vector<uint64_t> siblings;  // open-addressing set of (parent, token) keys of one tree
};

PlanScratch& scratch() {
  static thread_local PlanScratch s;
  return s;
}

constexpr uint64_t kFree = ~0ull;

// Whether tree (par, tok, n) is well formed: root parent -1, parents in [0, node), tokens in [0, vocab) or the
// placeholder. A branch-free reduction; the failing entry is named by throw_tree_structure.
bool well_formed(const int32_t* par, const int32_t* tok, int64_t n, uint32_t vocab) {
  uint32_t bad = par[0] != -1;
  for (int64_t i = 1; i < n; ++i)
    bad |= (static_cast<uint32_t>(par[i]) >= static_cast<uint32_t>(i)) | (static_cast<uint32_t>(tok[i]) + 1u > vocab);
  return bad == 0;
}

// Whether two children of one parent carry the same token (placeholders excepted): a hash set of (parent, token).
bool repeats_sibling(const int32_t* par, const int32_t* tok, int64_t n, std::vector<uint64_t>& table) {
  int shift = 60;  // 16 slots, doubled until at least 2n
  while ((uint64_t{1} << (64 - shift)) < static_cast<uint64_t>(2 * n)) --shift;
  const uint64_t mask = (uint64_t{1} << (64 - shift)) - 1;
  if (table.size() < mask + 1) table.resize(mask + 1);
  uint64_t* slot = table.data();
  std::memset(slot, 0xff, (mask + 1) * sizeof(uint64_t));
  for (int64_t i = 1; i < n; ++i) {
    if (tok[i] == kPlaceholderToken) continue;
    const uint64_t key = uint64_t{static_cast<uint32_t>(par[i])} << 32 | static_cast<uint32_t>(tok[i]);
    uint64_t h = (key * 0x9e3779b97f4a7c15ull) >> shift;
    while (slot[h] != kFree) {
      if (slot[h] == key) return true;
      h = (h + 1) & mask;
    }
    slot[h] = key;
  }
  return false;
}

}  // namespace

void validate_offsets(const TreeBatchView& t) {
  if (t.batch < 1) throw_range("trees.offsets: the batch is empty (expected offsets of length batch + 1 >= 2)");
  if (!t.offsets || !t.tokens || !t.parents) throw_range("trees: tokens, parents and offsets are required");
  if (t.offsets[0] != 0) throw_range("trees.offsets[0] must be 0");
  bool increasing = true;
  for (int64_t b = 0; b < t.batch; ++b) increasing &= t.offsets[b + 1] > t.offsets[b];
  if (increasing) return;
  for (int64_t b = 0; b < t.batch; ++b)
    if (t.offsets[b + 1] <= t.offsets[b])
      throw_range(at("trees.offsets", b + 1) + " = " + std::to_string(t.offsets[b + 1]) +
                  " must be greater than " + at("trees.offsets", b) + " (every tree has at least its root)");
}

// Per tree: one check pass, one pass carrying each node's level down from its parent and counting its parent's
// kept children, the offsets, one pass placing the kept children. Child lists hold only kept nodes (reachable,
// within the cap), so there is no compaction afterwards. Sibling tokens are checked over every child (placeholders
// excepted, the cut ones included), after every tree's structure: a malformed tree is reported first.
void plan_trees_into(TreePlan& plan, const TreeBatchView& t, int64_t vocab, bool duplicate_siblings,
                     const PerRequest<int32_t>& max_accepted) {
  const int64_t nodes = t.offsets[t.batch];
  plan.nodes = nodes;
  plan.tree_of.resize(nodes);
  plan.child_start.resize(nodes + 1);
  plan.child_node.resize(nodes);  // room for every node; cut to the kept count at the end
  plan.child_token.resize(nodes);
  plan.path_offset.resize(t.batch + 1);
  plan.unreachable.resize(nodes);
  plan.path_offset[0] = 0;
  plan.max_depth = 0;
  PlanScratch& s = scratch();
  const uint32_t hi = static_cast<uint32_t>(std::min<int64_t>(vocab, int64_t{1} << 31));
  int32_t* const child_start = plan.child_start.data();
  int32_t* const child_node = plan.child_node.data();
  int32_t* const child_token = plan.child_token.data();
  int32_t kept_so_far = 0, max_children = 0;
  int64_t first_repeat = -1;  // the first tree with a repeated sibling token
  for (int64_t b = 0; b < t.batch; ++b) {
    const int64_t o = t.offsets[b], n = t.offsets[b + 1] - o;
    const int32_t* const par = t.parents + o;
    const int32_t* const tok = t.tokens + o;
    if (!well_formed(par, tok, n, hi)) throw_tree_structure(t, b, vocab);
    if (!duplicate_siblings && first_repeat < 0 && n > 2 && repeats_sibling(par, tok, n, s.siblings))
      first_repeat = b;
    if (s.level.size() < static_cast<size_t>(n)) {
      s.level.resize(n);
      s.count.resize(n);
    }
    int64_t* const level = s.level.data();
    int32_t* const count = s.count.data();
    uint8_t* const unreachable = plan.unreachable.data() + o;
    std::fill(count, count + n, 0);
    level[0] = 0;
    unreachable[0] = 0;
    const int32_t cap = max_accepted.at(b);
    int32_t d = 0;
    for (int64_t i = 1; i < n; ++i) {
      const int32_t p = par[i];
      const int64_t lv = level[p] + 1 + (static_cast<int64_t>(tok[i] == kPlaceholderToken) << 32);
      level[i] = lv;
      const int32_t depth = static_cast<int32_t>(lv);
      const bool reachable = (lv >> 32) == 0;
      const bool kept = reachable & (depth <= cap);
      unreachable[i] = !reachable;
      count[p] += kept;
      d = kept && depth > d ? depth : d;
    }
    std::fill(plan.tree_of.data() + o, plan.tree_of.data() + o + n, static_cast<int32_t>(b));
    plan.max_depth = std::max(plan.max_depth, d);
    plan.path_offset[b + 1] = plan.path_offset[b] + d + 1;
    for (int64_t i = 0; i < n; ++i) {
      const int32_t c = count[i];
      child_start[o + i] = kept_so_far;
      count[i] = kept_so_far;
      kept_so_far += c;
      max_children = std::max(max_children, c);
    }
    for (int64_t i = 1; i < n; ++i) {
      const int64_t lv = level[i];
      if ((lv >> 32) != 0 || static_cast<int32_t>(lv) > cap) continue;
      const int32_t k = count[par[i]]++;
      child_node[k] = static_cast<int32_t>(o + i);
      child_token[k] = tok[i];
    }
  }
  if (first_repeat >= 0) throw_duplicate_siblings(t, first_repeat);
  child_start[nodes] = kept_so_far;
  plan.max_children = max_children;
  plan.child_node.resize(kept_so_far);
  plan.child_token.resize(kept_so_far);
}

TreePlan plan_trees(const TreeBatchView& t, int64_t vocab, bool duplicate_siblings,
                    const PerRequest<int32_t>& max_accepted) {
  TreePlan plan;
  plan_trees_into(plan, t, vocab, duplicate_siblings, max_accepted);
  return plan;
}

}  // namespace lw
