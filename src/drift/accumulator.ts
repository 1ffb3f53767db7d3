import { createQuantileSketch } from '../metrics/quantiles.js';
import { rateMetric, type RateMetric } from '../metrics/rate.js';
import type { DriftObservation } from './observation.js';

/** The figures of one time window. Rates carry their 95% Wilson interval; absent data is null. */
export interface WindowFigures {
  /** Workflow runs in the window. */
  traces: number;
  /** Share whose decision matched the human's, over those that have both. */
  agreement: RateMetric;
  /** (edited + rejected) / reviewed, over those a person reviewed. */
  overrideRate: RateMetric;
  /** Share that escalated, over those with a recorded end. */
  escalationRate: RateMetric;
  /** Share that broke down (see RunEnd), over those with a recorded end. */
  errorRate: RateMetric;
  /** Priced cost of all runs / runs that completed or escalated; null when nothing was priced, nothing completed, or a run's cost is unknown (costUnknown). */
  costPerCompletedUsd: number | null;
  totalCostUsd: number | null;
  /** Runs whose cost is unknown (no model step, or an unpriced model). */
  unpriced: number;
  /** Runs that made a model call whose cost cannot be known (no usage, or no price): with any, the window's cost is null, not lower. */
  costUnknown: number;
  /** 95th percentile of the runs' latency (bounded sketch: within 1% past 4,096 values). */
  p95LatencyMs: number | null;
  /** Runs with a recorded latency: what the 95th percentile is taken over. */
  timed: number;
  /** Tool calls by tool name, and their sum. */
  tools: Record<string, number>;
  toolCalls: number;
}

/**
 * Folds the observations of one window, one at a time, in memory bounded by the
 * number of tool names (and the quantile sketch's buckets), not by the number of
 * runs. Pure.
 */
export function createWindowAccumulator() {
  let traces = 0, agreeN = 0, agree = 0, reviewed = 0, overridden = 0, ended = 0, escalated = 0, errored = 0;
  let completed = 0, cost = 0, priced = 0, unpriced = 0, costUnknown = 0, toolCalls = 0, timed = 0;
  const latency = createQuantileSketch();
  const tools: Record<string, number> = {};

  return {
    add(o: DriftObservation): void {
      traces++;
      if (o.agree !== null) { agreeN++; if (o.agree) agree++; }
      if (o.verdict !== null) { reviewed++; if (o.verdict !== 'accepted') overridden++; }
      if (o.end !== null) {
        ended++;
        if (o.end === 'escalated') escalated++;
        if (o.end === 'error') errored++;
        if (o.end === 'completed' || o.end === 'escalated') completed++;
      }
      if (o.costUsd !== null) { cost += o.costUsd; priced++; } else unpriced++;
      if (o.costUnknown) costUnknown++;
      if (o.latencyMs !== null) {
        latency.add(o.latencyMs);
        timed++;
      }
      for (const name of o.tools) tools[name] = (tools[name] ?? 0) + 1;
      toolCalls += o.tools.length;
    },
    finish(): WindowFigures {
      return {
        traces,
        agreement: rateMetric(agree, agreeN),
        overrideRate: rateMetric(overridden, reviewed),
        escalationRate: rateMetric(escalated, ended),
        errorRate: rateMetric(errored, ended),
        costPerCompletedUsd: priced === 0 || completed === 0 || costUnknown > 0 ? null : cost / completed,
        totalCostUsd: priced === 0 || costUnknown > 0 ? null : cost,
        unpriced,
        costUnknown,
        p95LatencyMs: latency.quantile(0.95),
        timed,
        tools: Object.fromEntries(Object.entries(tools).sort(([a], [b]) => a.localeCompare(b))),
        toolCalls,
      };
    },
  };
}
