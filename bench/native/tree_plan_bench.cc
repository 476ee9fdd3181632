// Micro-benchmark of validate_offsets + plan_trees (native/core/tree_batch.cc), the tree half of verifyTree's
// "core start → core planned" phase, against the implementation it replaced (test/native/tree_plan_reference.h),
// same process, same batches, outputs compared first. Batches of 64 trees × 64 nodes (bench/gpu-targets.js's
// shape: a 5-node chain, the rest under random earlier nodes, distinct sibling tokens, V 128256):
//   plain        no cap, no placeholder
//   caps         maxAccepted 3 per request and 1 node in 8 a placeholder
//   iid          plain with duplicate siblings allowed (no sibling check)
// "new, reused" plans into one TreePlan kept across calls (as verify_tree does); "new, fresh" allocates a plan per
// call (plan_trees, as the tree utilities do). Build and run from the repository root (-O3 as the addon is built):
//   g++ -O3 -std=c++17 -Inative -Itest/native bench/native/tree_plan_bench.cc native/core/tree_batch.cc
//       native/core/tree_batch_errors.cc -o /tmp/tree_plan_bench   (one line)
//   /tmp/tree_plan_bench [calls per case]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <vector>

#include "core/tree_batch.h"
#include "tree_plan_reference.h"

using namespace lw;

namespace {

struct Case {
  const char* name;
  std::vector<int32_t> tokens, parents, offsets, caps;
  bool duplicates = false;
  TreeBatchView view() const { return {tokens.data(), parents.data(), offsets.data(), static_cast<int64_t>(offsets.size()) - 1}; }
  PerRequest<int32_t> cap() const {
    PerRequest<int32_t> m{kNoCap};
    if (!caps.empty()) m.array = caps.data();
    return m;
  }
};

constexpr int kB = 64, kN = 64;
constexpr int64_t kV = 128256;

Case make_case(const char* name, bool caps, bool duplicates) {
  Case c;
  c.name = name;
  c.duplicates = duplicates;
  std::mt19937 r(1);
  c.tokens.assign(kB * kN, 0);
  c.parents.assign(kB * kN, 0);
  c.offsets.assign(kB + 1, 0);
  for (int b = 0; b < kB; ++b) {
    const int o = b * kN;
    c.offsets[b + 1] = o + kN;
    c.parents[o] = -1;
    for (int i = 1; i < kN; ++i) {
      const int p = i <= 5 ? i - 1 : static_cast<int>(r() % i);
      int tok;
      bool clash;
      do {
        tok = static_cast<int>(r() % kV);
        clash = false;
        for (int j = 1; j < i; ++j) clash |= c.parents[o + j] == p && c.tokens[o + j] == tok;
      } while (clash);
      c.parents[o + i] = p;
      c.tokens[o + i] = caps && r() % 8 == 0 ? kPlaceholderToken : tok;
    }
    if (caps) c.caps.push_back(3);
  }
  return c;
}

bool same(const TreePlan& a, const TreePlan& b) {
  return a.tree_of == b.tree_of && a.child_start == b.child_start && a.child_node == b.child_node &&
         a.child_token == b.child_token && a.max_children == b.max_children && a.max_depth == b.max_depth &&
         a.path_offset == b.path_offset && a.unreachable == b.unreachable;
}

// Median and minimum µs per call of f over `calls` calls, after 200 warm-ups.
void time_it(const char* what, int calls, const std::function<int64_t()>& f) {
  int64_t sink = 0;
  for (int i = 0; i < 200; ++i) sink += f();
  std::vector<double> us(calls);
  for (int i = 0; i < calls; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    sink += f();
    us[i] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
  }
  std::sort(us.begin(), us.end());
  std::printf("  %-12s median %7.2f us   min %7.2f us   (%lld)\n", what, us[calls / 2], us[0], static_cast<long long>(sink % 7));
}

}  // namespace

int main(int argc, char** argv) {
  const int calls = argc > 1 ? std::atoi(argv[1]) : 3000;
  const Case cases[] = {make_case("plain", false, false), make_case("caps", true, false), make_case("iid", false, true)};
  TreePlan reused;
  for (const Case& c : cases) {
    const TreeBatchView t = c.view();
    plan_trees_into(reused, t, kV, c.duplicates, c.cap());
    if (!same(reused, ref::plan_trees(t, kV, c.duplicates, c.cap()))) {
      std::printf("%s: the plans differ\n", c.name);
      return 1;
    }
    std::printf("%s (%d × %d nodes, %zu kept children, max depth %d):\n", c.name, kB, kN, reused.child_node.size(),
                reused.max_depth);
    for (int round = 0; round < 2; ++round) {  // alternating, so drift hits both
      time_it("before", calls, [&] {
        ref::validate_offsets(t);
        return static_cast<int64_t>(ref::plan_trees(t, kV, c.duplicates, c.cap()).child_node.size());
      });
      time_it("new, reused", calls, [&] {
        validate_offsets(t);
        plan_trees_into(reused, t, kV, c.duplicates, c.cap());
        return static_cast<int64_t>(reused.child_node.size());
      });
      time_it("new, fresh", calls, [&] {
        validate_offsets(t);
        return static_cast<int64_t>(plan_trees(t, kV, c.duplicates, c.cap()).child_node.size());
      });
    }
  }
  return 0;
}
