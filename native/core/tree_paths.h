// verifyTree results from the per-request path slots every backend fills (request b writes its accepted path,
// root first, at slot path_offset[b], count[b] entries, at most path_offset[b + 1] - path_offset[b]).
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "tree_verify.h"

namespace lw {

// nodes / tokens: the slot arrays (path_offset[batch] entries each); count: entries written per request.
inline TreeVerifyResult compact_paths(const int32_t* nodes, const int32_t* tokens, const int32_t* count,
                                      const std::vector<int32_t>& path_offset, int64_t batch) {
  TreeVerifyResult r;
  r.accepted_length.resize(batch);
  r.token_offsets.assign(batch + 1, 0);
  for (int64_t b = 0; b < batch; ++b) {
    const int32_t n = std::min(count[b], path_offset[b + 1] - path_offset[b]);
    r.accepted_length[b] = n - 1;
    r.token_offsets[b + 1] = r.token_offsets[b] + n;
  }
  r.accepted_nodes.resize(r.token_offsets[batch]);
  r.tokens.resize(r.token_offsets[batch]);
  for (int64_t b = 0; b < batch; ++b) {
    const int32_t n = r.token_offsets[b + 1] - r.token_offsets[b], at = path_offset[b];
    std::copy(nodes + at, nodes + at + n, r.accepted_nodes.begin() + r.token_offsets[b]);
    std::copy(tokens + at, tokens + at + n, r.tokens.begin() + r.token_offsets[b]);
  }
  return r;
}

}  // namespace lw
