/**
 * Types of the scaling-law API (docs/scaling-laws.md).
 *
 * @packageDocumentation
 */
import type { BackendChoice, NativeTuning } from '../runtime/native';

/**
 * Law to fit. `chinchilla`: L = E + A/N^α + B/D^β. `kaplan-nd`: L = [(Nc/N)^(αN/αD) + Dc/D]^αD.
 * `data-constrained` (Muennighoff et al. 2023): L = E + A/N'^α + B/D'^β with effective data
 * D' = U + U·R_D*·(1 − e^(−R_D/R_D*)), R_D = max(D/U − 1, 0), and effective parameters
 * N' = U_N + U_N·R_N*·(1 − e^(−R_N/R_N*)), U_N = min(N, N_opt(U)), R_N = N/U_N − 1, where N_opt(U) is the
 * compute-optimal N of the base law (A, B, E, α, β) for D = U tokens; needs `data.U`. Their published fit holds the
 * base parameters fixed (see {@link FitOptions.fix}) and fits R_D*, R_N*.
 */
export type ScalingLaw = 'chinchilla' | 'kaplan-nd' | 'data-constrained';

/**
 * A user-defined law L̂(θ; N, D, U) > 0 written as an expression, fitted natively (CPU and CUDA) by the same multistart
 * L-BFGS + bootstrap on log residuals, with exact forward-mode gradients. Grammar: numbers, the parameter names,
 * the variables `N`, `D`, `U` (U needs `data.U`), `+ - * /`, `^` (or `**`, right-associative), unary minus,
 * parentheses and `exp log sqrt min max pow`. Example: `{ expression: 'E + A / N^alpha + B / D^beta',
 * params: ['E', 'A', 'B', 'alpha', 'beta'] }`. Parameters are fitted as written (no log transform); give `grid`
 * axes by parameter name (required: there is no default grid), and use `bounds` to keep e.g. E, A, B > 0.
 */
export interface CustomLaw {
  /** The predicted loss L̂ in nats per token as a function of the parameters and N (parameters), D (tokens), U (unique tokens), in the grammar above. */
  expression: string;
  /** Parameter names (1–8, identifiers other than N, D, U), in θ order. */
  params: readonly string[];
}

/**
 * Objective on log residuals r = log L̂ − log L. `huber`: Σ Huber_δ(r) (a sum over runs, as in Hoffmann et al.);
 * `mse`: mean r²; `huber-likelihood`: the negative log-likelihood of Besiroglu et al. 2024 with a free scale σ,
 * Σ Huber_δ(r/e^σ) + n(ln Z(δ) + σ).
 */
export type ScalingObjective = 'huber' | 'mse' | 'huber-likelihood';

/** Training runs: parameters N, training tokens D and final loss, one entry per run (all > 0). */
export interface ScalingData {
  /**
   * Parameters per run (> 0), as your data counts them: Hoffmann et al. (and the bundled table) count all
   * parameters including embeddings, Kaplan et al. non-embedding parameters. One entry per run.
   */
  N: Float64Array | readonly number[];
  /** Training tokens per run (> 0); from compute, D = C / (6N). Same length as `N`. */
  D: Float64Array | readonly number[];
  /** Final loss per run, in nats (natural-log cross-entropy per token, > 0). Same length as `N`. */
  loss: Float64Array | readonly number[];
  /** Unique training tokens per run (U ≤ D): required by the `data-constrained` law, readable by custom laws. */
  U?: Float64Array | readonly number[];
}

/** Data-constrained law (Muennighoff et al. 2023): the Chinchilla base parameters and the repetition constants. */
export interface DataConstrainedParams extends ChinchillaParams {
  /** R_D*: the number of repetitions of the unique data after which extra epochs are worth ~1/e of fresh data. */
  rdStar: number;
  /** R_N*: the same constant for parameters in excess of the compute-optimal U_N. */
  rnStar: number;
}

/** L̂(N, D) = E + A/N^α + B/D^β. */
export interface ChinchillaParams {
  /** Coefficient of the parameter term (loss in nats × N^α), > 0. */
  A: number;
  /** Coefficient of the data term (loss in nats × D^β), > 0. */
  B: number;
  /** Irreducible loss, in nats (the loss of an infinite model on infinite data). */
  E: number;
  /** α: exponent of N (dimensionless; Hoffmann et al. fit ≈ 0.34). */
  alpha: number;
  /** β: exponent of D (dimensionless; Hoffmann et al. fit ≈ 0.28). */
  beta: number;
}

