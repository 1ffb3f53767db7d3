import { wilsonInterval } from './stats.js';

/** A share of yes/no outcomes with its 95% Wilson interval. */
export interface RateMetric {
  /** null when n = 0: no evidence. */
  rate: number | null;
  n: number;
  successes: number;
  ci95: [number, number] | null;
  /**
   * With trials (a case run or recorded several times), `n` counts cases and `successes` the
   * sum of each case's share of agreeing trials, seldom a whole number (the Wilson interval is
   * taken over these): these are the whole counts behind it, trials that succeeded of trials
   * judged. On every rate over cases (agreement, effects agreement and their completed-only
   * forms) of a run with trials; absent with one result per case.
   */
  trials?: { successes: number; n: number };
}

export function rateMetric(successes: number, n: number): RateMetric {
  return { rate: n === 0 ? null : successes / n, n, successes, ci95: wilsonInterval(successes, n) };
}
