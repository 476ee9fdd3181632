// Native check of plan_trees / plan_trees_into / validate_offsets (native/core/tree_batch.cc) against the
// implementation they replaced (test/native/tree_plan_reference.h): on random batches (awkward sizes, chains,
// stars wider than 8, padded layouts with placeholder -1 slots, repeated sibling tokens, per-request and batch
// caps, duplicates allowed or not) both must give the same plan field for field, or throw the same message.
// One TreePlan is reused across all batches (plan_trees_into), as verify_tree reuses its per-thread plan.
// Built and run by `npm run check:native -- tree_plan`. Argument: [batches].
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "check.h"
#include "core/error.h"
#include "core/tree_batch.h"
#include "tree_plan_reference.h"

using namespace lw;

namespace {

struct Batch {
  std::vector<int32_t> tokens, parents, offsets{0}, caps;
  int32_t cap = kNoCap;
  int64_t vocab = 1;
  bool duplicates = false;
  TreeBatchView view() const {
    return {tokens.data(), parents.data(), offsets.data(), static_cast<int64_t>(offsets.size()) - 1};
  }
  PerRequest<int32_t> max_accepted() const {
    PerRequest<int32_t> m{cap};
    if (!caps.empty()) m.array = caps.data();
    return m;
  }
};

int pick(std::mt19937_64& rng, std::initializer_list<int> values) {
  return *(values.begin() + rng() % values.size());
}

Batch random_batch(std::mt19937_64& rng) {
  Batch bt;
  bt.vocab = pick(rng, {1, 2, 3, 7, 64, 50000, INT_MAX});
  bt.duplicates = rng() % 3 == 0;
  const int batch = pick(rng, {1, 1, 2, 3, 17, 64, 100});
  const int shape = rng() % 4;                  // 0 random parents, 1 chain then random, 2 star, 3 padded slots
  const int placeholder_per_1000 = pick(rng, {0, 0, 50, 300});
  for (int b = 0; b < batch; ++b) {
    const int n = pick(rng, {1, 2, 3, 8, 9, 10, 16, 63, 64, 65, 200});
    const int o = bt.offsets.back();
    for (int i = 0; i < n; ++i) {
      int p = -1;
      if (i > 0) {
        if (shape == 2) p = rng() % 4 == 0 ? static_cast<int>(rng() % i) : 0;
        else if (shape == 1 && i <= 6) p = i - 1;
        else if (shape == 3) p = i <= 3 ? 0 : static_cast<int>((i - 1) / 3);  // 3-ary, later slots padded
        else p = static_cast<int>(rng() % i);
      }
      int tok = static_cast<int>(rng() % std::min<int64_t>(bt.vocab, bt.vocab < 100 ? bt.vocab : 1000));
      if (i > 0 && static_cast<int>(rng() % 1000) < placeholder_per_1000) tok = kPlaceholderToken;
      if (shape == 3 && i > n / 2 && rng() % 2) tok = kPlaceholderToken;
      bt.tokens.push_back(i == 0 ? static_cast<int32_t>(rng() % 5) : tok);
      bt.parents.push_back(p);
    }
    // Mostly distinct siblings unless repeats are the point: resample a clashing token a few times.
    if (rng() % 2)
      for (int i = 1; i < n; ++i)
        for (int tries = 0; tries < 4; ++tries) {
          bool clash = false;
          for (int j = 1; j < i; ++j)
            if (bt.parents[o + j] == bt.parents[o + i] && bt.tokens[o + j] == bt.tokens[o + i] &&
                bt.tokens[o + i] != kPlaceholderToken)
              clash = true;
          if (!clash) break;
          bt.tokens[o + i] = static_cast<int32_t>(rng() % std::min<int64_t>(bt.vocab, 1000));
        }
    bt.offsets.push_back(o + n);
  }
  switch (rng() % 4) {
    case 0: break;
    case 1: bt.cap = pick(rng, {0, 1, 2, 5}); break;
    default:
      for (int b = 0; b < batch; ++b) bt.caps.push_back(pick(rng, {0, 1, 2, 3, 7, kNoCap}));
  }
  // Now and then one malformed entry (a root, a parent, a token or an offset).
  if (rng() % 5 == 0) {
    const int64_t nodes = bt.offsets.back();
    const int64_t g = rng() % nodes;
    switch (rng() % 7) {
      case 0: bt.parents[bt.offsets[rng() % batch]] = pick(rng, {0, 1, -2}); break;
      case 1: bt.parents[g] = pick(rng, {-1, -7, INT_MIN, INT_MAX}); break;
      case 2: bt.parents[g] = bt.parents[g] + 1 + static_cast<int>(rng() % 3); break;
      case 3: bt.tokens[g] = static_cast<int32_t>(std::min<int64_t>(bt.vocab, INT_MAX)); break;
      case 4: bt.tokens[g] = pick(rng, {-2, INT_MIN, INT_MAX}); break;
      case 5:
        if (batch > 1) bt.offsets[1 + rng() % (batch - 1)] = bt.offsets[rng() % batch];
        break;
      default: bt.offsets[0] = 1;
    }
  }
  return bt;
}

bool same_plan(const TreePlan& a, const TreePlan& b) {
  return a.nodes == b.nodes && a.tree_of == b.tree_of && a.child_start == b.child_start &&
         a.child_node == b.child_node && a.child_token == b.child_token && a.max_children == b.max_children &&
         a.max_depth == b.max_depth && a.path_offset == b.path_offset && a.unreachable == b.unreachable;
}

// The plan or the error message of one implementation.
template <class F>
std::string outcome(F&& plan, TreePlan& out) {
  try {
    plan(out);
    return "";
  } catch (const Error& e) {
    return std::string("error: ") + e.what();
  }
}

}  // namespace

