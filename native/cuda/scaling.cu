// CUDA backend of multi-start fitting: one L-BFGS fit per thread, float64, the run table in shared memory.
//
// Work is (resample, start) tasks in "units" of up to 256 consecutive starts of one resample. Each warp takes a unit at
// a time from a global counter and hands its tasks to whichever lanes are free, so lanes stay busy (a fit ends at a
// different iteration in every lane) while the lanes of a warp mostly share one resample's weight vector. The
// L-BFGS is the reverse-communication state machine of core/scaling/lbfgs.h: every loop trip is one objective
// evaluation in every busy lane, so the 240-point loop runs in lockstep whatever each fit's line-search phase.
//
// Per-fit outcomes are reduced per resample on the device; the best start of each resample is then refitted by
// the same kernel (bit-identical path) to recover its parameters, so no per-fit parameter storage is needed.
// Progress and cancellation go through mapped host memory, polled by the host while the kernel runs.
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "check.cuh"
#include "core/scaling/custom_plan.h"
#include "core/scaling/scaling.h"
#include "kernels_cuda.h"
#include "scaling_loop.h"

namespace lw {
namespace scaling {
namespace {

using cuda::check;
using cuda::Scratch;

constexpr int kThreads = 128;
constexpr int64_t kMaxUnit = 256;  // tasks per unit for large batches; small batches use 32 to spread out
constexpr unsigned kFull = 0xffffffffu;

struct DeviceWarp {
  const KernelArgs* a;
  __device__ unsigned lane() const { return threadIdx.x & 31; }
  __device__ uint32_t ballot(bool p) const { return __ballot_sync(kFull, p); }
  __device__ unsigned long long shfl(unsigned long long v, int src) const { return __shfl_sync(kFull, v, src); }
  __device__ unsigned long long next_unit() const { return *a->cancel ? ~0ull : atomicAdd(a->unit_counter, 1ull); }
  __device__ void progress(unsigned long long v) const { *a->progress = v; }
};

// K = 0: every law, custom ones by the interpreter; K = 1..8: a custom law of K parameters on the register
// evaluator (a.reg).
template <int PL, int K>
__global__ void __launch_bounds__(kThreads) fit_kernel(KernelArgs a) {
  extern __shared__ double smem[];
  const int64_t n = a.pb.n;
  const double* base = a.data;
  if (a.shared_data) {
    for (int64_t i = threadIdx.x; i < a.columns * n; i += blockDim.x) smem[i] = a.data[i];
    __syncthreads();
    base = smem;
  }
  const LogData data{base, base + n, base + 2 * n, a.columns > 3 ? base + 3 * n : nullptr};
  DeviceWarp warp{&a};
  if constexpr (K == 0) fit_loop<PL>(a, data, warp);
  else fit_loop<PL>(a, data, warp, RegObjective<K>{a.reg});
}

using FitKernel = void (*)(KernelArgs);
// L-BFGS dimension: the reduced θ (σ included) fits kSmallParams for K ≤ 5 whatever the constraints.
FitKernel kernel_for(const KernelArgs& a) {
  const bool small = a.map.reduced <= kSmallParams;
  if (!a.reg.code) return small ? fit_kernel<kSmallParams, 0> : fit_kernel<kMaxParams, 0>;
  switch (a.pb.k) {
    case 1: return fit_kernel<kSmallParams, 1>;
    case 2: return fit_kernel<kSmallParams, 2>;
    case 3: return fit_kernel<kSmallParams, 3>;
    case 4: return fit_kernel<kSmallParams, 4>;
    case 5: return fit_kernel<kSmallParams, 5>;
    case 6: return small ? fit_kernel<kSmallParams, 6> : fit_kernel<kMaxParams, 6>;
    case 7: return small ? fit_kernel<kSmallParams, 7> : fit_kernel<kMaxParams, 7>;
    default: return small ? fit_kernel<kSmallParams, 8> : fit_kernel<kMaxParams, 8>;
  }
}

struct Reduced {
  int64_t best;
  int64_t at_optimum;
  int64_t converged;
  int64_t evaluations;
};

constexpr int kReduceThreads = 256;

// One block per resample: best start (lowest f, lowest index on ties), then the starts within tolerance.
__global__ void __launch_bounds__(kReduceThreads) reduce_kernel(const StartOutcome* o, int64_t S, double rel_tol, Reduced* out) {
  __shared__ double sf[kReduceThreads];
  __shared__ int64_t si[kReduceThreads], sa[kReduceThreads], sb[kReduceThreads];
  const StartOutcome* row = o + blockIdx.x * S;
  double bf = INFINITY;
  int64_t bi = -1, conv = 0, evals = 0;
  for (int64_t s = threadIdx.x; s < S; s += blockDim.x) {
    const StartOutcome x = row[s];
    evals += x.evaluations;
    if (status_converged(static_cast<FitStatus>(x.status))) ++conv;
    if (x.status == static_cast<int32_t>(FitStatus::BadStart) || !isfinite(x.f)) continue;
    if (bi < 0 || x.f < bf) { bf = x.f; bi = s; }  // s increases within a thread: first wins ties
  }
  sf[threadIdx.x] = bf; si[threadIdx.x] = bi; sa[threadIdx.x] = conv; sb[threadIdx.x] = evals;
  __syncthreads();
  for (int h = blockDim.x / 2; h > 0; h >>= 1) {
    if (threadIdx.x < h) {
      const int j = threadIdx.x + h;
      const bool take = si[j] >= 0 && (si[threadIdx.x] < 0 || sf[j] < sf[threadIdx.x] ||
                                       (sf[j] == sf[threadIdx.x] && si[j] < si[threadIdx.x]));
      if (take) { sf[threadIdx.x] = sf[j]; si[threadIdx.x] = si[j]; }
      sa[threadIdx.x] += sa[j];
      sb[threadIdx.x] += sb[j];
    }
    __syncthreads();
  }
  const double best_f = sf[0];
  const int64_t best = si[0];
  const int64_t conv_all = sa[0], evals_all = sb[0];
  __syncthreads();
  int64_t cnt = 0;
  if (best >= 0) {
    const double lim = best_f + rel_tol * fabs(best_f);
    for (int64_t s = threadIdx.x; s < S; s += blockDim.x)
      if (row[s].status != static_cast<int32_t>(FitStatus::BadStart) && row[s].f <= lim) ++cnt;
  }
  sa[threadIdx.x] = cnt;
  __syncthreads();
  for (int h = blockDim.x / 2; h > 0; h >>= 1) {
    if (threadIdx.x < h) sa[threadIdx.x] += sa[threadIdx.x + h];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[blockIdx.x] = Reduced{best, sa[0], conv_all, evals_all};
}

// Mapped (zero-copy) host memory for the cancel flag and the progress counter.
struct Mapped {
  void* host = nullptr;
  Mapped() { check(cudaHostAlloc(&host, 64, cudaHostAllocMapped), "cudaHostAlloc (mapped)"); std::fill_n(static_cast<char*>(host), 64, 0); }
  ~Mapped() { cudaFreeHost(host); }
  volatile int* cancel() const { return static_cast<volatile int*>(host); }
  volatile unsigned long long* progress() const {
    return reinterpret_cast<volatile unsigned long long*>(static_cast<char*>(host) + 8);
  }
  template <typename T>
  T device(T p) const {
    void* d = nullptr;
    check(cudaHostGetDevicePointer(&d, const_cast<void*>(reinterpret_cast<const volatile void*>(p)), 0), "cudaHostGetDevicePointer");
    return reinterpret_cast<T>(d);
  }
};

int fit_blocks(FitKernel kernel, int dev, size_t smem) {
  int per_sm = 0;
  check(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kThreads, smem), "cudaOccupancy");
  return std::max(1, per_sm) * cuda::sm_count(dev);
}

// Runs fit_kernel over `total` tasks while relaying progress (as fits handed out) and cancellation.
void launch_fits(KernelArgs a, int dev, const Mapped& m, Progress* progress, const Cancel& cancel) {
  Scratch counter(sizeof(unsigned long long));
  check(cudaMemsetAsync(counter.as<void>(), 0, sizeof(unsigned long long), cudaStreamPerThread), "cudaMemsetAsync");
  a.unit_counter = counter.as<unsigned long long>();
  *m.progress() = 0;
  a.cancel = m.device(m.cancel());
  a.progress = m.device(m.progress());
  const FitKernel kernel = kernel_for(a);
  const size_t smem = a.shared_data ? static_cast<size_t>(a.columns * a.pb.n) * sizeof(double) : 0;
  if (smem > 48 * 1024) {
    check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)),
          "cudaFuncSetAttribute");
  }
  const int64_t max_blocks = fit_blocks(kernel, dev, smem), warps = max_blocks * (kThreads / 32);
  // Enough units for every warp several times over, so the last units finish together.
  a.unit = std::min<int64_t>(kMaxUnit, std::max<int64_t>(32, a.total / (8 * warps) / 32 * 32));
  const int64_t units = (a.total + a.unit - 1) / a.unit;
  const int blocks = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(max_blocks, (units + kThreads / 32 - 1) / (kThreads / 32))));
  kernel<<<blocks, kThreads, smem, cudaStreamPerThread>>>(a);
  check(cudaGetLastError(), "scaling fit kernel launch");
  int64_t reported = 0;
  int wait_us = 100;
  for (;;) {
    cudaError_t q = cudaStreamQuery(cudaStreamPerThread);
    if (q != cudaErrorNotReady) {
      check(q, "scaling fit kernel");
      break;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(wait_us));
    wait_us = std::min(wait_us * 2, 5000);
    if (cancel.requested()) *m.cancel() = 1;
    if (progress) {
      const int64_t started = std::min<int64_t>(static_cast<int64_t>(*m.progress()), a.total);
      if (started > reported) {
        progress->add(started - reported);
        reported = started;
      }
    }
  }
  if (progress && a.total > reported) progress->add(a.total - reported);
  cancel.check();
}

}  // namespace

