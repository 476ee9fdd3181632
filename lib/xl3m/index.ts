/**
 * XL3M (Wang et al. 2024): answer questions over contexts far longer than the model's window. Cut the context
 * into segments ({@link plan}), run the model on each `[segment, question]`, score each segment by the model's
 * certainty on the question ({@link score} / {@link createScorer}), keep the best ({@link select}) and splice the
 * key context ({@link keyContext}).
 *
 * @packageDocumentation
 */
export { plan, segmentBounds } from './plan';
export type { Plan, PlanOptions, Segment } from './plan';
export { score, createScorer } from './score';
export type { ScoreOptions, ScorerOptions, Xl3mScorer, Xl3mMetric, Xl3mPooling } from './score';
export { select, rankSegments } from './select';
export type { SelectOptions } from './select';
export { keyContext } from './keyContext';
export type { KeyContextOptions } from './keyContext';
export { coarseScore, sirllmScores, topTokens, detectionStatistic, llmlinguaKeepMask } from './related';
export { NgramLM, WordVocab } from './ngram';
export type { NgramOptions } from './ngram';
