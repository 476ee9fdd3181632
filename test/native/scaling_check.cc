// Native check of core/scaling + cpu/scaling without Node: gradients vs finite differences, SIMD vs scalar,
// and the Chinchilla grid fit with timing.
// Built and run by `npm run check:native` (check scaling in native/sources.json). Arguments: [table.csv] [resamples].
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/scaling/scaling.h"
#include "cpu/scaling_cpu.h"
#include "cpu/simd.h"

using namespace lw::scaling;
#include "check.h"

struct Table {
  std::vector<double> N, D, L;
};

static Table load(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::vector<double>> rows;
  Table t;
  while (std::getline(in, line)) {
    std::stringstream ss(line);
    std::string cell;
    std::vector<std::string> c;
    while (std::getline(ss, cell, ',')) c.push_back(cell);
    double n = std::stod(c[3]), flop = std::stod(c[4]), l = std::stod(c[6]);
    rows.push_back({n, flop / (6 * n), l});
  }
  std::stable_sort(rows.begin(), rows.end(), [](auto& a, auto& b) { return a[2] < b[2]; });
  rows.resize(rows.size() - 5);
  for (auto& r : rows) {
    t.N.push_back(r[0]);
    t.D.push_back(r[1]);
    t.L.push_back(r[2]);
  }
  return t;
}

static void grad_check(const Problem& pb, const LogData& d, const double* th) {
  const int P = pb.law == Law::Chinchilla || pb.law == Law::KaplanND ? total_params(pb.law, pb.objective)
                                                                      : pb.k + (pb.objective == Objective::HuberLikelihood);
  double g[kMaxParams], gp[kMaxParams], gm[kMaxParams];
  objective_eval(pb, d, nullptr, th, g);
  auto central = [&](int j, double h) {
    double tp[kMaxParams], tm[kMaxParams];
    std::copy(th, th + P, tp);
    std::copy(th, th + P, tm);
    tp[j] += h;
    tm[j] -= h;
    return (objective_eval(pb, d, nullptr, tp, gp) - objective_eval(pb, d, nullptr, tm, gm)) / (2 * h);
  };
  for (int j = 0; j < P; ++j) {
    double h = 1e-5 * std::max(1.0, std::fabs(th[j]));
    double fd = (4 * central(j, h / 2) - central(j, h)) / 3;  // Richardson: O(h^4)
    double scale = std::max(std::fabs(g[j]), 1e-8 * std::fabs(objective_eval(pb, d, nullptr, th, gp)) + 1e-12);
    CHECK(std::fabs(fd - g[j]) <= 1e-4 * scale + 1e-10, "grad law %d obj %d j %d: analytic %.10g fd %.10g",
          (int)pb.law, (int)pb.objective, j, g[j], fd);
  }
}

