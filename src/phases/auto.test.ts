import { describe, expect, it } from 'vitest';
import { costTrend, slaAdherence } from './auto.js';

const round4 = (ci: [number, number] | null) => ci && ci.map((x) => Math.round(x * 1e4) / 1e4);

describe('slaAdherence', () => {
  it('share of latencies within the SLA, the limit itself included', () => {
    // 100, 200 ≤ 250; 300 > 250 → 2/3
    const m = slaAdherence([100, 200, 300], 250);
    expect(m).toMatchObject({ rate: 2 / 3, n: 3, successes: 2 });
    expect(slaAdherence([250, 251], 250)).toMatchObject({ rate: 0.5, n: 2, successes: 1 });
  });

  it('8 of 10 within has Wilson interval [0.4902, 0.9433]', () => {
    // see stats.test.ts for the hand computation of 8/10
    expect(round4(slaAdherence([1, 1, 1, 1, 1, 1, 1, 1, 9, 9], 5).ci95)).toEqual([0.4902, 0.9433]);
  });

  it('no runs: null rate; a non-finite latency is a miss', () => {
    expect(slaAdherence([], 250)).toEqual({ rate: null, n: 0, successes: 0, ci95: null });
    expect(slaAdherence([Number.NaN, 10], 250)).toMatchObject({ rate: 0.5, successes: 1 });
  });
});

describe('costTrend', () => {
  it('ratio and absolute change against the baseline', () => {
    // 3 / 2 = 1.5; 3 − 2 = 1
    expect(costTrend(3, 2)).toEqual({ ratio: 1.5, change: 1 });
    expect(costTrend(1, 4)).toEqual({ ratio: 0.25, change: -3 });
  });

  it('nulls when either side is missing; no ratio over a zero baseline', () => {
    expect(costTrend(null, 2)).toEqual({ ratio: null, change: null });
    expect(costTrend(3, null)).toEqual({ ratio: null, change: null });
    expect(costTrend(3, 0)).toEqual({ ratio: null, change: 3 });
  });
});