int main(int argc, char** argv) {
  const long batches = argc > 1 ? std::atol(argv[1]) : 20000;
  std::mt19937_64 rng(20261208);
  TreePlan reused;
  long planned = 0, rejected = 0, repeats = 0, done = 0;
  for (long k = 0; k < batches && failures < 10; ++k, ++done) {
    const Batch bt = random_batch(rng);
    const TreeBatchView t = bt.view();
    TreePlan want, fresh;
    const std::string w = outcome([&](TreePlan& p) { ref::validate_offsets(t); p = ref::plan_trees(t, bt.vocab, bt.duplicates, bt.max_accepted()); }, want);
    const std::string got = outcome([&](TreePlan& p) { validate_offsets(t); plan_trees_into(p, t, bt.vocab, bt.duplicates, bt.max_accepted()); }, reused);
    const std::string got_fresh = outcome([&](TreePlan& p) { validate_offsets(t); p = plan_trees(t, bt.vocab, bt.duplicates, bt.max_accepted()); }, fresh);
    CHECK(got == w, "batch %ld: got '%s', want '%s'", k, got.c_str(), w.c_str());
    CHECK(got_fresh == w, "batch %ld (fresh plan): got '%s', want '%s'", k, got_fresh.c_str(), w.c_str());
    if (!w.empty()) {
      ++rejected;
      if (w.find("same token") != std::string::npos) ++repeats;
      continue;
    }
    ++planned;
    CHECK(same_plan(reused, want), "batch %ld: the reused plan differs from the reference", k);
    CHECK(same_plan(fresh, want), "batch %ld: the fresh plan differs from the reference", k);
  }
  // Both outcomes must have been exercised, or the comparison above proves little.
  CHECK(planned > done / 4 && rejected > done / 20 && repeats > done / 100,
        "too few of each outcome: %ld planned, %ld rejected (%ld repeated siblings)", planned, rejected, repeats);
  std::printf("tree_plan: %ld batches, %ld planned, %ld rejected (%ld repeated siblings): %s\n", done, planned,
              rejected, repeats, failures ? "FAILED" : "OK");
  return failures ? 1 : 0;
}