int main(int argc, char** argv) {
  const char* path = argc > 1 ? argv[1] : "data/scaling/chinchilla_epoch_svg_extracted.csv";
  Table t = load(path);
  const int64_t n = t.N.size();
  std::vector<double> lN(n), lD(n), lL(n);
  for (int64_t i = 0; i < n; ++i) lN[i] = std::log(t.N[i]), lD[i] = std::log(t.D[i]), lL[i] = std::log(t.L[i]);
  LogData d{lN.data(), lD.data(), lL.data()};

  // Gradients (far from and near the optimum).
  const double pts[][6] = {{6.17, 7.67, 0.597, 0.347, 0.367, -12.3}, {2, 3, -0.5, 0.2, 0.3, -5}, {20, 5, 1, 1.5, 0.4, 0}};
  const double kp[][5] = {{30, 28, 0.08, 0.1, -10}, {20, 25, 0.3, 0.2, -4}};
  // δ huge: every residual in the quadratic zone, so finite differences never straddle a Huber kink.
  for (int o = 0; o < 3; ++o) {
    for (double delta : {1e6}) {
      Problem pb;
      pb.objective = static_cast<Objective>(o);
      pb.n = n;
      pb.delta = delta;
      pb.log_z = log_huber_normaliser(pb.delta);
      for (auto& p : pts) grad_check(pb, d, p);
      pb.law = Law::KaplanND;
      for (auto& p : kp) grad_check(pb, d, p);
    }
  }

  // Data-constrained law (U_N capped and not) and a custom program: gradients by finite differences, and the
  // custom program's vectorised evaluator vs the scalar one, on awkward sizes (n = 37, padded to 40).
  {
    const int64_t m = 37;
    std::vector<double> cN(m), cD(m), cU(m), cL(m);
    for (int64_t i = 0; i < m; ++i) {
      cN[i] = std::log(std::pow(10, 7 + 3.0 * ((i * 7) % 37) / 37));
      cU[i] = std::log(std::pow(10, 8 + 3.0 * ((i * 11) % 37) / 37));
      cD[i] = cU[i] + std::log(1 + 30.0 * ((i * 5) % 37) / 37);
      cL[i] = std::log(2 + 0.3 * std::sin(1.0 * i));
    }
    LogData cd{cN.data(), cD.data(), cL.data(), cU.data()};
    const double dcp[][8] = {{6.2, 7.3, 0.6, 0.35, 0.35, 15, 5, -5}, {5, 9, 0.5, 0.3, 0.42, 3, 20, -3}, {8, 6, 0.4, 0.5, 0.25, 40, 1.5, -4}};
    // E + A/N^α + B·D^(−β)·exp(−U/D) + min(E, 2)·sqrt(A) / (1 + log(N)) , params [E, A, B, alpha, beta]
    const int32_t code[] = {1 | 0 << 8, 1 | 1 << 8, 1 | 3 << 8, 8, 10 | 0 << 8, 6, 4,
                            1 | 2 << 8, 1 | 4 << 8, 8, 10 | 1 << 8, 6, 2 | 2 << 8, 2 | 1 << 8, 7, 8, 11, 6, 4,
                            1 | 0 << 8, 0 | 0 << 8, 14, 1 | 1 << 8, 13, 6, 0 | 1 << 8, 3 | 0 << 8, 4, 7, 4};
    const double consts[] = {2.0, 1.0};
    CustomProgram prog{code, consts, static_cast<int>(sizeof code / sizeof code[0]), 5};
    const double cp[][6] = {{1.8, 400, 900, 0.3, 0.28, -4}, {2.5, 50, 3000, 0.6, 0.2, -2}};
    for (int o = 0; o < 3; ++o) {
      Problem pb;
      pb.objective = static_cast<Objective>(o);
      pb.n = m;
      pb.delta = 1e6;
      pb.log_z = log_huber_normaliser(pb.delta);
      pb.law = Law::DataConstrained;
      pb.k = 7;
      for (auto& p : dcp) grad_check(pb, cd, p);
      pb.law = Law::Custom;
      pb.k = 5;
      pb.prog = prog;
      for (auto& p : cp) grad_check(pb, cd, p);
      auto csimd = lw::cpu::custom_simd_eval();
      if (csimd) {
        pb.delta = 1e-3;
        const int64_t npad = 40;
        std::vector<double> pn(npad, 0), pd(npad, 0), pu(npad, 0), pl(npad, 0), w(npad, 0);
        for (int64_t i = 0; i < m; ++i) pn[i] = cN[i], pd[i] = cD[i], pu[i] = cU[i], pl[i] = cL[i], w[i] = i % 4;
        for (auto& p : cp) {
          double g1[kMaxParams], g2[kMaxParams];
          const double f1 = objective_eval(pb, cd, w.data(), p, g1);
          const double f2 = csimd(pb, pn.data(), pd.data(), pu.data(), pl.data(), w.data(), npad, p, g2);
          CHECK(std::fabs(f1 - f2) <= 1e-12 * std::fabs(f1), "custom simd f %d: %.17g vs %.17g", o, f1, f2);
          for (int j = 0; j < pb.k + (o == 2); ++j)
            CHECK(std::fabs(g1[j] - g2[j]) <= 1e-10 * (std::fabs(g1[j]) + 1e-9), "custom simd g %d %d: %.17g vs %.17g", o,
                  j, g1[j], g2[j]);
        }
      }
    }
    std::printf("data-constrained and custom-law gradients checked\n");
  }

  // SIMD vs scalar.
  auto simd = lw::cpu::chinchilla_simd_eval();
  std::printf("simd: %s\n", lw::cpu::simd_level_name(lw::cpu::simd_level()));
  if (simd) {
    int64_t npad = (n + 7) / 8 * 8;
    std::vector<double> pn(npad, 0), pd(npad, 0), pl(npad, 0), w(npad, 0);
    for (int64_t i = 0; i < n; ++i) pn[i] = lN[i], pd[i] = lD[i], pl[i] = lL[i], w[i] = 1 + (i % 3);
    for (int o = 0; o < 3; ++o) {
      Problem pb;
      pb.objective = static_cast<Objective>(o);
      pb.n = n;
      pb.log_z = log_huber_normaliser(pb.delta);
      for (auto& p : pts) {
        double g1[6], g2[6];
        double f1 = objective_eval(pb, d, w.data(), p, g1);
        double f2 = simd(pb, pn.data(), pd.data(), pl.data(), w.data(), npad, p, g2);
        CHECK(std::fabs(f1 - f2) <= 1e-12 * std::fabs(f1), "simd f %d: %.17g vs %.17g", o, f1, f2);
        for (int j = 0; j < total_params(pb.law, pb.objective); ++j)
          CHECK(std::fabs(g1[j] - g2[j]) <= 1e-11 * (std::fabs(g1[j]) + 1e-9), "simd g %d %d: %.17g vs %.17g", o,
                j, g1[j], g2[j]);
      }
    }
  }

  Runs runs{t.N.data(), t.D.data(), t.L.data(), n};
  for (int o = 0; o < 3; ++o) {
    FitOptions opts;
    opts.objective = static_cast<Objective>(o);
    auto t0 = std::chrono::steady_clock::now();
    FitResult r = fit(runs, opts);
    double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double nat[6];
    natural_params(opts.law, opts.objective, r.theta, nat);
    std::printf("obj %d: %.3f s f=%.12g A=%.4f B=%.4f E=%.6f alpha=%.6f beta=%.6f%s  best=%lld at_opt=%lld conv=%lld "
                "evals/fit=%.1f iters=%d status=%d\n",
                o, sec, r.objective, nat[0], nat[1], nat[2], nat[3], nat[4],
                o == 2 ? (" sigma=" + std::to_string(nat[5])).c_str() : "", (long long)r.best_start,
                (long long)r.starts_at_optimum, (long long)r.converged_starts, double(r.evaluations) / r.n_starts,
                r.iterations, (int)r.status);
  }
  {
    FitOptions opts;
    BootstrapOptions boot;
    boot.resamples = argc > 2 ? std::atoi(argv[2]) : 200;
    boot.seed = 42;
    BootstrapResult br;
    auto t0 = std::chrono::steady_clock::now();
    FitResult r = fit_with_bootstrap(runs, opts, boot, &br);
    double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(r.ok(), "bootstrap full fit");
    std::printf("bootstrap %lld resamples: %.3f s, failed %lld, converged %lld\n", (long long)br.resamples, sec,
                (long long)br.failed, (long long)br.converged);
    for (size_t q = 0; q < br.names.size(); ++q)
      std::printf("  %-15s mean %.6g  se %.4g  [%.6g, %.6g]\n", br.names[q].c_str(), br.mean[q], br.std_err[q],
                  br.lower[q], br.upper[q]);
    auto w = resample_weights(n, 3, 42);
    for (int r2 = 0; r2 < 3; ++r2) {
      double s = 0;
      for (int64_t i = 0; i < n; ++i) s += w[r2 * n + i];
      CHECK(s == n, "resample %d sums to %g", r2, s);
    }
  }
  std::printf(failures ? "%d FAILURES\n" : "all checks passed\n", failures);
  return failures ? 1 : 0;
}
