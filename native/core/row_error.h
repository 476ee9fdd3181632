// The input errors a logits row can carry, worded once for every capability and backend.
#pragma once
#include <cstdint>
#include <string>

#include "error.h"

namespace lw {

enum class RowError {
  AllNegInf,     // every logit is −inf: no distribution (logitStats, XL3M)
  NonFinite,     // a NaN or +inf logit where the capability needs finite-or-−inf logits (verifyTree)
  NoFiniteLogit,  // no finite logit (verifyTree)
  NoAllowedToken  // no finite logit once the logits processors are applied (verifyTree, tree utilities)
};

// "<name> row <row> <what is wrong>", e.g. "logits row 12 is all -Infinity (no distribution)".
inline std::string row_error(const char* name, int64_t row, RowError kind) {
  std::string m = std::string(name) + " row " + std::to_string(row);
  switch (kind) {
    case RowError::AllNegInf: return m + " is all -Infinity (no distribution)";
    case RowError::NonFinite: return m + " contains NaN or +Infinity (logits must be finite or -Infinity)";
    case RowError::NoAllowedToken:
      return m + " has no allowed token with a finite logit (allowedTokens, logitBias and the penalties leave " +
             "every logit -Infinity)";
    default: return m + " has no finite logit";
  }
}

[[noreturn]] inline void throw_row_error(const char* name, int64_t row, RowError kind) {
  throw_range(row_error(name, row, kind));
}

}  // namespace lw
