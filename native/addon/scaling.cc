// scalingFit(data, opts) → Promise<{ theta, objective, …, bootstrap? }>   (lib/scaling/fit.ts validates first and
//   sends every key: the defaults live in its signature only)
// scalingPredict(law, params, N, D) → Float64Array   (law 'kaplan-steps': Kaplan L(N, S_min), D holds steps)
// scalingComputeOptimal(params, C) → { N, D, tokensPerParam, a, b, G }
// scalingTraining(formula, x, p1, p2) → number   ('critical-batch-size' | 'min-steps' | 'min-examples')
#include <algorithm>
#include <memory>
#include <vector>

#include "async.h"
#include "core/scaling/scaling.h"
#include "registry.h"
#include "tuning.h"
#include "unpack.h"

namespace lw {
namespace addon {
namespace {

using namespace lw::scaling;

const double* f64(const Napi::Value& v, const char* name, size_t* len, Pins& pins) {
  pins.pin(v);
  return typed_array<double>(v, napi_float64_array, name, len);
}

Napi::Float64Array to_f64(Napi::Env env, const double* v, size_t n) {
  auto a = Napi::Float64Array::New(env, n);
  std::copy(v, v + n, a.Data());
  return a;
}

Napi::Float64Array to_f64(Napi::Env env, const std::vector<double>& v) { return to_f64(env, v.data(), v.size()); }

const char* status_name(FitStatus s) {
  switch (s) {
    case FitStatus::GradientTol: return "gradient";
    case FitStatus::RelativeTol: return "relative-decrease";
    case FitStatus::StepTol: return "step";
    case FitStatus::MaxIter: return "max-iterations";
    case FitStatus::LineSearch: return "line-search";
    case FitStatus::BadStart: return "no-finite-start";
    default: return "running";
  }
}

struct FitJob {
  std::vector<int32_t> code;  // custom program (copied: the job outlives nothing else)
  std::vector<double> consts;
  Runs runs;
  FitOptions opts;
  BootstrapOptions boot;
  Progress progress;
  FitResult result;
  BootstrapResult bootstrap;
};

Napi::Value ScalingFit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    Pins pins;
    Napi::Object data = object(info[0], "data");
    Napi::Object opts = object(info[1], "opts");
    auto job = std::make_shared<FitJob>();
    size_t nn = 0, nd = 0, nl = 0;
    job->runs.N = f64(data.Get("N"), "data.N", &nn, pins);
    job->runs.D = f64(data.Get("D"), "data.D", &nd, pins);
    job->runs.loss = f64(data.Get("loss"), "data.loss", &nl, pins);
    if (nn != nd || nn != nl) throw_type("data.N, data.D and data.loss must have the same length");
    job->runs.n = static_cast<int64_t>(nn);
    size_t nu = 0;
    job->runs.U = optional_typed_array<double>(data, "U", napi_float64_array, "data.U", &nu, pins);
    if (job->runs.U && nu != nn) throw Error(ErrorKind::Range, "data.U must have the same length as data.N");

