// GPU check of scaling-law fitting (run by test/gpu/scaling.sh): CUDA vs CPU on the Chinchilla table, then the
// bootstrap with the whole 4500-start grid per resample (4000 × 4500 = 18M fits) timed on the device.
// Build: the check scaling_cuda of native/sources.json (npm run check:gpu builds it anywhere; runs where there is a GPU).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/device.h"
#include "core/parallel.h"
#include "core/scaling/scaling.h"

using namespace lw::scaling;
#include "../native/check.h"

static double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "data/scaling/chinchilla_epoch_svg_extracted.csv";
  const int64_t resamples = argc > 2 ? std::atoll(argv[2]) : 4000;
  const int reps = argc > 3 ? std::atoi(argv[3]) : 3;
  std::ifstream in(path);
  if (!in) { std::printf("cannot open %s\n", path); return 2; }
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string c;
    std::vector<std::string> v;
    while (std::getline(ss, c, ',')) v.push_back(c);
    double n = std::stod(v[3]), fl = std::stod(v[4]), l = std::stod(v[6]);
    rows.push_back({n, fl / (6 * n), l});
  }
  std::stable_sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a[2] < b[2]; });
  rows.resize(rows.size() - 5);
  std::vector<double> N, D, L;
  for (auto& r : rows) N.push_back(r[0]), D.push_back(r[1]), L.push_back(r[2]);
  Runs runs{N.data(), D.data(), L.data(), static_cast<int64_t>(N.size())};
  if (lw::device::count() == 0) { std::printf("no CUDA device: %s\n", lw::device::status().c_str()); return 2; }
  auto info = lw::device::info(0);
  std::printf("device: %s; host threads %d; %lld runs\n", info.name.c_str(), lw::pool_threads(), (long long)runs.n);

  // 1. Correctness: each objective, CUDA vs CPU, full 4500-start grid.
  const char* names[] = {"huber", "mse", "huber-likelihood"};
  for (int o = 0; o < 3; ++o) {
    FitOptions c, g;
    c.objective = g.objective = static_cast<Objective>(o);
    g.backend = lw::Backend::Cuda;
    double t0 = now();
    FitResult rc = fit(runs, c);
    double t1 = now();
    FitResult rg = fit(runs, g);
    double t2 = now();
    double nc[6], ng[6];
    natural_params(c.law, c.objective, rc.theta, nc);
    natural_params(g.law, g.objective, rg.theta, ng);
    double rel = std::fabs(rc.objective - rg.objective) / std::fabs(rc.objective);
    double prel = 0;
    for (int i = 0; i < 5; ++i) prel = std::max(prel, std::fabs(nc[i] - ng[i]) / std::fabs(nc[i]));
    std::printf("%-16s cpu f=%.12g at_opt=%lld (%.3f s) | cuda f=%.12g at_opt=%lld (%.3f s) | rel f %.1e, max rel param %.1e\n",
                names[o], rc.objective, (long long)rc.starts_at_optimum, t1 - t0, rg.objective,
                (long long)rg.starts_at_optimum, t2 - t1, rel, prel);
    CHECK(rel <= 1e-9, "%s objective CPU vs CUDA", names[o]);
    CHECK(prel <= 1e-4, "%s parameters CPU vs CUDA", names[o]);
    CHECK(std::llabs(rc.starts_at_optimum - rg.starts_at_optimum) <= std::max<int64_t>(10, rc.starts_at_optimum / 20),
          "%s starts at optimum", names[o]);
  }
  {
    FitOptions g;
    g.backend = lw::Backend::Cuda;
    std::vector<double> t;
    for (int i = 0; i < 20; ++i) {
      double t0 = now();
      fit(runs, g);
      t.push_back(now() - t0);
    }
    std::printf("cuda 4500-start grid fit (huber): median of 20 = %.2f ms\n", 1e3 * median(t));
  }

  // 1b. Constraints, weights, the data-constrained law, a custom law and a bootstrap objective: CUDA vs CPU.
  {
    auto compare = [&](const char* what, const Runs& r, FitOptions c, const BootstrapOptions* b) {
      FitOptions g = c;
      g.backend = lw::Backend::Cuda;
      FitResult rc, rg;
      BootstrapResult bc, bg;
      if (b) {
        rc = fit_with_bootstrap(r, c, *b, &bc);
        rg = fit_with_bootstrap(r, g, *b, &bg);
      } else {
        rc = fit(r, c);
        rg = fit(r, g);
      }
      const double rel = std::fabs(rc.objective - rg.objective) / std::fabs(rc.objective);
      double prel = 0;
      for (int i = 0; i < rc.n_params; ++i)
        prel = std::max(prel, std::fabs(rc.theta[i] - rg.theta[i]) / std::max(1e-12, std::fabs(rc.theta[i])));
      double brel = 0;
      for (size_t i = 0; i < bc.samples.size(); ++i) {
        const std::string& nm = bc.names[i % bc.names.size()];
        if (nm == "alpha" || nm == "beta" || nm == "E" || nm == "rdStar" || nm == "rnStar")
          brel = std::max(brel, std::fabs(bc.samples[i] - bg.samples[i]) / std::fabs(bc.samples[i]));
      }
      std::printf("%-34s cpu f=%.12g | cuda f=%.12g | rel f %.1e, max rel theta %.1e, bootstrap %.1e\n", what,
                  rc.objective, rg.objective, rel, prel, brel);
      CHECK(rel <= 1e-9, "%s objective CPU vs CUDA", what);
      CHECK(prel <= 1e-4, "%s parameters CPU vs CUDA", what);
      CHECK(brel <= 1e-4, "%s bootstrap CPU vs CUDA", what);
    };
    // tie α = β, fix E = 1.69, bound a ∈ [0, 8], weights 1..3
    FitOptions t;
    t.map.full = 5;
    t.map.reduced = 3;
    const int src[5] = {0, 1, -1, 2, 2};
    for (int j = 0; j < 5; ++j) t.map.src[j] = src[j];
    t.map.fixed[2] = std::log(1.69);
    t.map.kind[0] = 1;
    t.map.lo[0] = 0;
    t.map.hi[0] = 8;
    std::vector<double> w(runs.n);
    for (int64_t i = 0; i < runs.n; ++i) w[i] = 1 + i % 3;
    t.weights = w.data();
    compare("tied/fixed/bounded/weighted", runs, t, nullptr);
    // custom law: the Chinchilla form as bytecode, params [E, A, B, alpha, beta], bounded E, A, B > 0
    const int32_t code[] = {1 | 0 << 8, 1 | 1 << 8, 1 | 3 << 8, 10 | 0 << 8, 7, 4, 1 | 2 << 8, 1 | 4 << 8, 10 | 1 << 8, 7, 4};
    const double consts[] = {0};
    FitOptions cu;
    cu.law = Law::Custom;
    cu.program = {code, consts, 11, 5};
    cu.map = identity_map(5);
    for (int j = 0; j < 3; ++j) cu.map.kind[j] = 2;
    std::vector<double> cg;
    for (double E : {1.0, 2.0})
      for (double A : {100.0, 1000.0})
        for (double B : {100.0, 3000.0})
          for (double al : {0.3, 0.6})
            for (double be : {0.3, 0.6}) cg.insert(cg.end(), {E, A, B, al, be});
    cu.starts = cg.data();
    cu.n_starts = static_cast<int64_t>(cg.size() / 5);
    compare("custom (Chinchilla expression)", runs, cu, nullptr);
    // bootstrap: point estimate by the likelihood, resamples by the Huber sum
    FitOptions bl;
    bl.objective = Objective::HuberLikelihood;
    BootstrapOptions bo;
    bo.resamples = 16;
    bo.seed = 3;
    bo.same_objective = false;
    bo.objective = Objective::Huber;
    compare("likelihood point, huber bootstrap", runs, bl, &bo);
    // data-constrained law on the datablations runs, base parameters fixed (their published procedure)
    const char* dpath = argc > 4 ? argv[4] : "data/scaling/datablations_fit_runs.csv";
    std::ifstream din(dpath);
    if (!din) {
      std::printf("cannot open %s\n", dpath);
      ++failures;
    } else {
      std::getline(din, line);
      std::vector<double> dN, dD, dU, dL;
      while (std::getline(din, line)) {
        std::stringstream ss(line);
        std::string c;
        std::vector<std::string> v;
        while (std::getline(ss, c, ',')) v.push_back(c);
        dN.push_back(std::stod(v[1]));
        dD.push_back(std::stod(v[2]));
        dU.push_back(std::stod(v[3]));
        dL.push_back(std::stod(v[4]));
      }
      Runs dr{dN.data(), dD.data(), dL.data(), static_cast<int64_t>(dN.size()), dU.data()};
      FitOptions dc;
      dc.law = Law::DataConstrained;
      dc.map.full = 7;
      dc.map.reduced = 2;
      const double base[5] = {6.255414, 7.3049974, 0.6254804, 0.3526596, 0.3526596};
      for (int j = 0; j < 5; ++j) {
        dc.map.src[j] = -1;
        dc.map.fixed[j] = base[j];
      }
      dc.map.src[5] = 0;
      dc.map.src[6] = 1;
      compare("data-constrained (datablations)", dr, dc, nullptr);
      FitOptions df;  // every parameter free, from 8 starts
      df.law = Law::DataConstrained;
      std::vector<double> dg;
      for (double a : {5.0, 7.0})
        for (double rd : {10.0, 20.0})
          for (double rn : {3.0, 8.0}) dg.insert(dg.end(), {a, 7.3, 0.6, 0.35, 0.35, rd, rn});
      df.starts = dg.data();
      df.n_starts = 8;
      compare("data-constrained, all 7 free", dr, df, nullptr);
    }
  }

  // 2. Bootstrap with the grid per resample: a few resamples CUDA vs CPU.
  {
    FitOptions c, g;
    g.backend = lw::Backend::Cuda;
    BootstrapOptions b;
    b.resamples = 8;
    b.seed = 7;
    b.grid_per_resample = true;
    BootstrapResult bc, bg;
    fit_with_bootstrap(runs, c, b, &bc);
    fit_with_bootstrap(runs, g, b, &bg);
    // A and B are ill-conditioned (flat valley); compare them loosely, the exponents and E tightly.
    double worst_all = 0, worst_key = 0;
    const size_t Q = bc.names.size();
    for (size_t i = 0; i < bc.samples.size(); ++i) {
      const double d = std::fabs(bc.samples[i] - bg.samples[i]) / std::fabs(bc.samples[i]);
      worst_all = std::max(worst_all, d);
      const std::string& nm = bc.names[i % Q];
      if (nm == "alpha" || nm == "beta" || nm == "E" || nm == "a") worst_key = std::max(worst_key, d);
    }
    std::printf("bootstrap 8 resamples x 4500 starts, CPU vs CUDA: max rel diff alpha/beta/E/a %.1e, all quantities %.1e\n",
                worst_key, worst_all);
    CHECK(worst_key <= 1e-4, "bootstrap CPU vs CUDA (alpha, beta, E, a)");
    CHECK(worst_all <= 1e-2, "bootstrap CPU vs CUDA (all quantities)");
  }

  // 3. Timing: resamples × 4500 starts on the device.
  {
    FitOptions g;
    g.backend = lw::Backend::Cuda;
    BootstrapOptions b;
    b.resamples = resamples;
    b.seed = 1;
    b.grid_per_resample = true;
    std::vector<double> t;
    BootstrapResult br;
    for (int i = 0; i < reps; ++i) {
      double t0 = now();
      fit_with_bootstrap(runs, g, b, &br);
      t.push_back(now() - t0);
    }
    const double fits = double(resamples) * 4500;
    std::printf("bootstrap %lld resamples x 4500 starts = %.1fM fits: median of %d = %.2f s (%.2fM fits/s), failed %lld\n",
                (long long)resamples, fits / 1e6, reps, median(t), fits / median(t) / 1e6, (long long)br.failed);
    for (size_t q = 0; q < br.names.size(); ++q)
      std::printf("  %-15s mean %.6g  se %.4g  95%% [%.6g, %.6g]\n", br.names[q].c_str(), br.mean[q], br.std_err[q],
                  br.lower[q], br.upper[q]);
    if (resamples == 4000) CHECK(median(t) <= 10.0, "18M-fit bootstrap within 10 s");
  }
  std::printf(failures ? "%d FAILURES\n" : "all GPU checks passed\n", failures);
  return failures ? 1 : 0;
}
