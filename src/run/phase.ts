import { assessPromotion, candidateRuns, promotionThresholds, type PhaseRun, type PromotionAssessment, type PromotionThresholds, type SetAsideRun } from '../phases/promotion.js';
import { callsPerTool, reversibilityMatrix } from '../phases/reversibility.js';
import { latestVerdicts, suggestWithQueue } from '../phases/review-queue.js';
import type { RunMetrics, SuggestSettings } from '../metrics/summary.js';
import type { ResolvedSuite } from '../suite/load.js';
import { isEvidenceRun, type RunRecord, type Store } from '../store/types.js';
import type { Phase } from '../trace/schema.js';

export const PHASE_SCHEMA_ID = 'shadowgate.phase/v1';

/** What `shadowgate phase` reports of one suite (`--json`: one of `suites` in `shadowgate.phase/v1`). */
export interface SuitePhaseReport extends PromotionAssessment {
  suite: string;
  file: string;
  /** The phase the suite file is set to run in. */
  suitePhase: Phase;
  thresholds: PromotionThresholds;
  /** The run whose tool calls decided which tools count; null when none (every catalog tool counts). */
  usageRunId: string | null;
}

interface StoredSummary {
  metrics?: Partial<RunMetrics>;
  /** What the run's suggest figures were computed with; absent in runs stored before it was kept. */
  settings?: SuggestSettings & { evidenceHash?: string };
  shard?: unknown;
  issues?: number;
  counts?: { noOutcome?: { infrastructure?: { traces?: number } } };
  coverage?: { unjudgedCandidate?: number } | null;
  gate?: { checks?: { name: string; status: string; reason?: string }[] };
}

/**
 * Whether a run read all the evidence it was given: its coverage check passed (every trace
 * line read into a result, or the loss the suite accepts with `gate.coverage.min`), or, without
 * a coverage check, it reported no bad line, lost no trace to the infrastructure (a provider
 * that failed, a cassette miss: missing evidence) and left no recorded candidate trace of a
 * judged case without a partner. A run that could not read its input earns no promotion.
 */
function readItsInput(summary: StoredSummary): boolean {
  const coverage = summary.gate?.checks?.find((c) => c.name === 'coverage');
  if (coverage) return coverage.status === 'pass';
  return (summary.issues ?? 0) === 0 && (summary.counts?.noOutcome?.infrastructure?.traces ?? 0) === 0 && (summary.coverage?.unjudgedCandidate ?? 0) === 0;
}

type StoredPhaseRun = PhaseRun & { perTool?: RunMetrics['toolCallDrift']['perTool']; settings?: SuggestSettings };

/**
 * Why a finished run of a whole suite is no evidence: it could not read its input, or its
 * comparator compared nothing (compare.decision.fields names no field any decision has: no
 * agreement or override figure to credit). Null: it is evidence.
 */
function whyNotEvidence(summary: StoredSummary & { metrics: Partial<RunMetrics> }): string | null {
  if (!readItsInput(summary)) {
    const coverage = summary.gate?.checks?.find((c) => c.name === 'coverage');
    return coverage?.reason ? `its coverage check was ${coverage.status}: ${coverage.reason}` : 'it did not read or judge all its input (unreadable trace lines, traces lost to the infrastructure, or recorded candidate traces without a partner)';
  }
  const nothing = summary.metrics.comparedNothing;
  if (nothing) return `its comparator compared nothing (compare.decision.fields names ${nothing.fields.map((f) => JSON.stringify(f)).join(', ')}, which no decision has)`;
  return null;
}

/**
 * Why a run was made under other rules than the suite's now (its `evidenceHash`: the traces read,
 * the tool catalog, reference, comparator, mocks, budgets, policy, sandbox, pricing, trials or SLA),
 * or by a shadowgate that did not keep them: a run of a suite of the same name whose figures need
 * not mean what they would mean now. Null: the same rules.
 */
function otherRules(summary: StoredSummary, evidenceHash: string): string | null {
  const kept = summary.settings?.evidenceHash;
  if (kept === evidenceHash) return null;
  return kept === undefined
    ? 'it was stored by an older shadowgate, which did not keep the rules it was judged by: run the suite again'
    : 'it was made under other rules than the suite file\'s now (traces, tool catalog, reference, compare, mocks, budgets, policy, sandbox, pricing, trials or sla differ; description, phase, gate, promotion and review may change): run the suite again';
}