/** L̂(N, D) = [(Nc/N)^(αN/αD) + Dc/D]^αD (Kaplan et al. 2020, eq. 1.5). */
export interface KaplanParams {
  /** N_c: parameter scale (parameters, > 0). */
  Nc: number;
  /** D_c: data scale (tokens, > 0). */
  Dc: number;
  /** α_N: exponent of the parameter term. */
  alphaN: number;
  /** α_D: exponent of the data term (> 0). */
  alphaD: number;
}

/** Parameters of a law. */
export type ParamsOf<L extends ScalingLaw> = L extends 'kaplan-nd'
  ? KaplanParams
  : L extends 'data-constrained'
    ? DataConstrainedParams
    : ChinchillaParams;

/**
 * Starting points. Rows are the free raw parameters in law order: chinchilla [a, b, e, α, β] with
 * A, B, E = exp(a, b, e); kaplan-nd [ln Nc, ln Dc, αN, αD]; data-constrained [a, b, e, α, β, R_D*, R_N*]; custom: its
 * parameters. With `fix` / `tie`, rows hold only the free parameters (a tied group is given by its first member).
 */

/**
 * Give rows (`number[][]` or a row-major Float64Array) or axes whose Cartesian product is the grid (chinchilla
 * keys a, b, e, alpha, beta; kaplan-nd keys nc, dc, alphaN, alphaD; data-constrained adds rdStar, rnStar; custom:
 * the parameter names); axes of fixed or tied-follower parameters are rejected.
 */
export type GridSpec = readonly (readonly number[])[] | Float64Array | Readonly<Record<string, readonly number[]>>;

/** Bootstrap settings. */
export interface BootstrapOptions {
  /** Resamples of the runs, with replacement. */
  resamples: number;
  /** Seed of the counter-based generator: same seed, same resamples, on any thread count or backend. */
  seed: number | bigint;
  /** Refit each resample from every start of the grid (default false: from the full-data optimum). */
  gridPerResample?: boolean;
  /** Compute budget C (FLOPs) for the derived compute-optimal quantities (default 5.76e23, Chinchilla's). */
  compute?: number;
  /** Coverage of the percentile intervals (default 0.95). */
  level?: number;
}

/** Options of {@link fit}. */
export interface FitOptions<L extends ScalingLaw = ScalingLaw> {
  /** Default 'chinchilla'; or a {@link CustomLaw}. */
  law?: L | CustomLaw;
  /** Default 'huber'. */
  objective?: ScalingObjective;
  /**
   * Objective of the bootstrap refits (default: `objective`). E.g. point estimate by the Huber likelihood and the
   * paper's Huber-sum bootstrap, or the reverse; a likelihood bootstrap re-initialises σ per resample.
   */
  bootstrapObjective?: ScalingObjective;
  /**
   * Parameters held fixed, by name in natural units (e.g. `{ E: 1.69 }`; A, B, E, Nc, Dc must be > 0). The
   * default grid is then projected onto the free parameters (duplicates dropped).
   */
  fix?: Readonly<Record<string, number>>;
  /** Groups of parameters constrained equal, e.g. `[['alpha', 'beta']]` (both log-scale or both linear). */
  tie?: readonly (readonly string[])[];
  /**
   * Box constraints by name in natural units: `[lo, hi]` (±Infinity for one side). Implemented as a transform of the
   * optimiser's coordinate (lo + (hi − lo)·sigmoid(u), lo + e^u, hi − e^u; for A, B, E, Nc, Dc on the log scale),
   * so iterates never leave the box; an optimum on a bound is approached to the stopping tolerance, and starts
   * outside the box are pulled inside it.
   */
  bounds?: Readonly<Record<string, readonly [number, number]>>;
  /** Per-run weights ≥ 0 (not all 0): the objective becomes Σ w·Huber (weighted likelihood, weighted mean r²). */
  weights?: Float64Array | readonly number[];
  /** Huber threshold δ (default 1e-3). */
  delta?: number;
  /** Starts: 'default' (alias 'chinchilla' for that law) = the 4500-point Chinchilla grid, or 1225 points for kaplan-nd. */
  grid?: 'default' | 'chinchilla' | GridSpec;
  /** Bootstrap uncertainty (off by default): resamples, seed, and what to report. */
  bootstrap?: BootstrapOptions;
  /** L-BFGS iteration cap per start (default 1000). */
  maxIterations?: number;
  /** A start reached the optimum if its objective is within this relative tolerance of the best (default 1e-6). */
  optimumRelTol?: number;
  /** 'cpu', 'cuda' or 'auto' (default: LENGTHWISE_BACKEND, else auto). */
  backend?: BackendChoice;
  /**
   * CUDA: the GPUs a bootstrap's resamples are split over, each fitting a contiguous range of resamples exactly
   * as one GPU would (results do not depend on the split). 'all' (default) uses every visible GPU once the
   * bootstrap holds at least 2^18 (resample, start) fits, else device 0; a list of ordinals always splits over
   * those devices (a device listed twice runs two ranges concurrently) and runs the full-data fit on the first.
   */
  devices?: 'all' | readonly number[];
  /** Aborts the fit (the promise rejects with an AbortError). */
  signal?: AbortSignal;
  /** @internal Forces native code paths (tests and benchmarks). */
  tuning?: NativeTuning;
  /** Called as fits finish (from a timer on the event loop), and once at the end with done = total. */
  onProgress?: (done: number, total: number) => void;
}