    FitOptions& o = job->opts;
    o.law = enum_of<Law>(opts, "law", "opts.law",
                         {{"chinchilla", Law::Chinchilla}, {"kaplan-nd", Law::KaplanND},
                          {"data-constrained", Law::DataConstrained}, {"custom", Law::Custom}});
    size_t nw = 0;
    o.weights = optional_typed_array<double>(opts, "weights", napi_float64_array, "opts.weights", &nw, pins);
    if (o.weights && nw != nn) throw Error(ErrorKind::Range, "opts.weights must have one entry per run");
    Napi::Value pv = opts.Get("program");
    if (pv.IsObject()) {
      Napi::Object po = pv.As<Napi::Object>();
      size_t nc = 0, nk = 0;
      const int32_t* code = typed_array<int32_t>(po.Get("code"), napi_int32_array, "opts.program.code", &nc);
      const double* consts = typed_array<double>(po.Get("consts"), napi_float64_array, "opts.program.consts", &nk);
      job->code.assign(code, code + nc);
      job->consts.assign(consts, consts + nk);
      if (job->consts.empty()) job->consts.push_back(0);
      for (size_t i = 0; i < nc; ++i)
        if ((code[i] & 0xff) == static_cast<int>(Op::Const) && static_cast<size_t>(code[i] >> 8) >= nk)
          throw Error(ErrorKind::Range, "opts.program: constant index out of range");
      o.program.code = job->code.data();
      o.program.consts = job->consts.data();
      o.program.len = static_cast<int>(nc);
      o.program.n_params = static_cast<int>(integer(po, "params", "opts.program.params"));
    }
    Napi::Value mv = opts.Get("map");
    if (mv.IsObject()) {
      Napi::Object mo = mv.As<Napi::Object>();
      size_t ns = 0, nf = 0, nkd = 0, nlo = 0, nhi = 0;
      const int32_t* src = typed_array<int32_t>(mo.Get("src"), napi_int32_array, "opts.map.src", &ns);
      const double* fixed = typed_array<double>(mo.Get("fixed"), napi_float64_array, "opts.map.fixed", &nf);
      const int32_t* kind = typed_array<int32_t>(mo.Get("kind"), napi_int32_array, "opts.map.kind", &nkd);
      const double* lo = typed_array<double>(mo.Get("lo"), napi_float64_array, "opts.map.lo", &nlo);
      const double* hi = typed_array<double>(mo.Get("hi"), napi_float64_array, "opts.map.hi", &nhi);
      if (ns != nf || ns < 1 || ns >= static_cast<size_t>(kMaxParams) || nkd != nlo || nkd != nhi || nkd > ns)
        throw Error(ErrorKind::Range, "opts.map has inconsistent lengths");
      o.map.full = static_cast<int>(ns);
      o.map.reduced = static_cast<int>(nkd);
      for (size_t j = 0; j < ns; ++j) {
        o.map.src[j] = src[j];
        o.map.fixed[j] = fixed[j];
      }
      for (size_t r = 0; r < nkd; ++r) {
        o.map.kind[r] = kind[r];
        o.map.lo[r] = lo[r];
        o.map.hi[r] = hi[r];
      }
    }
    o.objective = enum_of<Objective>(
        opts, "objective", "opts.objective",
        {{"huber", Objective::Huber}, {"mse", Objective::Mse}, {"huber-likelihood", Objective::HuberLikelihood}});
    o.delta = number(opts, "delta", "opts.delta");
    size_t ng = 0;
    o.starts = optional_typed_array<double>(opts, "grid", napi_float64_array, "opts.grid", &ng, pins);
    if (o.starts) {
      const size_t k = static_cast<size_t>(o.map.full ? o.map.reduced : law_params_of(o.law, o.program.n_params));
      if (k == 0) {
        o.n_starts = 1;
      } else {
        if (ng == 0 || ng % k != 0) throw Error(ErrorKind::Range, "opts.grid must hold rows of " + std::to_string(k) + " values");
        o.n_starts = static_cast<int64_t>(ng / k);
      }
    }
    o.control.max_iter = static_cast<int>(integer(opts, "maxIterations", "opts.maxIterations"));
    o.optimum_rel_tol = number(opts, "optimumRelTol", "opts.optimumRelTol");
    o.backend = backend_of(opts);
    // opts.devices: absent or 'all' = every visible GPU (large bootstraps only), else the ordinals to split over.
    o.devices = devices_of(opts);
    o.cancel.flag = cancel_flag(opts, pins);
    o.tuning = tuning_of(opts);
    size_t np = 0;
    double* progress = optional_typed_array<double>(opts, "progress", napi_float64_array, "progress", &np, pins);
    if (progress && np < 2) throw_type("progress must be a Float64Array of length 2");
    job->progress.slot = progress;
    o.progress = &job->progress;

    Napi::Value b = opts.Get("bootstrap");
    if (b.IsObject()) {
      Napi::Object bo = b.As<Napi::Object>();
      job->boot.resamples = integer(bo, "resamples", "opts.bootstrap.resamples");
      job->boot.seed = uint64(bo.Get("seed"), "opts.bootstrap.seed");
      job->boot.grid_per_resample = boolean(bo, "gridPerResample", "opts.bootstrap.gridPerResample");
      job->boot.compute = number(bo, "compute", "opts.bootstrap.compute");
      job->boot.level = number(bo, "level", "opts.bootstrap.level");
      Napi::Value bobj = bo.Get("objective");
      if (!bobj.IsUndefined()) {
        job->boot.same_objective = false;
        job->boot.objective = enum_of<Objective>(
            bo, "objective", "opts.bootstrap.objective",
            {{"huber", Objective::Huber}, {"mse", Objective::Mse}, {"huber-likelihood", Objective::HuberLikelihood}});
      }
    }

