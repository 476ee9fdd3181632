/**
 * XL3M (Wang et al. 2024): answer questions over contexts far longer than the model's window. Cut the context
 * into segments ({@link plan}), run the model on each `[segment, question]`, score each segment by the model's
 * certainty on the question ({@link score} / {@link createScorer}), keep the best ({@link select}) and splice the
 * key context ({@link keyContext}).
 *
 * @example
 * ```ts
 * import { xl3m } from 'lengthwise';
 * const plan = xl3m.plan(tokens, { questionTokens: 64, segmentTokens: 4096, overlapTokens: 256 });
 * // Run your model on each row of plan.batch (plan.lengths[i] valid tokens, question at plan.questionStart[i]);
 * // its output is [S, rowLength, V]. Keep the rows that predict the question tokens: segments × q rows.
 * const S = plan.segments.length;
 * const output = { data: modelLogits, dtype: 'bfloat16' as const, rows: S * plan.rowLength, vocab: V };
 * const scores = await xl3m.score(xl3m.gatherQuestionLogits(output, plan), { segments: S });
 * const chosen = xl3m.select(scores, plan, { tokenBudget: 8192 });
 * const key = xl3m.keyContext(tokens, plan, chosen); // feed this to the model instead of the whole context
 * ```
 *
 * @packageDocumentation
 */
export { plan, segmentBounds } from './plan';
export type { Plan, PlanOptions, Segment } from './plan';
export { gatherQuestionLogits } from './gather';
export type { GatherQuestionOptions } from './gather';
export { score, createScorer } from './score';
export type { ScoreOptions, ScorerOptions, Xl3mScorer, Xl3mMetric, Xl3mPooling } from './score';
export { select, rankSegments } from './select';
export type { SelectOptions } from './select';
export { keyContext } from './keyContext';
export type { KeyContextOptions } from './keyContext';
export { coarseScore, sirllmScores, topTokens, detectionStatistic, llmlinguaKeepMask } from './related';
export type { CoarseScoreOptions } from './related';
