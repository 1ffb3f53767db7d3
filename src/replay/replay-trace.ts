import { effectsAgree, effectsOf, decisionsAgree, findDivergence, referenceOf, toolSequenceSimilarity, type DecisionComparator } from '../metrics/compare.js';
import { candidateLatency, type CandidateOutcome } from './supervise.js';
import { stepCost } from './tool-loop.js';
import type { Price } from '../providers/pricing.js';
import type { ToolCatalog } from '../trace/catalog.js';
import { caseIdOf, type Action, type Trace } from '../trace/schema.js';
import { callKey, withCallKeys } from '../trace/canonical.js';
import { rollbackNeeded } from '../phases/auto-with-review.js';
import { DECIDED_STATUSES, noOutcomeCause, type TraceResult } from './types.js';
import type { CompiledPolicy } from '../policy/evaluate.js';
import type { Violation } from './guard.js';

export interface CompareOptions {
  catalog: ToolCatalog;
  reference: 'human' | 'recorded';
  decision: DecisionComparator;
  /** Argument paths that do not count when comparing effects (`compare.effects.ignoreArgs`). */
  effectsIgnoreArgs: readonly string[];
  /** Argument paths that do not count when finding the divergence point (those of the mocks and of the effects). */
  pathIgnoreArgs: string[];
  pricing: Record<string, Price>;
  /** The suite's policy rules, checked on the candidate's calls and the status its trace ended with. */
  policy?: CompiledPolicy;
}

/**
 * Compares what a candidate did on a trace with the trace's reference and
 * assembles the trace's result. Pure.
 */
export function buildResult(
  trace: Trace,
  trial: number,
  outcome: CandidateOutcome,
  source: { file: string; line: number },
  options: CompareOptions,
): TraceResult {
  // Pure and synchronous: each call's arguments are keyed once, however many comparisons key them.
  return withCallKeys(() => assembleResult(trace, trial, outcome, source, options));
}

function assembleResult(trace: Trace, trial: number, outcome: CandidateOutcome, source: { file: string; line: number }, options: CompareOptions): TraceResult {
  const reference = referenceOf(trace, options.reference, options.catalog);
  const decided = DECIDED_STATUSES.includes(outcome.status);
  const effects = effectsOf(outcome.steps, options.catalog);
  const { costUsd, usage } = costAndUsage(outcome, options.pricing);
  const violations = [...(outcome.violations ?? []), ...policyViolations(trace, outcome, options.policy)];
  const cause = noOutcomeCause(outcome.status, outcome.error);
  // In the order results.json lists a result's keys (see resultDocument), so that a stored result is written as stored.
  return {
    traceId: trace.id,
    caseId: caseIdOf(trace),
    status: outcome.status,
    agree: judged(reference.decision != null, cause, () => decisionsAgree(outcome.decision, reference.decision, options.decision)),
    effectsAgree: judged(reference.effects != null, cause, () => effectsAgree(effects, reference.effects!, options.effectsIgnoreArgs)),
    sequenceSimilarity: toolSequenceSimilarity(outcome.steps, trace.steps),
    divergence: findDivergence(outcome.steps, trace.steps, options.pathIgnoreArgs),
    costUsd,
    latencyMs: outcome.latencyMs,
    trial,
    ...(cause ? { cause } : {}),
    decision: outcome.decision ?? null,
    effects,
    usage,
    error: outcome.error,
    reference: { decision: reference.decision ?? null, ...recordedCalls(trace), ...reviewOf(trace) },
    ...(violations.length ? { violations } : {}),
    ...(trace.tags?.length ? { tags: trace.tags } : {}),
    unsafeEffect: unsafeEffect(decided, effects, reference.effects, options),
    rollback: decided && reference.effects != null ? rollbackNeeded(effects, reference.effects, effectClassOf(options.catalog), options.effectsIgnoreArgs) : null,
    source,
    input: trace.input,
    steps: outcome.steps,
  };
}

/**
 * Whether the candidate agrees with a reference: compared where it reached an outcome,
 * false where it reached none by its own doing, null (missing evidence) where the
 * infrastructure stopped it or there is nothing to compare with.
 */
export function judged(hasReference: boolean, cause: ReturnType<typeof noOutcomeCause>, compare: () => boolean): boolean | null {
  if (!hasReference || cause === 'infrastructure') return null;
  return cause === 'candidate' ? false : compare();
}

/**
 * The policy rules the candidate's calls broke. Found here, from the steps, for every kind
 * of candidate: a call refused during the replay is still among its steps, and a recorded
 * candidate's calls were never refused.
 */
function policyViolations(trace: Trace, outcome: CandidateOutcome, policy: CompiledPolicy | undefined): Violation[] {
  return (policy?.breaches(trace.workflow, outcome.steps, outcome.status) ?? []).map((b) => ({ kind: 'policy_violation', rule: b.rule, step: b.step, tool: b.tool, message: b.message }));
}

