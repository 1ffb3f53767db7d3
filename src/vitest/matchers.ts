import type { RateMetric } from '../metrics/rate.js';
import { interval, ms, pct, usd } from '../format.js';
import type { TraceResult } from '../replay/types.js';
import type { Step } from '../trace/schema.js';

/**
 * What the run matchers read of a run: `runSuite` of `shadowgate/vitest` returns one.
 * Pure: no Vitest here, so that the messages can be tested as plain values.
 */
export interface RunLike {
  meta: { suite: string; reference: string; candidate: string };
  metrics: { agreement: RateMetric; cost: { totalUsd: number | null; inputTokens: number | null; outputTokens: number | null } };
  results: readonly TraceResult[];
}

/** The reference a run compares with: the human decisions, or the recorded agent's. */
export type Reference = 'human' | 'recorded';

export interface AgreementExpectation {
  /** The least agreement rate, in [0, 1]. */
  min: number;
  /** `lower`: the lower end of the 95% Wilson interval must reach `min`, as in the suite's gate; `point`: the rate itself. @default 'lower' */
  bound?: 'lower' | 'point';
}

/**
 * - `ordered`: exactly these calls, in this order;
 * - `unordered`: exactly these calls, in any order (each name as many times as listed);
 * - `subset`: at least these calls, in any order; others may come too.
 */
export type ToolCallMode = 'ordered' | 'unordered' | 'subset';

/** Limits on one trace (on a run: on each of its traces), and on a run's totals. */
export interface Budget {
  /** Model spend of one trace, USD. */
  maxCostUsd?: number;
  /** Input + output tokens of one trace. */
  maxTokens?: number;
  /** Steps (model and tool) the candidate took on one trace. */
  maxSteps?: number;
  /**
   * The candidate's estimated production latency on one trace (its result's `latencyMs`): its own
   * time plus the recorded latency of each model answer and tool call, not the replay's wall time.
   */
  maxLatencyMs?: number;
  /** A run only: its model spend over all traces, USD. */
  maxTotalCostUsd?: number;
  /** A run only: input + output tokens over all traces. */
  maxTotalTokens?: number;
}

export interface MatcherResult {
  pass: boolean;
  message: () => string;
  actual?: unknown;
  expected?: unknown;
}

/** How many trace ids a message lists before "and N more". */
const SHOWN = 5;

const traceLabel = (r: Pick<TraceResult, 'traceId' | 'trial'>) => (r.trial ? `${r.traceId}#${r.trial}` : r.traceId);
const listIds = (ids: string[]) => (ids.length <= SHOWN ? ids.join(', ') : `${ids.slice(0, SHOWN).join(', ')} and ${ids.length - SHOWN} more`);

function isRun(value: unknown): value is RunLike {
  const v = value as Partial<RunLike> | null;
  return typeof v === 'object' && v !== null && typeof v.meta === 'object' && typeof v.metrics === 'object' && Array.isArray(v.results);
}

function hasSteps(value: unknown): value is { steps: Step[]; traceId?: string; id?: string; trial?: number } {
  return typeof value === 'object' && value !== null && Array.isArray((value as { steps?: unknown }).steps);
}

const describeValue = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value);

/**
 * `expect(run).toAgreeWith('human', { min: 0.85 })`: the run's agreement with the reference
 * reaches `min` (on the lower 95% bound unless `bound: 'point'`), as the suite's
 * `gate.agreement` check reads it. A run in which no trace could be compared has no
 * agreement to judge: the matcher throws, with `.not` as without.
 */
export function agreeWith(received: unknown, reference: Reference, expectation: AgreementExpectation, isNot: boolean): MatcherResult {
  if (!isRun(received)) throw new TypeError(`toAgreeWith takes a run from runSuite(), got ${describeValue(received)}`);
  if (typeof expectation?.min !== 'number' || expectation.min < 0 || expectation.min > 1) {
    throw new TypeError('toAgreeWith needs { min } between 0 and 1, e.g. toAgreeWith(\'human\', { min: 0.85 })');
  }
  if (received.meta.reference !== reference) {
    // A misuse, not a result: with .not it would pass for the wrong reason.
    throw new TypeError(
      `toAgreeWith('${reference}'): suite ${received.meta.suite} compares with ${received.meta.reference}, not ${reference}; set reference: ${reference} in the suite, or assert toAgreeWith('${received.meta.reference}', …)`,
    );
  }
  const { min, bound = 'lower' } = expectation;
  const m = received.metrics.agreement;
  const value = bound === 'lower' ? (m.ci95?.[0] ?? null) : m.rate;
  const what = bound === 'lower' ? 'lower 95% bound of agreement' : 'agreement';
  const notCompared = received.results.filter((r) => r.agree === null).length;
  const notComparedLine = notCompared > 0 ? [`  not compared (no outcome, or no reference decision): ${notCompared} trace(s)`] : [];
  if (m.n === 0 || value === null) {
    // Unknown is not a result either way: with .not it would pass.
    throw new Error(
      [`toAgreeWith('${reference}'): the ${what} of ${received.meta.candidate} is unknown: no trace could be compared (n = 0)`, ...notComparedLine].join('\n'),
    );
  }
  const pass = value >= min;
  const disagreeing = received.results.filter((r) => r.agree === false).map(traceLabel);
  const message = () =>
    [
      `expected the ${what} of ${received.meta.candidate} with ${reference} ${isNot ? 'to stay below' : 'to reach'} ${pct(min)}`,
      `  agreement ${pct(m.rate)} (${m.successes}/${m.n}), 95% CI ${interval(m.ci95, pct)}${bound === 'lower' ? `: lower bound ${pct(value)}` : ''}`,
      ...(disagreeing.length > 0 ? [`  disagreeing: ${listIds(disagreeing)}`] : []),
      ...notComparedLine,
    ].join('\n');
  return { pass, message };
}

