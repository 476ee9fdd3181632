// verifyTree(trees, target, opts) → Promise<{ acceptedLength, acceptedNodes, tokens, tokenOffsets }>
// opts (normalised by lib/tree/verify.ts): { mode, the target-processing knobs (unpack_sampling),
//   drafts: 'deterministic' | 'iid' | 'without-replacement', draft?: NativeLogits, seed (bigint), step,
//   seeds?: BigUint64Array(batch), steps?: Uint32Array(batch), maxAccepted?: number | Int32Array(batch), cancel,
//   backend, tuning?, sync? (run on this thread) }
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
    host_mark("js call");
    Pins pins;
    Napi::Object opts = object(info[2], "opts");
    auto args = std::make_shared<TreeVerifyArgs>();
    args->trees = unpack_trees(info[0], pins);
    args->target = logits(env, info[1], "target", pins);
    Napi::Value draft = opts.Get("draft");
    if (!draft.IsUndefined() && !draft.IsNull()) args->draft = logits(env, draft, "draft", pins);
    args->sampling = unpack_sampling(opts, args->trees.batch, pins);
    args->drafts = unpack_draft_kind(opts);
    args->max_accepted = unpack_max_accepted(opts, args->trees.batch, pins);
    args->seed = uint64(opts.Get("seed"), "opts.seed");
    args->step = static_cast<uint32_t>(integer(opts, "step", "opts.step"));
    size_t nseeds = 0, nsteps = 0;
    args->seeds = optional_typed_array<uint64_t>(opts, "seeds", napi_biguint64_array, "opts.seed", &nseeds, pins);
    args->steps = optional_typed_array<uint32_t>(opts, "steps", napi_uint32_array, "opts.step", &nsteps, pins);
    if ((args->seeds && static_cast<int64_t>(nseeds) != args->trees.batch) ||
        (args->steps && static_cast<int64_t>(nsteps) != args->trees.batch))
      throw Error(ErrorKind::Range, "opts.seed and opts.step arrays must have one entry per tree");
    args->cancel.flag = cancel_flag(opts, pins);
    args->backend = backend_of(opts);
    args->tuning = tuning_of(opts);
    const bool sync = boolean_or(opts, "sync", false);
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
        std::move(pins), sync);
  });
}

}  // namespace

LW_EXPORT_FUNCTION("verifyTree", VerifyTree);

}  // namespace addon
}  // namespace lw