/** How the best start stopped. */
export type FitStatus =
  | 'gradient'
  | 'relative-decrease'
  | 'step'
  | 'max-iterations'
  | 'line-search'
  | 'no-finite-start';

/** Bootstrap summary: per quantity (A, B, E, alpha, beta[, sigma], a, tokensPerParam, nOpt, dOpt). */
export interface BootstrapSummary {
  /** Resamples drawn (the option as given). */
  resamples: number;
  /** Resamples whose refit failed from every start (excluded from the summaries). */
  failed: number;
  /** Resamples whose best start met a convergence tolerance. */
  converged: number;
  /** Whether each resample was refitted from every start of the grid. */
  gridPerResample: boolean;
  /** Objective the resamples were refitted under. */
  objective: ScalingObjective;
  /** The compute budget C (FLOPs) of the derived quantities nOpt, dOpt, tokensPerParam. */
  compute: number;
  /** Coverage of `intervals` (e.g. 0.95). */
  level: number;
  /** Mean over the successful resamples, per quantity. */
  mean: Record<string, number>;
  /** Standard deviation over the successful resamples (the bootstrap standard error), per quantity. */
  stdErr: Record<string, number>;
  /** Percentile intervals [lower, upper] at `level`. */
  intervals: Record<string, [number, number]>;
  /** Every resample's value (NaN where the refit failed). */
  samples: Record<string, Float64Array>;
}

/** Result of {@link fit}. */
export interface FitResult<P = ChinchillaParams | KaplanParams | DataConstrainedParams> {
  /** The law fitted ('custom' for a {@link CustomLaw}). */
  law: ScalingLaw | 'custom';
  /** The objective minimised. */
  objectiveKind: ScalingObjective;
  /** The Huber threshold δ used (on log residuals). */
  delta: number;
  /** Fitted parameters of the law (losses in nats). */
  params: P;
  /** Fitted log scale of the residuals (huber-likelihood only). */
  sigma?: number;
  /** Raw optimum (see {@link GridSpec}; σ last for huber-likelihood). */
  theta: Float64Array;
  /** Objective at the optimum. */
  objective: number;
  /** Runs fitted. */
  runs: number;
  /** Starts of the grid tried (L-BFGS runs). */
  starts: number;
  /** Starts whose objective is within `optimumRelTol` of the best. */
  startsAtOptimum: number;
  /** Starts that met a convergence tolerance. */
  convergedStarts: number;
  /** Index of the best start in the grid (lowest on ties). */
  bestStart: number;
  /** L-BFGS iterations of the best start. */
  iterations: number;
  /** Objective evaluations over all starts. */
  evaluations: number;
  /** The best start met a convergence tolerance. */
  converged: boolean;
  /** How the best start stopped (a convergence tolerance, the iteration cap, or a failed line search). */
  status: FitStatus;
  /** Bootstrap summary, when `opts.bootstrap` was given. */
  bootstrap?: BootstrapSummary;
  /**
   * Named warnings, each `'name: explanation'`: `single-N` / `single-D` (every run has the same N or D, so that
   * term's coefficient and exponent are not separately identified), `single-budget` (every run at one compute
   * 6ND, so ln N and ln D are collinear), `collinear-N-D` (ln D an exact affine function of ln N otherwise, e.g. a
   * fixed tokens-per-parameter ratio), `overflow` (a fitted coefficient e^θ beyond float64: the fit ran off along a flat
   * direction), `single-U`, `no-repetition` (data-constrained law with D ≤ U everywhere:
   * R_D* is not identified), `no-excess-params` (N ≤ U_N everywhere: R_N* is not identified).
   */
  warnings: string[];
}

/** Compute-optimal allocation under C = 6ND. */
export interface ComputeOptimalResult {
  /** N_opt: compute-optimal parameters for the budget. */
  N: number;
  /** D_opt = C / (6 N_opt): compute-optimal training tokens. */
  D: number;
  /** D_opt / N_opt. */
  tokensPerParam: number;
  /** N_opt ∝ C^a, a = β/(α+β). */
  a: number;
  /** D_opt ∝ C^b, b = α/(α+β). */
  b: number;
}