/** A multiset of names: name → count. */
function countNames(names: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return counts;
}

/** The names of `a` not matched by one in `b`, each as often as it is missing. */
function missingFrom(a: readonly string[], b: readonly string[]): string[] {
  const left = countNames(b);
  return a.filter((n) => {
    const k = left.get(n) ?? 0;
    if (k > 0) left.set(n, k - 1);
    return k === 0;
  });
}

const MODE_WORDS: Record<ToolCallMode, string> = {
  ordered: 'exactly these calls, in this order',
  unordered: 'exactly these calls, in any order',
  subset: 'at least these calls, in any order',
};

/**
 * `expect(result).toCallTools(['get_order', 'issue_refund'], { mode: 'unordered' })`: the tool
 * steps of one trace's result (or of a recorded trace), compared by name as `mode` says.
 */
export function callTools(received: unknown, expected: readonly string[], options: { mode?: ToolCallMode } | undefined, isNot: boolean): MatcherResult {
  if (isRun(received)) {
    throw new TypeError("toCallTools takes one trace's result, not a run: pick one with run.results.find((r) => r.traceId === '…'), or use replayTrace()");
  }
  if (!hasSteps(received)) throw new TypeError(`toCallTools takes a trace result (or a trace) with steps, got ${describeValue(received)}`);
  const mode = options?.mode ?? 'ordered';
  if (!(mode in MODE_WORDS)) throw new TypeError(`toCallTools: unknown mode ${String(mode)} (ordered, unordered or subset)`);
  const called = received.steps.filter((s) => s.type === 'tool').map((s) => s.name);
  const missing = missingFrom(expected, called);
  const extra = missingFrom(called, expected);
  const pass =
    mode === 'ordered'
      ? called.length === expected.length && called.every((name, i) => name === expected[i])
      : mode === 'unordered'
        ? missing.length === 0 && extra.length === 0
        : missing.length === 0;
  const id = received.traceId ?? received.id;
  const message = () =>
    [
      `expected ${id ? `${id} ` : ''}${isNot ? 'not ' : ''}to call ${mode === 'subset' ? 'at least ' : ''}${expected.join(', ') || 'no tool'} (${mode}: ${MODE_WORDS[mode]})`,
      `  called: ${called.join(' → ') || 'no tool'}`,
      ...(!isNot && missing.length > 0 ? [`  missing: ${missing.join(', ')}`] : []),
      ...(!isNot && mode === 'unordered' && extra.length > 0 ? [`  not expected: ${extra.join(', ')}`] : []),
    ].join('\n');
  // The diff Vitest prints under the message: the sequences as they are compared.
  const diff = mode === 'ordered' ? { actual: called, expected: [...expected] } : mode === 'unordered' ? { actual: [...called].sort(), expected: [...expected].sort() } : {};
  return { pass, message, ...diff };
}

interface Limit {
  key: keyof Budget;
  /** This limit's figure of one trace: null when unknown. */
  figure?: (r: TraceResult) => number | null;
  /** This limit's figure of a whole run. */
  total?: (run: RunLike) => number | null;
  format: (x: number) => string;
  unknown: string;
}

const tokensOf = (r: TraceResult) => (r.usage ? r.usage.inputTokens + r.usage.outputTokens : null);
const LIMITS: Limit[] = [
  { key: 'maxCostUsd', figure: (r) => r.costUsd, format: usd, unknown: 'no priced model usage' },
  { key: 'maxTokens', figure: tokensOf, format: String, unknown: 'no model usage recorded' },
  { key: 'maxSteps', figure: (r) => r.steps.length, format: String, unknown: 'no steps' },
  { key: 'maxLatencyMs', figure: (r) => r.latencyMs, format: ms, unknown: 'not timed' },
  { key: 'maxTotalCostUsd', total: (run) => run.metrics.cost.totalUsd, format: usd, unknown: 'no priced model usage' },
  {
    key: 'maxTotalTokens',
    total: ({ metrics: { cost } }) => (cost.inputTokens === null && cost.outputTokens === null ? null : (cost.inputTokens ?? 0) + (cost.outputTokens ?? 0)),
    format: String,
    unknown: 'no model usage recorded',
  },
];

