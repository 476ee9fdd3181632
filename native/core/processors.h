// Per-request logits processors (issue #8), applied to a logits row before the sampling knobs of
// sampling_params.h, in vLLM's order:
//   1. allowedTokens  bit-packed mask (bit t of word t >> 5 set = allowed): a disallowed token's logit becomes
//                     −inf (probability 0). One row of ceil(V/32) words per request, or one per tree node
//                     (grammar masks that depend on the path), chosen by the array's length.
//   2. logitBias      z += bias[id] for the listed ids of the request (−inf bans a token).
//   3. penalties      for a token with count c > 0 (OpenAI / vLLM semantics):
//                       repetition r: z = z > 0 ? z / r : z * r      (r > 0, 1 = off)
//                       frequency  f: z = z − c · f                   (0 = off)
//                       presence   p: z = z − p                       (0 = off)
//                     c = the request's history count of the token + its occurrences among the drafted tokens
//                     on the path from the root (exclusive) to the node (inclusive), so every row is penalised
//                     as autoregressive decoding would have penalised it. The root's token is the last
//                     committed token: the caller's history already holds it.
// Then the kept-set knobs of sampling_params.h (temperature first). A token with z = −inf stays −inf through 2-3.
//
// Edits (2, 3) are normalised on the host into ONE sorted list per request of (id, bias, count), so a kernel
// only touches the listed ids and the few path tokens; the mask is one bit test per element. Every backend
// applies the float transform edit_logit below (the same float operations, no contraction), so CPU and CUDA
// see bit-identical processed logits.
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>

#include "hd.h"
#include "sampling_params.h"

namespace lw {

struct TreeBatchView;  // tree_batch.h (which includes this header: TreePlan holds the ProcessorPlan)

// The float operations of every backend (CUDA: the _rn intrinsics, so nothing is contracted into an FMA).
#if defined(__CUDA_ARCH__)
LW_HD float p_add(float a, float b) { return __fadd_rn(a, b); }
LW_HD float p_mul(float a, float b) { return __fmul_rn(a, b); }
LW_HD float p_div(float a, float b) { return __fdiv_rn(a, b); }
#else
LW_HD float p_add(float a, float b) { return a + b; }
LW_HD float p_mul(float a, float b) { return a * b; }
LW_HD float p_div(float a, float b) { return a / b; }
#endif

// The processed logit of one edited token: bias, then the penalties when count > 0.
LW_HD float edit_logit(float z, float bias, int32_t count, float rep, float freq, float pres) {
  z = p_add(z, bias);
  if (count > 0) {
    z = z > 0.f ? p_div(z, rep) : p_mul(z, rep);
    z = p_add(z, -p_mul(static_cast<float>(count), freq));
    z = p_add(z, -pres);
  }
  return z;
}
// The same in float64 (the references).
inline double edit_logit_f64(double z, double bias, int32_t count, double rep, double freq, double pres) {
  z += bias;
  if (count > 0) {
    z = z > 0 ? z / rep : z * rep;
    z -= count * freq;
    z -= pres;
  }
  return z;
}

LW_HD bool mask_allows(const uint32_t* mask_row, int32_t x) { return (mask_row[x >> 5] >> (x & 31)) & 1u; }

// The validated, normalised processors of one call (built on the host by plan_processors).
struct ProcessorPlan {
  bool active = false;                // any processor on: the walk transforms the rows it reads
  const uint32_t* mask = nullptr;     // caller's mask (host, or the device under mask_on_device), or null
  bool mask_on_device = false;
  int mask_device = 0;
  int64_t words = 0;                  // ceil(V/32)
  bool mask_per_node = false;         // one mask row per global node (else per request)
  bool path_counts = false;           // penalties on: path tokens add to the counts
  std::vector<int32_t> offsets;       // [batch + 1] into ids / bias / count (empty: no edits)
  std::vector<int32_t> ids;           // sorted ascending within each request, distinct
  std::vector<float> bias;            // additive bias (0 when only penalised)
  std::vector<int32_t> count;         // history count (0 when only biased)
  std::vector<float> rep, freq, pres; // [batch]

  const uint32_t* mask_row(int64_t b, int64_t g) const {
    return mask ? mask + (mask_per_node ? g : b) * words : nullptr;
  }
  bool has_edits() const { return !offsets.empty(); }
};

// Validates `view` for a call over `trees` with vocabulary V (RangeError naming opts.allowedTokens,
// opts.logitBias.*, opts.penalties.* and the request) and builds the plan. Inactive plan when view.any() is false.
ProcessorPlan plan_processors(const ProcessorsView& view, const TreeBatchView& trees, int64_t V);

// Path tokens of global node g of request b (drafted tokens from the root, exclusive, to g, inclusive; placeholders
// < 0 skipped), as (token, occurrences) sorted by token. `out` is reused.
void path_token_counts(const TreeBatchView& trees, int64_t b, int64_t g, std::vector<int32_t>& toks,
                       std::vector<int32_t>& counts);

// Applies the processors of request b at global node g to row z[0..V) in place (float: the kernels' transform;
// double: the float64 references). `toks` / `counts` are scratch.
template <class T>
void apply_processors(const ProcessorPlan& pp, const TreeBatchView& trees, int64_t b, int64_t g, T* z, int64_t V,
                      std::vector<int32_t>& toks, std::vector<int32_t>& counts);

}  // namespace lw
