import { pct, pp, usd, ms } from '../format.js';
import { tooFewForLowerBound, tooFewForUpperBound } from '../gate/evidence-checks.js';
import { tracesForUpperBound } from '../metrics/power.js';
import type { RateMetric } from '../metrics/rate.js';
import type { WindowReport } from './analysis.js';
import type { WindowComparison } from './compare.js';
import type { WindowFigures } from './accumulator.js';
import type { DriftThresholds } from './config.js';

/** One threshold on the latest window: its value, its limit and whether it was crossed. */
export interface DriftCheck {
  /** The threshold's key in the config, e.g. `agreement.maxDrop`. */
  name: string;
  value: number | null;
  threshold: number;
  /** `inconclusive`: the figure is absent in this source or window; a threshold with no data never passes. */
  status: 'pass' | 'fail' | 'inconclusive';
  reason: string;
}

export type DriftVerdict = 'pass' | 'fail' | 'inconclusive';

export interface DriftJudgement {
  verdict: DriftVerdict;
  reason: string;
  checks: DriftCheck[];
}

type Direction = 'max' | 'min';

/** How a checked value reads (default `<what> <value>`), what its limit is called (default the direction), and why it is missing (default: no data). */
interface Wording {
  said?: (x: number) => string;
  limit?: string;
  missing?: string;
}

function check(name: string, value: number | null, threshold: number | undefined, direction: Direction, show: (x: number) => string, what: string, wording: Wording = {}): DriftCheck[] {
  if (threshold === undefined) return [];
  if (value === null) return [{ name, value, threshold, status: 'inconclusive', reason: wording.missing ?? `no ${what} in the window or its reference` }];
  const crossed = direction === 'max' ? value > threshold : value < threshold;
  const word = direction === 'max' ? (crossed ? 'above' : 'within') : crossed ? 'below' : 'within';
  const said = wording.said ? wording.said(value) : `${what} ${show(value)}`;
  return [{ name, value, threshold, status: crossed ? 'fail' : 'pass', reason: `${said}, ${word} the ${wording.limit ?? direction} of ${show(threshold)}` }];
}

/**
 * A change of a rate in words, by the way it went: a drop of −2.3 pp reads
 * `agreement rose 2.3 pp`. Pure.
 */
export function changeWording(what: string, checked: 'drop' | 'rise'): Wording {
  const [forward, back] = checked === 'drop' ? ['dropped', 'rose'] : ['rose', 'dropped'];
  return { said: (x) => (x === 0 ? `${what} unchanged (0.0 pp)` : `${what} ${x > 0 ? forward : back} ${pp(Math.abs(x))}`), limit: `max ${checked}` };
}

/** Why a cost figure is missing where runs made model calls of unknown cost (none: the default reason). */
function unknownCost(latest: number | undefined, reference: number | null | undefined): Wording {
  const [a, b] = [latest ?? 0, reference ?? 0];
  if (a + b === 0) return {};
  const where = [a > 0 ? `${a} in the latest window` : '', b > 0 ? `${b} in its reference` : ''].filter(Boolean).join(', ');
  return { missing: `run(s) made model calls whose cost is unknown (no token usage recorded, or a model with no price under \`pricing:\`): ${where}; the cost would leave them out` };
}

/**
 * A rate's limit on the latest window, with the gate's floor of evidence: a window with too
 * few runs to show the limit with 95% confidence even at its best is inconclusive, naming how
 * many it needs, unless its whole interval is past the limit (a fail).
 */
function rateCheck(name: string, metric: RateMetric, threshold: number | undefined, direction: Direction, what: string): DriftCheck[] {
  if (threshold === undefined) return [];
  // A max of 0 is a rule (none at all), as the gate's `errorRate: { max: 0 }` is: no number of runs shows a rate of 0 with 95% confidence.
  const few = direction === 'max' && threshold === 0
    ? null
    : direction === 'min'
    ? tooFewForLowerBound(name, threshold, metric, `${what}, a point estimate,`, 'agree')
    : tooFewForUpperBound(name, threshold, metric, `${what}, a point estimate,`, 'runs', `no ${what.replace(/ rate$/, '')}`);
  return few ? [few] : check(name, metric.rate, threshold, direction, pct, what);
}

