// Optimal acceptance rate of multi-draft speculative decoding (one target token vs n drafts from q).
#pragma once
#include <cstdint>

#include "cancel.h"

namespace lw {

// alpha* = 1 - max_H [q(H)^n - p(H)] for n i.i.d. drafts from q: exact, O(V log V) (the best H is a prefix of
// the tokens with q > 0 sorted by p/q ascending). p and q are normalised probability vectors.
double optimal_acceptance_iid(const double* p, const double* q, int64_t vocab, int n);

// Largest support (tokens with q > 0) for which the without-replacement optimum is computed exactly.
constexpr int kExactWithoutReplacementSupport = 20;

// alpha* = 1 - max_H [P(S subset of H) - p(H)] where S = n draws from q without replacement: exact by
// enumerating all subsets of the support of q (O(2^m m), m = |supp q| <= kExactWithoutReplacementSupport).
double optimal_acceptance_wor_exact(const double* p, const double* q, int64_t vocab, int n);

// Bounds on the without-replacement optimum for any support: lower = the i.i.d. optimum (the distinct tokens of
// n i.i.d. draws can be coupled into a without-replacement sample); upper = min over prefixes H (sorted by p/q)
// of 1 - [L(H) - p(H)] with L(H) <= P(S subset of H) from the largest n-1 probabilities in H.
struct AcceptanceBounds {
  double lower = 0, upper = 1;
};
// The upper bound alone, for any support (tests compare it with the exact value on small supports).
double optimal_acceptance_wor_upper(const double* p, const double* q, int64_t vocab, int n, const Cancel& cancel = Cancel{});
AcceptanceBounds optimal_acceptance_wor_bounds(const double* p, const double* q, int64_t vocab, int n,
                                               const Cancel& cancel = Cancel{});

}  // namespace lw
