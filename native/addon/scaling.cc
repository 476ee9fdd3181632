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

    FitOptions& o = job->opts;
    o.law = enum_of<Law>(opts, "law", "opts.law", {{"chinchilla", Law::Chinchilla}, {"kaplan-nd", Law::KaplanND}});
    o.objective = enum_of<Objective>(
        opts, "objective", "opts.objective",
        {{"huber", Objective::Huber}, {"mse", Objective::Mse}, {"huber-likelihood", Objective::HuberLikelihood}});
    o.delta = number(opts, "delta", "opts.delta");
    size_t ng = 0;
    o.starts = optional_typed_array<double>(opts, "grid", napi_float64_array, "opts.grid", &ng, pins);
    if (o.starts) {
      const size_t k = static_cast<size_t>(law_params(o.law));
      if (ng == 0 || ng % k != 0) throw Error(ErrorKind::Range, "opts.grid must hold rows of " + std::to_string(k) + " values");
      o.n_starts = static_cast<int64_t>(ng / k);
    }
    o.control.max_iter = static_cast<int>(integer(opts, "maxIterations", "opts.maxIterations"));
    o.optimum_rel_tol = number(opts, "optimumRelTol", "opts.optimumRelTol");
    o.backend = backend_of(opts);
    // opts.devices: absent or 'all' = every visible GPU (large bootstraps only), else the ordinals to split over.
    Napi::Value dv = opts.Get("devices");
    if (dv.IsArray()) {
      Napi::Array a = dv.As<Napi::Array>();
      if (a.Length() == 0) throw Error(ErrorKind::Range, "opts.devices must list at least one device");
      for (uint32_t i = 0; i < a.Length(); ++i) {
        Napi::Value e = a.Get(i);
        if (!e.IsNumber()) throw Error(ErrorKind::Type, "opts.devices[" + std::to_string(i) + "] must be a device ordinal");
        o.devices.push_back(e.As<Napi::Number>().Int32Value());
      }
    }
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
    enum class PredictLaw { Chinchilla, KaplanND, KaplanSteps };
    const PredictLaw law = enum_value<PredictLaw>(
        info[0], "law",
        {{"chinchilla", PredictLaw::Chinchilla}, {"kaplan-nd", PredictLaw::KaplanND}, {"kaplan-steps", PredictLaw::KaplanSteps}});
    size_t np = 0, nn = 0, nd = 0;
    const double* p = f64(info[1], "params", &np, pins);
    const double* N = f64(info[2], "N", &nn, pins);
    const double* D = f64(info[3], "D", &nd, pins);
    if (nn != nd) throw Error(ErrorKind::Range, "N and D must have the same length");
    if (np != (law == PredictLaw::Chinchilla ? 5u : 4u)) throw_type("params has the wrong length");
    auto out = Napi::Float64Array::New(env, nn);
    for (size_t i = 0; i < nn; ++i) {
      switch (law) {
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