/**
 * A rate's change against its reference window: passed only where each window holds enough
 * runs that, at its best (no event at all), its own interval reaches no further than the
 * limit (as many as an upper bound of the limit needs); fewer is inconclusive, naming how many.
 * A change past the limit fails whatever the counts.
 */
function changeCheck(name: string, change: number | null, sides: [RateMetric, RateMetric | undefined], threshold: number | undefined, what: string, wording: Wording): DriftCheck[] {
  const [checked] = check(name, change, threshold, 'max', pp, what, wording);
  // A limit of 0 is a rule (no change that way at all), with no floor: see rateCheck.
  if (!checked || checked.status !== 'pass' || threshold === 0) return checked ? [checked] : [];
  // Above 0 some number of runs always suffices.
  const needed = tracesForUpperBound(threshold!)!;
  const [latest, reference] = [sides[0].n, sides[1]?.n ?? 0];
  if (latest >= needed && reference >= needed) return [checked];
  const floor = `needs at least ${needed} runs with ${what.replace(/ (drop|rise)$/, '')} on each side to show a change within ${pp(threshold!)}`;
  return [{ ...checked, status: 'inconclusive', reason: `${checked.reason}, but ${floor} (the latest window has ${latest}, its reference ${reference})` }];
}

const times = (x: number) => `${x.toFixed(2)}×`;
const plain = (x: number) => x.toFixed(3);
const count = (x: number) => String(x);

/** The most extreme per-run ratio among tools busy enough to judge (`max(r, 1/r)` largest), with its tool. */
function extremeTool(latest: WindowReport, minCalls: number): { tool: string; ratio: number } | null {
  let best: { tool: string; ratio: number; spread: number } | null = null;
  for (const [tool, shift] of Object.entries(latest.comparison?.perTool ?? {})) {
    if (shift.ratio === null || Math.max(shift.reference, shift.current) < minCalls) continue;
    const spread = shift.ratio === 0 ? Infinity : Math.max(shift.ratio, 1 / shift.ratio);
    if (!best || spread > best.spread) best = { tool, ratio: shift.ratio, spread };
  }
  return best;
}

/**
 * Judges the latest window against its reference window with the configured
 * thresholds. Any crossed threshold fails; a window (or reference) with fewer than
 * `minTraces` runs makes the verdict inconclusive, and so does a threshold on a figure
 * the window lacks (a source that does not carry it): it is listed with its reason,
 * never passed. No thresholds: pass. Pure.
 */
/** Fewer latencies than this have no 95th percentile of their own: it is their slowest one. */
const P95_MIN_RUNS = 20;

/** A p95 latency threshold, judged only where each window it reads has a 95th percentile to speak of. */
function p95Check(name: string, value: number | null, sides: (WindowFigures | null)[], threshold: number | undefined, show: (x: number) => string): DriftCheck[] {
  if (threshold === undefined) return [];
  const thin = sides.map((w, i) => ({ w, i })).find(({ w }) => w !== null && w.timed < P95_MIN_RUNS);
  if (thin) {
    const which = thin.i === 0 ? 'the latest window' : 'its reference window';
    return [{ name, value: null, threshold, status: 'inconclusive', reason: `${which} has ${thin.w!.timed} run(s) with a latency: a 95th percentile needs at least ${P95_MIN_RUNS}, below which it is the slowest run` }];
  }
  return check(name, value, threshold, 'max', show, 'p95 latency');
}