void multistart_cuda(const MultiStartJob& j, FitResult* out) {
  const int dev = j.device;
  check(cudaSetDevice(dev), "cudaSetDevice");
  j.cancel.check();
  const int64_t n = j.pb.n, R = j.resamples, S = j.n_starts;
  const int P = j.map.full, k = j.map.reduced - (j.pb.objective == Objective::HuberLikelihood ? 1 : 0);
  cudaStream_t stream = cudaStreamPerThread;
  const int columns = j.ln_u ? 4 : 3;

  std::vector<double> packed(static_cast<size_t>(columns * n));
  std::copy(j.ln_n, j.ln_n + n, packed.begin());
  std::copy(j.ln_d, j.ln_d + n, packed.begin() + n);
  std::copy(j.ln_l, j.ln_l + n, packed.begin() + 2 * n);
  if (j.ln_u) std::copy(j.ln_u, j.ln_u + n, packed.begin() + 3 * n);
  Scratch data(packed.size() * sizeof(double)), weights,
      starts(static_cast<size_t>(std::max<int64_t>(1, S * k)) * sizeof(double));
  // custom law: the program in device memory (every lane reads the same instruction: a broadcast), rewritten for
  // the register evaluator where it fits
  Scratch code, consts, reg_code;
  Problem pb = j.pb;
  RegPlan plan;
  const bool regs = pb.law == Law::Custom && !j.tuning.custom_interpreter && plan_registers(pb.prog, &plan);
  if (regs) {
    reg_code.reset(plan.code.size() * sizeof(int32_t));
    check(cudaMemcpyAsync(reg_code.as<void>(), plan.code.data(), plan.code.size() * sizeof(int32_t),
                          cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync register program");
  }
  if (pb.law == Law::Custom) {
    code.reset(static_cast<size_t>(pb.prog.len) * sizeof(int32_t));
    int n_consts = 1;
    for (int i = 0; i < pb.prog.len; ++i)
      if ((pb.prog.code[i] & 0xff) == static_cast<int>(Op::Const)) n_consts = std::max(n_consts, (pb.prog.code[i] >> 8) + 1);
    consts.reset(static_cast<size_t>(n_consts) * sizeof(double));
    check(cudaMemcpyAsync(code.as<void>(), pb.prog.code, static_cast<size_t>(pb.prog.len) * sizeof(int32_t),
                          cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync program");
    check(cudaMemcpyAsync(consts.as<void>(), pb.prog.consts, static_cast<size_t>(n_consts) * sizeof(double),
                          cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync constants");
    pb.prog.code = code.as<int32_t>();
    pb.prog.consts = consts.as<double>();
  }
  check(cudaMemcpyAsync(data.as<void>(), packed.data(), packed.size() * sizeof(double), cudaMemcpyHostToDevice, stream),
        "cudaMemcpyAsync run table");
  if (S * k > 0)
    check(cudaMemcpyAsync(starts.as<void>(), j.starts, static_cast<size_t>(S * k) * sizeof(double), cudaMemcpyHostToDevice,
                          stream), "cudaMemcpyAsync starts");
  if (j.weights) {
    weights.reset(static_cast<size_t>(R * n) * sizeof(double));
    check(cudaMemcpyAsync(weights.as<void>(), j.weights, static_cast<size_t>(R * n) * sizeof(double),
                          cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync weights");
  }
  int smem_max = 0;
  check(cudaDeviceGetAttribute(&smem_max, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev), "cudaDeviceGetAttribute");

  KernelArgs a{};
  a.pb = pb;
  a.P = P;
  a.k = k;
  a.map = j.map;
  a.data = data.as<double>();
  a.columns = columns;
  a.shared_data = static_cast<int64_t>(columns * n * sizeof(double)) <= smem_max;
  a.weights = j.weights ? weights.as<double>() : nullptr;
  a.starts = starts.as<double>();
  a.S = S;
  a.ctl = j.control;
  if (regs) a.reg = plan.program(reg_code.as<int32_t>(), pb.prog.consts);
  Mapped mapped;

  // Pass 1: every (resample, start).
  Scratch outcomes(static_cast<size_t>(R * S) * sizeof(StartOutcome));
  a.total = R * S;
  a.outcome = outcomes.as<StartOutcome>();
  launch_fits(a, dev, mapped, j.progress, j.cancel);

  // Reduce per resample.
  Scratch reduced(static_cast<size_t>(R) * sizeof(Reduced));
  reduce_kernel<<<static_cast<unsigned>(R), kReduceThreads, 0, stream>>>(a.outcome, S, j.optimum_rel_tol,
                                                                          reduced.as<Reduced>());
  check(cudaGetLastError(), "scaling reduce kernel launch");
  std::vector<Reduced> red(static_cast<size_t>(R));
  check(cudaMemcpyAsync(red.data(), reduced.as<void>(), red.size() * sizeof(Reduced), cudaMemcpyDeviceToHost, stream),
        "cudaMemcpyAsync reduced");
  check(cudaStreamSynchronize(stream), "scaling reduce");

  // Pass 2: refit each resample's best start to recover its parameters (same kernel, same arithmetic).
  std::vector<int64_t> ids;
  std::vector<int64_t> which;
  for (int64_t r = 0; r < R; ++r) {
    if (red[r].best >= 0) {
      ids.push_back(r * S + red[r].best);
      which.push_back(r);
    }
  }
  std::vector<StartOutcome> best(ids.size());
  std::vector<double> theta(ids.size() * P);
  if (!ids.empty()) {
    Scratch ids_dev(ids.size() * sizeof(int64_t)), best_dev(ids.size() * sizeof(StartOutcome)),
        theta_dev(theta.size() * sizeof(double));
    check(cudaMemcpyAsync(ids_dev.as<void>(), ids.data(), ids.size() * sizeof(int64_t), cudaMemcpyHostToDevice, stream),
          "cudaMemcpyAsync task ids");
    a.task_ids = ids_dev.as<int64_t>();
    a.total = static_cast<int64_t>(ids.size());
    a.outcome = best_dev.as<StartOutcome>();
    a.theta = theta_dev.as<double>();
    launch_fits(a, dev, mapped, nullptr, j.cancel);
    check(cudaMemcpyAsync(best.data(), best_dev.as<void>(), best.size() * sizeof(StartOutcome), cudaMemcpyDeviceToHost,
                          stream), "cudaMemcpyAsync best outcomes");
    check(cudaMemcpyAsync(theta.data(), theta_dev.as<void>(), theta.size() * sizeof(double), cudaMemcpyDeviceToHost,
                          stream), "cudaMemcpyAsync parameters");
    check(cudaStreamSynchronize(stream), "scaling refit");
  }

  for (int64_t r = 0; r < R; ++r) {
    FitResult& res = out[r];
    res = FitResult();
    res.n_params = P;
    res.n_starts = S;
    res.starts_at_optimum = red[r].at_optimum;
    res.converged_starts = red[r].converged;
    res.evaluations = red[r].evaluations;
    res.best_start = -1;
    res.objective = NAN;
    for (int i = 0; i < kMaxParams; ++i) res.theta[i] = NAN;
  }
  for (size_t i = 0; i < which.size(); ++i) {
    FitResult& res = out[which[i]];
    res.best_start = red[which[i]].best;
    res.objective = best[i].f;
    res.iterations = best[i].iterations;
    res.status = static_cast<FitStatus>(best[i].status);
    res.converged = status_converged(res.status);
    for (int p = 0; p < P; ++p) res.theta[p] = theta[i * P + p];
  }
}

}  // namespace scaling
}  // namespace lw
