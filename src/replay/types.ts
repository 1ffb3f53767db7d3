import type { Action, OutcomeStatus, Step } from '../trace/schema.js';
import type { Violation } from './guard.js';

/** How a trace's replay ended. The first four are the candidate's own outcome. */
export type ResultStatus =
  | OutcomeStatus
  /** The candidate made a tool call with no recording and no stub: the replay could not go on. */
  | 'diverged'
  /** A budget (maxSteps, maxWallMs, maxTokens, maxCostUsd) stopped the candidate. */
  | 'budget_exceeded'
  /** The same tool call repeated `budgets.maxRepeatedCalls` times in a row. */
  | 'loop_detected'
  /** The candidate's final answer did not validate against the suite's decision schema. */
  | 'invalid_output'
  /** The candidate (or the harness, or the model provider past its retries) failed: see `error`. */
  | 'error'
  /** A recorded candidate had no trace of this case: listed, never compared. */
  | 'unpaired';

/** The statuses in which the candidate reached a decision that can be compared. */
export const DECIDED_STATUSES: readonly ResultStatus[] = ['completed', 'escalated', 'failed', 'aborted'];

/**
 * Why a trace ended without an outcome. `candidate`: the candidate's own doing (it left the
 * recorded path, ran out of its budget, looped, returned invalid output, threw or crashed):
 * evidence against it, counted as not agreeing. `infrastructure`: the harness or the data
 * failed it (a provider still failing after its retries, a cassette miss, the run's shared
 * budget, an internal error, a trace that cannot be replayed): missing evidence, left out
 * of the gated figures and lowering coverage.
 */
export type NoOutcomeCause = 'candidate' | 'infrastructure';

/** Error codes that say the harness, a provider or the data failed, not the candidate. */
const INFRASTRUCTURE_CODES: ReadonlySet<string> = new Set([
  'SG_INTERNAL', // the harness failed on this trace
  'SG_NOT_FOUND', // a cassette miss: the recording lacks the exchange
  'SG_CONFIG_INVALID',
  'SG_INPUT_INVALID',
  'SG_STORE',
  'TRACE_NOT_REPLAYABLE', // the imported trace lacks what a mock needs
  'RECORDING_HAS_NO_OUTCOME', // a recorded candidate's trace ends without one: nothing to judge
  'PROVIDER_TIMEOUT',
  'PROVIDER_CONNECTION',
]);

/**
 * The one place that decides who is to blame for a trace without an outcome: null for a
 * result with an outcome (or unpaired). Unknown error codes are the candidate's: every
 * error the harness raises itself has a code listed here, so the rest came from the candidate.
 *
 * @example
 * noOutcomeCause('diverged', null) // 'candidate'
 * noOutcomeCause('error', { code: 'PROVIDER_HTTP_503', message: '…' }) // 'infrastructure'
 */
export function noOutcomeCause(status: ResultStatus, error: Pick<ResultError, 'code'> & { budget?: unknown } | null): NoOutcomeCause | null {
  if (status === 'unpaired' || DECIDED_STATUSES.includes(status)) return null;
  // The run's shared token or cost budget (run.maxTokens, run.maxCostUsd) stops whichever trace comes next.
  if (status === 'budget_exceeded') return typeof error?.budget === 'string' && error.budget.startsWith('run.') ? 'infrastructure' : 'candidate';
  if (status !== 'error' || !error) return 'candidate';
  return INFRASTRUCTURE_CODES.has(error.code) || isInfrastructureStatus(error.code) ? 'infrastructure' : 'candidate';
}

/**
 * A provider's HTTP failure that is not the request's fault: the key (401, 403), a timeout,
 * a conflict or the rate limit (408, 409, 429), or the provider itself (5xx), still failing
 * after the retries. Any other 4xx (400 for a context the prompt overflowed, 404 for a model
 * the candidate names, 422) is the request the candidate made.
 */
function isInfrastructureStatus(code: string): boolean {
  const status = /^PROVIDER_HTTP_(\d{3})$/.exec(code)?.[1];
  if (!status) return false;
  return ['401', '403', '408', '409', '429'].includes(status) || status.startsWith('5');
}

export interface CallRef {
  name: string;
  args: Record<string, unknown>;
}