/**
 * A finished run of a whole suite (not a shard, not an A/A replica) that read its input, with
 * its figures; a finished whole run that is no evidence, with why (`phase` names it rather than
 * saying there is no run); anything else (unfinished, a shard, a replica) is left out.
 */
function asPhaseRun(run: RunRecord, evidenceHash: string): StoredPhaseRun | SetAsideRun | null {
  const summary = run.summary as StoredSummary | null;
  if (!isEvidenceRun(run) || !summary?.metrics || summary.shard) return null;
  const why = otherRules(summary, evidenceHash) ?? whyNotEvidence({ ...summary, metrics: summary.metrics });
  if (why) return { runId: run.runId, phase: run.phase, candidateHash: run.candidateHash, startedAt: run.startedAt, why } satisfies SetAsideRun;
  const { agreement, overrideRate, phase, toolCallDrift } = summary.metrics;
  return {
    runId: run.runId,
    phase: run.phase,
    candidate: run.candidate,
    candidateHash: run.candidateHash,
    startedAt: run.startedAt,
    metrics: { agreement, overrideRate, phase },
    perTool: toolCallDrift?.perTool,
    ...(summary.settings ? { settings: summary.settings } : {}),
  };
}

/**
 * A suggest run's figures with the verdicts people gave in the review queue since: its stored
 * results counted again as the run counted them, with the settings it kept, each queue verdict in
 * place of the run's own for its result (suggestWithQueue). Without a queue verdict, the stored
 * figures as they are. A run stored before runs kept their settings cannot be counted again the
 * same way: its queue verdicts are then reported as uncounted, and its override rate is no evidence.
 */
function withReviewQueue(run: StoredPhaseRun, store: Store): StoredPhaseRun {
  const verdicts = latestVerdicts(store, run.runId);
  if (verdicts.size === 0) return { ...run, fromQueue: 0 };
  if (!run.settings) {
    return { ...run, uncountedQueue: { verdicts: verdicts.size, reason: 'the run was stored before runs kept the review settings their figures are computed with; run the suite again' } };
  }
  const { fromQueue, ...suggest } = suggestWithQueue(store.results(run.runId), run.settings, verdicts);
  const { accepted, edited, rejected } = suggest;
  return { ...run, metrics: { ...run.metrics, overrideRate: { ...suggest.overrideRate, accepted, edited, rejected }, phase: { suggest } }, fromQueue };
}

/**
 * The evidence in the store for the suite's candidate as the suite file names it now, and the
 * highest phase it allows under the reversibility matrix of the suite's catalog. The suggest
 * run's override rate counts the verdicts given in the review queue since the run. The tools that
 * count are those called in the candidate's latest run; without a run, every catalog tool.
 * `store` null: no store yet, so no evidence.
 */
export function assessSuitePhase(suite: ResolvedSuite, store: Store | null): SuitePhaseReport {
  const read = (store?.listRuns({ suite: suite.name }) ?? []).map((r) => asPhaseRun(r, suite.evidenceHash)).filter((r) => r !== null);
  const stored = read.filter((r): r is StoredPhaseRun => !('why' in r));
  const setAside = read.filter((r): r is SetAsideRun => 'why' in r);
  // The override rate's rung is judged on the candidate's latest suggest run: the review queue counts in its figures.
  const judged = candidateRuns(stored, suite.candidateHash).find((r) => r.phase === 'suggest');
  const runs = judged && store ? stored.map((r) => (r === judged ? withReviewQueue(r, store) : r)) : stored;
  const thresholds = promotionThresholds(suite);
  // Newest first, as the store lists them.
  const usage = runs.find((r) => r.candidateHash === suite.candidateHash && r.perTool);
  const matrix = reversibilityMatrix(suite.catalog, { calls: usage?.perTool && callsPerTool(usage.perTool), shadowPeriod: thresholds.shadowPeriod });
  const assessment = assessPromotion({ candidateHash: suite.candidateHash, runs, matrix, thresholds, setAside });
  return {
    suite: suite.name,
    file: suite.file,
    suitePhase: suite.phase,
    thresholds,
    usageRunId: usage?.runId ?? null,
    ...assessment,
    candidate: assessment.candidate ?? suite.candidateLabel,
  };
}
