#include "tuning.h"

#include <string>

#include "unpack.h"

namespace lw {
namespace addon {
namespace {

int pick(const std::string& v, const char* key, std::initializer_list<const char*> names) {
  int i = 0;
  std::string all;
  for (const char* n : names) {
    if (v == n) return i;
    all += (i ? ", '" : "'") + std::string(n) + "'";
    ++i;
  }
  throw Error(ErrorKind::Range, std::string("tuning.") + key + " must be one of " + all + " (got '" + v + "')");
}

}  // namespace

Tuning tuning_of(const Napi::Object& opts) {
  Tuning t = process_tuning();
  Napi::Value v = opts.Get("tuning");
  if (v.IsUndefined() || v.IsNull()) return t;
  Napi::Object o = object(v, "tuning");
  if (o.Has("simd")) t.simd_cap = pick(string_or(o, "simd", ""), "simd", {"scalar", "avx2", "avx512"});
  if (o.Has("treePath")) t.tree_path = pick(string_or(o, "treePath", ""), "treePath", {"auto", "lazy", "rows"});
  if (o.Has("treeCluster")) {
    const int64_t n = integer(o, "treeCluster", "tuning.treeCluster");
    if (n < 0 || n > 16) throw Error(ErrorKind::Range, "tuning.treeCluster must be an integer in [0, 16] (0 = auto)");
    t.tree_cluster = static_cast<int>(n);
  }
  if (o.Has("xl3mVariant")) {
    const int64_t n = integer(o, "xl3mVariant", "tuning.xl3mVariant");
    if (n < 0 || n > 2) throw Error(ErrorKind::Range, "tuning.xl3mVariant must be 0, 1 or 2");
    t.xl3m_variant = static_cast<int>(n);
  }
  if (o.Has("customLaw")) t.custom_interpreter = pick(string_or(o, "customLaw", ""), "customLaw", {"auto", "interpreter"}) == 1;
  return t;
}

}  // namespace addon
}  // namespace lw