/** Where the candidate first left the recorded path of tool calls. */
export interface Divergence {
  /** Index into the candidate's steps of the first differing tool call (its step count if it stopped early). */
  stepIndex: number;
  /** Index into the recorded trace's steps of the call it should have matched (its step count if the recording ended). */
  recordedStepIndex: number;
  /** The recorded call at that point, null when the recording had no more calls. */
  recorded: CallRef | null;
  /** The candidate's call at that point, null when the candidate made no more calls. */
  candidate: CallRef | null;
}

/** How a mocked tool call was answered. */
export type MockSource = 'recording' | 'by-order' | 'ack' | 'stub' | 'off-trace';

/** A step the candidate took; tool steps say how the mock answered them, model steps whether the answer was replayed from the cache or a cassette (nothing spent). */
export type CandidateStep = Step & { mock?: MockSource; servedFrom?: 'cache' | 'cassette' | 'recording' };

export interface ResultError {
  code: string;
  message: string;
  [key: string]: unknown;
}

/** What one candidate run on one trace produced, and how it compares with the reference. */
export interface TraceResult {
  traceId: string;
  caseId: string;
  trial: number;
  status: ResultStatus;
  /**
   * Whether the decision equals the reference's: null when the reference has none, or the
   * trace ended without an outcome for a reason not the candidate's (see `cause`); false
   * when it ended without one by the candidate's doing.
   */
  agree: boolean | null;
  /** The same for the effects, against the reference's effects. */
  effectsAgree: boolean | null;
  /** Set when the trace ended without an outcome: whose doing that was (see noOutcomeCause). */
  cause?: NoOutcomeCause;
  sequenceSimilarity: number | null;
  divergence: Divergence | null;
  costUsd: number | null;
  latencyMs: number | null;
  decision: unknown;
  effects: Action[];
  usage: { inputTokens: number; outputTokens: number; cachedInputTokens: number } | null;
  error: ResultError | null;
  /** What the candidate was compared with, kept so that metrics can be recomputed from stored results. */
  reference: {
    decision: unknown;
    /** Tool names of the recorded trace's tool steps, in order. */
    tools: string[];
    /** Their arguments, in the same order (for the drift of argument values). */
    args?: Record<string, unknown>[];
    /** The human's recorded review of the recorded run, where there was one (suggest-phase figures); `reviewed` is the decision it judged. */
    review?: { verdict?: 'accepted' | 'edited' | 'rejected'; final?: unknown; reviewMs?: number; reviewed?: unknown };
  };
  /**
   * Whether someone would have to compensate what the candidate did: its effects on
   * write-external or write-irreversible tools differ from the reference's. Null when
   * it reached no outcome or the reference has no effects to compare with.
   */
  rollback?: boolean | null;
  /** Safety rules the candidate broke: arguments outside a tool's schema, the same effect issued twice. */
  violations?: Violation[];
  /** Whether the candidate made a hard-to-undo effect (write-external, write-irreversible) the reference did not: null without a comparable outcome. */
  unsafeEffect?: boolean | null;
  /** The trace's tags (`injection` marks an adversarial trace). */
  tags?: string[];
  source: { file: string; line: number };
  /** The trace's input, what the candidate was given (`show` prints it); absent in results stored before it was kept. */
  input?: unknown;
  steps: CandidateStep[];
}

/** The key of one result within a run: trace id and trial. */
export function resultKey(traceId: string, trial: number): string {
  return `${traceId}#${trial}`;
}

/**
 * File order: source file, then line, then trial. Results finish in whatever order the
 * concurrency gives; whatever names "the first" trace, or lists traces, uses this order so that
 * the same run reads the same at any concurrency. Files compare as `findFiles` sorts them.
 */
export function inFileOrder(a: Pick<TraceResult, 'source' | 'trial'>, b: Pick<TraceResult, 'source' | 'trial'>): number {
  if (a.source.file !== b.source.file) return a.source.file < b.source.file ? -1 : 1;
  return a.source.line - b.source.line || a.trial - b.trial;
}

/**
 * Whether a result's model calls have a cost that cannot be known (a model with no price, or no
 * token usage recorded): not $0, so a cost over results that leaves it out says nothing of it.
 * A result with no model call at all has none.
 */
export function hasUnknownCost(r: Pick<TraceResult, 'costUsd' | 'usage' | 'steps'>): boolean {
  return r.costUsd === null && (r.usage !== null || r.steps.some((s) => s.type === 'llm'));
}
