// The library's public API: explicit exports only.
export {
  ShadowgateError,
  ConfigError,
  InputError,
  UsageError,
  NotFoundError,
  StoreError,
  InternalError,
  OffTraceError,
  BudgetExceededError,
  ToolCallError,
  formatIssue,
  type Issue,
  type ErrorCode,
} from './errors.js';
export {
  TraceSchema,
  StepSchema,
  LlmStepSchema,
  ToolStepSchema,
  TRACE_SCHEMA_ID,
  caseIdOf,
  type Trace,
  type Step,
  type LlmStep,
  type ToolStep,
  type Action,
  type Outcome,
  type Phase,
} from './trace/schema.js';
export { ToolCatalogSchema, ToolDefinitionSchema, type ToolCatalog, type ToolDefinition, type EffectClass } from './trace/catalog.js';
export { readTraceFile, parseTraceLine, type TraceLine } from './trace/reader.js';
export { canonicalJson, callKey } from './trace/canonical.js';
export { SuiteFileSchema, type SuiteConfig, type SuiteFile, type GateConfig } from './suite/schema.js';
export { PolicySchema, type Policy, type PolicyRule, type Condition } from './policy/schema.js';
export { createPolicy, type PolicyBreach } from './policy/evaluate.js';
export type { PolicyViolationCounts } from './metrics/policy-violations.js';
export { loadSuite, loadToolCatalog, type ResolvedSuite } from './suite/load.js';
export { jsonSchemaOf, SCHEMA_KINDS, type SchemaKind } from './json-schema/generate.js';
export type { ModelProvider, ModelRequest, ModelResponse, ModelCallContext, ChatMessage, ToolSpec } from './providers/types.js';
export { createReplayProvider } from './providers/replay.js';
export { PRICING_TABLE, priceOf, costOf, type Price } from './providers/pricing.js';
export type { ModuleContext, ModuleCandidate } from './replay/module-candidate.js';
export type { TraceResult, ResultStatus, Divergence } from './replay/types.js';
export { wilsonInterval, jensenShannon, populationStabilityIndex, levenshtein, sequenceSimilarity, quantile } from './metrics/stats.js';
export type { RunMetrics, RateMetric, Counts } from './metrics/summary.js';
export { evaluateGate, gatesAnything, type GateResult, type GateCheck, type Verdict } from './gate/gate.js';
export { coverageOf, type CoverageCounts } from './gate/coverage.js';
export { reversibilityMatrix, PHASE_CAP, type ReversibilityMatrix, type ToolCap, type ShadowPeriod } from './phases/reversibility.js';
export { assessPromotion, promotionThresholds, DEFAULT_PROMOTION, type PromotionAssessment, type PromotionStep, type PromotionThresholds, type PhaseRun } from './phases/promotion.js';
export type { Store, RunMeta, RunRecord } from './store/types.js';
export { createSqliteStore } from './store/sqlite.js';
export { createMemoryStore } from './store/memory.js';
export { runSuite, type RunOptions, type RunOutcome } from './run/run-suite.js';
export { writeRunJson, RUN_SCHEMA_ID } from './report/json.js';
export { runCli } from './cli/program.js';
export { loadBaseline, type Baseline } from './run/baseline.js';
export { compareCandidates, type Comparison, type CandidateSpec } from './run/compare.js';
export { mergeRuns } from './run/merge.js';
export { renderMarkdownReport } from './report/markdown.js';
export { renderJunit } from './report/junit.js';
export { renderHtmlReport, writeHtmlReport } from './report/html.js';
export { writeReports } from './report/write.js';
export { createOpenAIProvider } from './providers/openai.js';
export { createAnthropicProvider } from './providers/anthropic.js';
export type { Importer, ImportOptions, ImportResult } from './importers/types.js';
export { importOpenAITraces } from './importers/openai.js';
export { importAnthropicTraces } from './importers/anthropic.js';
export { importTauBenchTraces } from './importers/tau-bench.js';
export { importOtelTraces } from './importers/otel.js';