    return run_async(
        env,
        [job]() {
          job->result = fit_with_bootstrap(job->runs, job->opts, job->boot,
                                           job->boot.resamples > 0 ? &job->bootstrap : nullptr);
        },
        [job](Napi::Env env) -> Napi::Value {
          const FitResult& r = job->result;
          Napi::Object out = Napi::Object::New(env);
          out.Set("theta", to_f64(env, r.theta, static_cast<size_t>(r.n_params)));
          out.Set("objective", r.objective);
          out.Set("bestStart", static_cast<double>(r.best_start));
          out.Set("starts", static_cast<double>(r.n_starts));
          out.Set("startsAtOptimum", static_cast<double>(r.starts_at_optimum));
          out.Set("convergedStarts", static_cast<double>(r.converged_starts));
          out.Set("evaluations", static_cast<double>(r.evaluations));
          out.Set("iterations", r.iterations);
          out.Set("converged", r.converged);
          out.Set("status", status_name(r.status));
          if (job->boot.resamples > 0) {
            const BootstrapResult& br = job->bootstrap;
            Napi::Object bo = Napi::Object::New(env);
            Napi::Array names = Napi::Array::New(env, br.names.size());
            for (size_t i = 0; i < br.names.size(); ++i) names.Set(static_cast<uint32_t>(i), br.names[i]);
            bo.Set("names", names);
            bo.Set("resamples", static_cast<double>(br.resamples));
            bo.Set("failed", static_cast<double>(br.failed));
            bo.Set("converged", static_cast<double>(br.converged));
            bo.Set("samples", to_f64(env, br.samples));
            bo.Set("mean", to_f64(env, br.mean));
            bo.Set("stdErr", to_f64(env, br.std_err));
            bo.Set("lower", to_f64(env, br.lower));
            bo.Set("upper", to_f64(env, br.upper));
            out.Set("bootstrap", bo);
          }
          return out;
        },
        std::move(pins));
  });
}

Napi::Value ScalingPredict(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    Pins pins;
    enum class PredictLaw { Chinchilla, KaplanND, KaplanSteps, DataConstrained };
    const PredictLaw law = enum_value<PredictLaw>(
        info[0], "law",
        {{"chinchilla", PredictLaw::Chinchilla}, {"kaplan-nd", PredictLaw::KaplanND}, {"kaplan-steps", PredictLaw::KaplanSteps},
         {"data-constrained", PredictLaw::DataConstrained}});
    size_t np = 0, nn = 0, nd = 0, nu = 0;
    const double* p = f64(info[1], "params", &np, pins);
    const double* N = f64(info[2], "N", &nn, pins);
    const double* D = f64(info[3], "D", &nd, pins);
    const double* U = law == PredictLaw::DataConstrained ? f64(info[4], "U", &nu, pins) : nullptr;
    if (nn != nd || (U && nu != nn)) throw Error(ErrorKind::Range, "N, D (and U) must have the same length");
    const size_t want = law == PredictLaw::Chinchilla ? 5u : law == PredictLaw::DataConstrained ? 7u : 4u;
    if (np != want) throw_type("params has the wrong length");
    auto out = Napi::Float64Array::New(env, nn);
    for (size_t i = 0; i < nn; ++i) {
      switch (law) {
        case PredictLaw::DataConstrained:
          out[i] = predict_data_constrained({p[0], p[1], p[2], p[3], p[4]}, p[5], p[6], N[i], D[i], U[i]);
          break;
        case PredictLaw::Chinchilla: out[i] = predict_chinchilla({p[0], p[1], p[2], p[3], p[4]}, N[i], D[i]); break;
        case PredictLaw::KaplanND: out[i] = predict_kaplan(p[0], p[1], p[2], p[3], N[i], D[i]); break;
        case PredictLaw::KaplanSteps: out[i] = predict_kaplan_steps(p[0], p[1], p[2], p[3], N[i], D[i]); break;
      }
    }
    return out;
  });
}

Napi::Value ScalingComputeOptimal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    Pins pins;
    size_t np = 0;
    const double* p = f64(info[0], "params", &np, pins);
    if (np != 5) throw_type("params has the wrong length");
    ComputeOptimal c = compute_optimal({p[0], p[1], p[2], p[3], p[4]}, info[1].As<Napi::Number>().DoubleValue());
    Napi::Object o = Napi::Object::New(env);
    o.Set("N", c.N);
    o.Set("D", c.D);
    o.Set("tokensPerParam", c.tokens_per_param);
    o.Set("a", c.a);
    o.Set("b", c.b);
    o.Set("G", c.G);
    return o;
  });
}

Napi::Value ScalingTraining(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    using Formula = double (*)(double, double, double);
    const Formula f = enum_value<Formula>(info[0], "formula",
                                          {{"critical-batch-size", &critical_batch_size},
                                           {"min-steps", &min_steps},
                                           {"min-examples", &min_examples}});
    for (int i = 1; i <= 3; ++i) {
      if (!info[i].IsNumber()) throw_type("scalingTraining takes (formula, x, p1, p2) with numbers");
    }
    return Napi::Number::New(env, f(info[1].As<Napi::Number>().DoubleValue(), info[2].As<Napi::Number>().DoubleValue(),
                                    info[3].As<Napi::Number>().DoubleValue()));
  });
}

}  // namespace

LW_EXPORT_FUNCTION("scalingFit", ScalingFit);
LW_EXPORT_FUNCTION("scalingPredict", ScalingPredict);
LW_EXPORT_FUNCTION("scalingComputeOptimal", ScalingComputeOptimal);
LW_EXPORT_FUNCTION("scalingTraining", ScalingTraining);

}  // namespace addon
}  // namespace lw
