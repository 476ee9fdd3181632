// The failure paths of plan_trees (tree_batch.cc): the fast path only learns THAT a tree is malformed (checks
// as reductions); these walk the one tree again, in the original order, and throw the message naming the first
// offending entry, exactly as the checks did when they ran one by one.
#pragma once
#include <cstdint>

#include "tree_batch.h"

namespace lw {

// Tree b has a root whose parent is not -1, a parent outside [0, node), or a token outside [0, vocab) and not
// the placeholder: throws the Range error of the first such entry (root first, then per node: parent, token).
[[noreturn]] void throw_tree_structure(const TreeBatchView& t, int64_t b, int64_t vocab);

// Tree b has two children of one parent with the same (non-placeholder) token: throws the Range error naming
// the pair of the first such parent (global node order).
[[noreturn]] void throw_duplicate_siblings(const TreeBatchView& t, int64_t b);

}  // namespace lw