/** One limit checked: a line of the message, whether it held, and whether a figure it needs is unknown. */
function checkLimit(limit: Limit, max: number, subject: RunLike | TraceResult): { ok: boolean; unknown: boolean; line: string } {
  const head = `${limit.key} ${limit.format(max)}`;
  if (limit.total) {
    const value = limit.total(subject as RunLike);
    if (value === null) return { ok: false, unknown: true, line: `? ${head}: unknown (${limit.unknown})` };
    return { ok: value <= max, unknown: false, line: `${value <= max ? '✓' : '✗'} ${head}: ${limit.format(value)} in all` };
  }
  // Unpaired results are traces the candidate never ran.
  const results = isRun(subject) ? subject.results.filter((r) => r.status !== 'unpaired') : [subject];
  const figures = results.map((r) => ({ r, value: limit.figure!(r) }));
  const unknown = figures.filter((f) => f.value === null).length;
  const over = figures.filter((f) => f.value !== null && f.value > max);
  const worst = figures.reduce<{ r: TraceResult; value: number | null } | null>((w, f) => (f.value !== null && (w === null || f.value > w.value!) ? f : w), null);
  const most = worst ? `${results.length > 1 ? 'the most ' : ''}${limit.format(worst.value!)} (${traceLabel(worst.r)})` : 'no figure';
  const parts = [
    ...(over.length > 0 ? [`${over.length} of ${results.length} trace(s) over: ${listIds(over.map((f) => traceLabel(f.r)))}`] : []),
    ...(unknown > 0 ? [`unknown for ${unknown} of ${results.length} trace(s) (${limit.unknown})`] : []),
    most,
  ];
  const ok = over.length === 0 && unknown === 0 && results.length > 0;
  const unknowable = unknown > 0 || results.length === 0;
  return { ok, unknown: unknowable, line: `${ok ? '✓' : unknowable ? '?' : '✗'} ${head}: ${parts.join('; ')}` };
}

/**
 * `expect(run or result).toStayWithinBudget({ maxSteps: 12, maxLatencyMs: 5000 })`: every limit
 * given holds, on one trace's result or on every trace of a run (and the run's totals). A
 * figure the run does not have (no priced model usage, say), or a run with no trace, cannot be
 * judged: the matcher throws and says so, with `.not` as without, rather than reading it as zero.
 */
export function stayWithinBudget(received: unknown, budget: Budget, isNot: boolean): MatcherResult {
  const run = isRun(received);
  if (!run && !(hasSteps(received) && 'status' in received)) {
    throw new TypeError(`toStayWithinBudget takes a run from runSuite() or one trace's result, got ${describeValue(received)}`);
  }
  const given = Object.entries(budget ?? {});
  const unknownKeys = given.filter(([k]) => !LIMITS.some((l) => l.key === k)).map(([k]) => k);
  if (unknownKeys.length > 0) throw new TypeError(`toStayWithinBudget: unknown limit ${unknownKeys.join(', ')} (${LIMITS.map((l) => l.key).join(', ')})`);
  if (given.length === 0) throw new TypeError(`toStayWithinBudget needs at least one limit (${LIMITS.map((l) => l.key).join(', ')})`);
  const totals = given.filter(([k]) => LIMITS.find((l) => l.key === k)!.total);
  if (!run && totals.length > 0) throw new TypeError(`toStayWithinBudget: ${totals.map(([k]) => k).join(', ')} limit a run, not one trace`);

  const checks = LIMITS.filter((l) => budget[l.key] !== undefined).map((l) => checkLimit(l, budget[l.key]!, received as RunLike | TraceResult));
  const subject = run ? `the run of ${received.meta.candidate} on ${received.meta.suite}` : (received as TraceResult).traceId;
  if (checks.some((c) => c.unknown)) {
    // Unknown is not a result either way: with .not it would pass.
    throw new Error([`toStayWithinBudget: the budget of ${subject} cannot be judged: a figure is unknown`, ...checks.map((c) => `  ${c.line}`)].join('\n'));
  }
  const pass = checks.every((c) => c.ok);
  const message = () => [`expected ${subject} ${isNot ? 'to exceed its budget' : 'to stay within budget'}`, ...checks.map((c) => `  ${c.line}`)].join('\n');
  return { pass, message };
}