export function judgeDrift(latest: WindowReport | undefined, reference: WindowFigures | null, t: DriftThresholds, minTraces: number): DriftJudgement {
  const any = Object.values(t).some((v) => v !== undefined);
  if (!any) return { verdict: 'pass', reason: 'no thresholds configured', checks: [] };
  if (!latest) return { verdict: 'inconclusive', reason: 'no window to judge', checks: [] };
  const thin = latest.figures.traces < minTraces ? `the latest window has ${latest.figures.traces} run(s)` : reference && reference.traces < minTraces ? `its reference window has ${reference.traces} run(s)` : null;
  if (thin) return { verdict: 'inconclusive', reason: `${thin}; thresholds need at least ${minTraces} (minTraces) on each side`, checks: [] };
  const f = latest.figures;
  // The latest window always has a reference (the window before it is read even when only one is shown); a null comparison is a guard.
  const c: Partial<WindowComparison> = latest.comparison ?? {};
  const newTools = c.newTools ?? [];
  const missingTools = c.missingTools ?? [];
  const neg = (x: number | null) => (x === null ? null : -x);
  const tool = t.toolRatio ? extremeTool(latest, t.toolRatio.minCalls) : null;
  const checks: DriftCheck[] = [
    ...check('maxJsd', c.jsd ?? null, t.maxJsd, 'max', plain, 'tool-call JSD'),
    ...check('maxPsi', c.psi ?? null, t.maxPsi, 'max', plain, 'tool-call PSI'),
    ...(t.toolRatio
      ? tool === null
        ? [{ name: 'toolRatio.max', value: null, threshold: t.toolRatio.max, status: 'inconclusive' as const, reason: `no tool with ${t.toolRatio.minCalls}+ calls in both windows` }]
        : [{
            name: 'toolRatio.max',
            value: tool.ratio,
            threshold: t.toolRatio.max,
            status: Math.max(tool.ratio, tool.ratio === 0 ? Infinity : 1 / tool.ratio) > t.toolRatio.max ? ('fail' as const) : ('pass' as const),
            reason: `${tool.tool} called ${times(tool.ratio)} as often per run (limit ${times(t.toolRatio.max)} either way)`,
          }]
      : []),
    ...check('newTools.max', latest.comparison ? newTools.length : null, t.newTools?.max, 'max', count, `new tools (${newTools.join(', ') || 'none'}):`),
    ...check('missingTools.max', latest.comparison ? missingTools.length : null, t.missingTools?.max, 'max', count, `vanished tools (${missingTools.join(', ') || 'none'}):`),
    ...rateCheck('agreement.min', f.agreement, t.agreement?.min, 'min', 'agreement'),
    ...changeCheck('agreement.maxDrop', neg(c.agreementChange ?? null), [f.agreement, reference?.agreement], t.agreement?.maxDrop, 'agreement drop', changeWording('agreement', 'drop')),
    ...rateCheck('overrideRate.max', f.overrideRate, t.overrideRate?.max, 'max', 'override rate'),
    ...changeCheck('overrideRate.maxRise', c.overrideRateChange ?? null, [f.overrideRate, reference?.overrideRate], t.overrideRate?.maxRise, 'override rate rise', changeWording('override rate', 'rise')),
    ...rateCheck('escalationRate.max', f.escalationRate, t.escalationRate?.max, 'max', 'escalation rate'),
    ...changeCheck('escalationRate.maxRise', c.escalationRateChange ?? null, [f.escalationRate, reference?.escalationRate], t.escalationRate?.maxRise, 'escalation rate rise', changeWording('escalation rate', 'rise')),
    ...rateCheck('errorRate.max', f.errorRate, t.errorRate?.max, 'max', 'error rate'),
    ...changeCheck('errorRate.maxRise', c.errorRateChange ?? null, [f.errorRate, reference?.errorRate], t.errorRate?.maxRise, 'error rate rise', changeWording('error rate', 'rise')),
    ...check('costPerCompletedUsd.max', f.costPerCompletedUsd, t.costPerCompletedUsd?.max, 'max', usd, 'cost per completed run', unknownCost(f.costUnknown, null)),
    ...check('costPerCompletedUsd.maxRatio', c.costPerCompletedRatio ?? null, t.costPerCompletedUsd?.maxRatio, 'max', times, 'cost per completed run', unknownCost(f.costUnknown, reference?.costUnknown ?? null)),
    ...p95Check('p95LatencyMs.max', f.p95LatencyMs, [f], t.p95LatencyMs?.max, ms),
    ...p95Check('p95LatencyMs.maxRatio', c.p95LatencyRatio ?? null, [f, reference], t.p95LatencyMs?.maxRatio, times),
  ];
  const failed = checks.filter((x) => x.status === 'fail');
  const missing = checks.filter((x) => x.status === 'inconclusive');
  if (failed.length > 0) return { verdict: 'fail', reason: `crossed: ${failed.map((x) => x.name).join(', ')}`, checks };
  if (missing.length > 0) return { verdict: 'inconclusive', reason: `no data, or too few runs, for ${missing.map((x) => x.name).join(', ')} (see each threshold's reason)`, checks };
  return { verdict: 'pass', reason: `${checks.length} threshold(s), none crossed`, checks };
}
