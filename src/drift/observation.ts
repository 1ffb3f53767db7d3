import { decisionsAgree, type DecisionComparator } from '../metrics/compare.js';
import { costOf, priceOf, type Price } from '../providers/pricing.js';
import { DECIDED_STATUSES, hasUnknownCost, type TraceResult } from '../replay/types.js';
import type { Step, Trace } from '../trace/schema.js';

/**
 * How one workflow run ended, for the drift figures:
 * `completed` and `escalated` as recorded; `error` when it broke down (a production
 * trace that `failed` or was `aborted`; a replay that errored, diverged, was stopped by a
 * budget or a loop, or gave invalid output); `other` for a replay whose candidate decided
 * the workflow `failed` or `aborted` (its own outcome, not a breakdown of the run).
 */
export type RunEnd = 'completed' | 'escalated' | 'error' | 'other';

/** One workflow run, from a production trace or a stored replay result, reduced to what drift counts. */
export interface DriftObservation {
  /** When it happened, ms since the epoch: the trace's `recordedAt`, or the stored run's start. */
  at: number;
  /** null: the trace records no outcome. */
  end: RunEnd | null;
  /** The agent's decision against the human's; null where either is missing. */
  agree: boolean | null;
  /** A person's review of the agent's output; null where nobody reviewed it. */
  verdict: 'accepted' | 'edited' | 'rejected' | null;
  /** null: no model step, or one that cannot be priced. */
  costUsd: number | null;
  /** It made a model call whose cost cannot be known (no recorded cost, and no token usage or no price for its model): the window's cost is then unknown too, not lower. */
  costUnknown: boolean;
  /** null: no latency recorded. */
  latencyMs: number | null;
  /** The names of the tools called, in order. */
  tools: string[];
}

export interface TraceObservationOptions {
  compare: DecisionComparator;
  pricing: Record<string, Price>;
}

/**
 * When a trace was recorded, ms since the epoch: `missing` without a `recordedAt`,
 * `unparseable` when it is not a date (a bad line, to be reported with its field). Pure.
 */
export function traceTime(trace: Trace): { ok: true; at: number } | { ok: false; problem: 'missing' | 'unparseable' } {
  if (trace.recordedAt === undefined) return { ok: false, problem: 'missing' };
  const at = Date.parse(trace.recordedAt);
  return Number.isNaN(at) ? { ok: false, problem: 'unparseable' } : { ok: true, at };
}

/** A production trace as a drift observation; null without a usable `recordedAt` (see traceTime). Pure. */
export function observeTrace(trace: Trace, options: TraceObservationOptions): DriftObservation | null {
  const time = traceTime(trace);
  if (!time.ok) return null;
  const at = time.at;
  const outcome = trace.outcome;
  const decision = outcome?.decision;
  const human = trace.human?.decision;
  return {
    at,
    end: !outcome ? null : outcome.status === 'failed' || outcome.status === 'aborted' ? 'error' : outcome.status,
    agree: decision === undefined || human === undefined ? null : decisionsAgree(decision, human, options.compare),
    verdict: trace.human?.verdict ?? null,
    ...stepsCost(trace.steps, options.pricing),
    latencyMs: trace.steps.some((s) => s.latencyMs !== undefined) ? trace.steps.reduce((sum, s) => sum + (s.latencyMs ?? 0), 0) : null,
    tools: toolNames(trace.steps),
  };
}

/**
 * A stored replay result as a drift observation, at its run's start; null for an
 * unpaired trace (nothing ran). `verdict` is the review that counts for it (see driftOverRuns:
 * the queue's latest verdict, else a suggest run's own); null where none does. Pure.
 */
export function observeResult(result: TraceResult, at: number, verdict: DriftObservation['verdict']): DriftObservation | null {
  if (result.status === 'unpaired') return null;
  const decided = DECIDED_STATUSES.includes(result.status);
  return {
    at,
    end: result.status === 'completed' || result.status === 'escalated' ? result.status : decided ? 'other' : 'error',
    agree: result.agree,
    verdict,
    costUsd: result.costUsd,
    costUnknown: hasUnknownCost(result),
    // As in a run's own figures: the latency of a trace the candidate broke off says nothing of it.
    latencyMs: decided ? result.latencyMs : null,
    tools: toolNames(result.steps),
  };
}

function toolNames(steps: readonly Step[]): string[] {
  const names: string[] = [];
  for (const s of steps) if (s.type === 'tool') names.push(s.name);
  return names;
}

/** The model steps' cost, each the recorded figure or its usage priced; null when any is unknown (costUnknown) or there is none. */
function stepsCost(steps: readonly Step[], pricing: Record<string, Price>): { costUsd: number | null; costUnknown: boolean } {
  let total: number | null = null;
  for (const s of steps) {
    if (s.type !== 'llm') continue;
    const price = s.costUsd === undefined && s.usage ? priceOf(s.model, pricing) : undefined;
    const cost = s.costUsd ?? (price && s.usage ? costOf(s.usage, price) : undefined);
    if (cost === undefined) return { costUsd: null, costUnknown: true };
    total = (total ?? 0) + cost;
  }
  return { costUsd: total, costUnknown: false };
}
