// verifyTree(trees, target, opts) → Promise<{ acceptedLength, acceptedNodes, tokens, tokenOffsets }>
// opts (normalised by lib/tree/verify.ts): { mode: 0|1, drafts: 0|1|2, draft?: NativeLogits,
//   temperature: Float32Array(batch), topK: Int32Array(batch), topP: Float32Array(batch),
//   seedLo, seedHi (uint32), step, seeds?: BigUint64Array(batch), steps?: Uint32Array(batch), cancel, backend }
#include <memory>

#include "async.h"
#include "core/tree_verify.h"
#include "registry.h"
#include "tuning.h"
#include "unpack.h"

namespace lw {
namespace addon {
namespace {

Napi::Int32Array copy_out(Napi::Env env, const std::vector<int32_t>& v) {
  auto a = Napi::Int32Array::New(env, v.size());
  if (!v.empty()) std::copy(v.begin(), v.end(), a.Data());
  return a;
}

Napi::Value VerifyTree(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    Pins pins;
    Napi::Object trees = object(info[0], "trees");
    Napi::Object opts = object(info[2], "opts");
    auto args = std::make_shared<TreeVerifyArgs>();
    size_t nt = 0, np = 0, no = 0;
    args->trees.tokens = optional_typed_array<int32_t>(trees, "tokens", napi_int32_array, "trees.tokens", &nt, pins);
    args->trees.parents = optional_typed_array<int32_t>(trees, "parents", napi_int32_array, "trees.parents", &np, pins);
    args->trees.offsets = optional_typed_array<int32_t>(trees, "offsets", napi_int32_array, "trees.offsets", &no, pins);
    if (!args->trees.tokens || !args->trees.parents || !args->trees.offsets)
      throw_type("trees must be { tokens: Int32Array; parents: Int32Array; offsets: Int32Array }");
    if (no < 2) throw Error(ErrorKind::Range, "trees.offsets must have batch + 1 >= 2 entries");
    const int64_t batch = static_cast<int64_t>(no) - 1;
    args->trees.batch = batch;
    if (np != nt || args->trees.offsets[batch] != static_cast<int64_t>(nt))
      throw Error(ErrorKind::Range, "trees: tokens, parents and offsets[batch] must agree on the node count");
    args->target = logits(env, info[1], "target", pins);
    Napi::Value draft = opts.Get("draft");
    if (!draft.IsUndefined() && !draft.IsNull()) args->draft = logits(env, draft, "draft", pins);
    args->mode = integer(opts, "mode", "opts.mode") == 1 ? VerifyMode::Sample : VerifyMode::Greedy;
    int64_t dk = integer(opts, "drafts", "opts.drafts");
    args->drafts = dk == 1 ? DraftKind::Iid : dk == 2 ? DraftKind::WithoutReplacement : DraftKind::Deterministic;
    size_t n1 = 0, n2 = 0, n3 = 0;
    args->temperature = optional_typed_array<float>(opts, "temperature", napi_float32_array, "opts.temperature", &n1, pins);
    args->top_k = optional_typed_array<int32_t>(opts, "topK", napi_int32_array, "opts.topK", &n2, pins);
    args->top_p = optional_typed_array<float>(opts, "topP", napi_float32_array, "opts.topP", &n3, pins);
    if (!args->temperature || !args->top_k || !args->top_p || static_cast<int64_t>(n1) != batch ||
        static_cast<int64_t>(n2) != batch || static_cast<int64_t>(n3) != batch)
      throw Error(ErrorKind::Range, "opts.temperature, opts.topK and opts.topP must have one entry per tree");
    const uint64_t lo = static_cast<uint64_t>(integer(opts, "seedLo", "opts.seedLo")) & 0xffffffffu;
    const uint64_t hi = static_cast<uint64_t>(integer(opts, "seedHi", "opts.seedHi")) & 0xffffffffu;
    args->seed = lo | (hi << 32);
    args->step = static_cast<uint32_t>(integer(opts, "step", "opts.step"));
    size_t nseeds = 0, nsteps = 0;
    args->seeds = optional_typed_array<uint64_t>(opts, "seeds", napi_biguint64_array, "opts.seed", &nseeds, pins);
    args->steps = optional_typed_array<uint32_t>(opts, "steps", napi_uint32_array, "opts.step", &nsteps, pins);
    if ((args->seeds && static_cast<int64_t>(nseeds) != batch) || (args->steps && static_cast<int64_t>(nsteps) != batch))
      throw Error(ErrorKind::Range, "opts.seed and opts.step arrays must have one entry per tree");
    args->cancel.flag = cancel_flag(opts, pins);
    args->backend = backend_of(opts);
    args->tuning = tuning_of(opts);
    auto out = std::make_shared<TreeVerifyResult>();
    return run_async(
        env, [args, out]() { *out = verify_tree(*args); },
        [out](Napi::Env env) -> Napi::Value {
          Napi::Object r = Napi::Object::New(env);
          r.Set("acceptedLength", copy_out(env, out->accepted_length));
          r.Set("acceptedNodes", copy_out(env, out->accepted_nodes));
          r.Set("tokens", copy_out(env, out->tokens));
          r.Set("tokenOffsets", copy_out(env, out->token_offsets));
          return r;
        },
        std::move(pins));
  });
}

}  // namespace

LW_EXPORT_FUNCTION("verifyTree", VerifyTree);

}  // namespace addon
}  // namespace lw