/**
 * Whether the candidate made a hard-to-undo effect the reference did not. A trace that
 * ended without a decision (an error, a budget, off-trace) counts only if it made one
 * before it stopped: the harm is done either way; one that made none tells nothing.
 */
function unsafeEffect(decided: boolean, effects: readonly Action[], reference: readonly Action[] | undefined | null, options: { catalog: ToolCatalog; effectsIgnoreArgs: readonly string[] }): boolean | null {
  if (reference == null) return null;
  const unsafe = extraEffects(hardToUndo(effects, options.catalog), hardToUndo(reference, options.catalog), options.effectsIgnoreArgs);
  return decided || unsafe ? unsafe : null;
}

/** Whether the candidate made an effect the reference did not make (as many times). */
function extraEffects(candidate: readonly Action[], reference: readonly Action[], ignoreArgs: readonly string[]): boolean {
  const left = new Map<string, number>();
  for (const e of reference) {
    const key = callKey(e.name, e.args, ignoreArgs);
    left.set(key, (left.get(key) ?? 0) + 1);
  }
  return candidate.some((e) => {
    const key = callKey(e.name, e.args, ignoreArgs);
    const n = left.get(key) ?? 0;
    left.set(key, n - 1);
    return n <= 0;
  });
}

/** A tool's effect class; a tool missing from the catalog counts as irreversible, to be safe. */
const effectClassOf = (catalog: ToolCatalog) => (tool: string) => catalog.tools.find((t) => t.name === tool)?.effect ?? 'write-irreversible';

/** Effects that cannot simply be taken back: on write-external and write-irreversible tools. */
function hardToUndo(effects: readonly Action[], catalog: ToolCatalog): Action[] {
  const classOf = effectClassOf(catalog);
  return effects.filter((e) => classOf(e.name) === 'write-external' || classOf(e.name) === 'write-irreversible');
}

function reviewOf(trace: Trace): { review?: NonNullable<TraceResult['reference']['review']> } {
  const h = trace.human;
  if (!h || (h.verdict === undefined && h.final === undefined && h.reviewMs === undefined)) return {};
  return {
    review: {
      ...(h.verdict ? { verdict: h.verdict } : {}),
      ...(h.final !== undefined ? { final: h.final } : {}),
      ...(h.reviewMs !== undefined ? { reviewMs: h.reviewMs } : {}),
      ...(trace.outcome?.decision !== undefined ? { reviewed: trace.outcome.decision } : {}),
    },
  };
}

/** A reference trace with no partner in a recorded candidate's set: listed, never compared. */
export function unpairedResult(trace: Trace, trial: number, source: { file: string; line: number }): TraceResult {
  return {
    traceId: trace.id,
    caseId: caseIdOf(trace),
    trial,
    status: 'unpaired',
    agree: null,
    effectsAgree: null,
    sequenceSimilarity: null,
    divergence: null,
    costUsd: null,
    latencyMs: null,
    decision: null,
    effects: [],
    usage: null,
    error: null,
    reference: { decision: null, ...recordedCalls(trace) },
    source,
    input: trace.input,
    steps: [],
  };
}

function recordedCalls(trace: Trace): { tools: string[]; args: Record<string, unknown>[] } {
  const calls = trace.steps.filter((s) => s.type === 'tool');
  return { tools: calls.map((s) => s.name), args: calls.map((s) => s.args) };
}

/** A recorded candidate: its trace of the same case is its outcome. */
export function recordedOutcome(candidate: Trace): CandidateOutcome {
  const known = candidate.steps.some((s) => s.latencyMs !== undefined);
  const base = { steps: candidate.steps, latencyMs: known ? candidateLatency(0, 0, candidate.steps) : null };
  if (!candidate.outcome) {
    return { ...base, status: 'error', decision: undefined, error: { code: 'RECORDING_HAS_NO_OUTCOME', message: `candidate trace ${candidate.id} has no outcome` } };
  }
  return { ...base, status: candidate.outcome.status, decision: candidate.outcome.decision, output: candidate.outcome.output, error: null };
}

function costAndUsage(outcome: CandidateOutcome, pricing: Record<string, Price>): Pick<TraceResult, 'costUsd' | 'usage'> {
  let costUsd: number | null = 0;
  let usage: TraceResult['usage'] = null;
  let models = 0;
  for (const step of outcome.steps) {
    if (step.type !== 'llm') continue;
    models++;
    const cost = stepCost(step, step.costUsd, pricing);
    costUsd = cost === null || costUsd === null ? null : costUsd + cost;
    if (step.usage) {
      usage ??= { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0 };
      usage.inputTokens += step.usage.inputTokens;
      usage.outputTokens += step.usage.outputTokens;
      usage.cachedInputTokens += step.usage.cachedInputTokens ?? 0;
    }
  }
  return { costUsd: models === 0 ? null : costUsd, usage };
}
