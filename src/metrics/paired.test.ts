import { describe, expect, it } from 'vitest';
import { InternalError } from '../errors.js';
import { collapseTrials, judgeRegressions, mcnemarMidP, pairResults, type PairableResult } from './paired.js';

const r = (traceId: string, agree: boolean | null, caseId = `case-${traceId}`, trial = 0): PairableResult => ({
  traceId,
  caseId,
  trial,
  agree,
});

describe('pairResults', () => {
  it('pairs by trace id and trial, and counts flips both ways', () => {
    const baseline = [r('t1', true), r('t2', true), r('t3', false), r('t4', false), r('t5', true)];
    const candidate = [r('t5', true), r('t4', true), r('t3', false), r('t2', false), r('t1', true)];
    expect(pairResults(baseline, candidate)).toEqual({
      pairs: [
        { key: 'trace:t5#0', traceId: 't5', baseline: true, candidate: true },
        { key: 'trace:t4#0', traceId: 't4', baseline: false, candidate: true },
        { key: 'trace:t3#0', traceId: 't3', baseline: false, candidate: false },
        { key: 'trace:t2#0', traceId: 't2', baseline: true, candidate: false },
        { key: 'trace:t1#0', traceId: 't1', baseline: true, candidate: true },
      ],
      regressions: ['t2'],
      fixes: ['t4'],
      unpaired: { baseline: 0, candidate: 0 },
      undecided: 0,
      lost: [],
    });
  });

  it('keeps trials apart: trial 1 pairs with trial 1 only', () => {
    const baseline = [r('t1', true, 'c1', 0), r('t1', false, 'c1', 1)];
    const candidate = [r('t1', false, 'c1', 1), r('t1', false, 'c1', 0), r('t1', true, 'c1', 2)];
    const paired = pairResults(baseline, candidate);
    expect(paired.pairs.map((p) => p.key)).toEqual(['trace:t1#1', 'trace:t1#0']);
    // trial 1: false → false (no flip); trial 0: true → false (a regression); trial 2 has no partner
    expect(paired.regressions).toEqual(['t1']);
    expect(paired.fixes).toEqual([]);
    expect(paired.unpaired).toEqual({ baseline: 0, candidate: 1 });
  });

  it('falls back to case id and trial when the baseline came from another trace set', () => {
    const baseline = [r('old-1', true, 'c1'), r('old-2', false, 'c2'), r('old-3', true, 'c3')];
    const candidate = [r('new-1', false, 'c1'), r('new-2', true, 'c2'), r('new-9', true, 'c9')];
    expect(pairResults(baseline, candidate)).toEqual({
      pairs: [
        { key: 'case:c1#0', traceId: 'new-1', baseline: true, candidate: false },
        { key: 'case:c2#0', traceId: 'new-2', baseline: false, candidate: true },
      ],
      regressions: ['new-1'],
      fixes: ['new-2'],
      unpaired: { baseline: 1, candidate: 1 }, // old-3 (c3) and new-9 (c9)
      undecided: 0,
      lost: [],
    });
  });

  it('prefers the trace id: a baseline result taken by its trace id is not reused by case id', () => {
    // new-x shares case c1 with t1, but t1 is paired by its own trace id first.
    const baseline = [r('t1', true, 'c1')];
    const candidate = [r('new-x', false, 'c1'), r('t1', true, 'c1')];
    const paired = pairResults(baseline, candidate);
    expect(paired.pairs).toEqual([{ key: 'trace:t1#0', traceId: 't1', baseline: true, candidate: true }]);
    expect(paired.regressions).toEqual([]);
    expect(paired.unpaired).toEqual({ baseline: 0, candidate: 1 });
  });

  it('leaves out of the pairs, and counts as undecided, partners with no comparable outcome', () => {
    const baseline = [r('t1', null), r('t2', true), r('t3', true)];
    const candidate = [r('t1', true), r('t2', null), r('t3', false)];
    const paired = pairResults(baseline, candidate);
    expect(paired.pairs).toEqual([{ key: 'trace:t3#0', traceId: 't3', baseline: true, candidate: false }]);
    expect(paired.regressions).toEqual(['t3']);
    expect(paired.undecided).toBe(2);
    expect(paired.unpaired).toEqual({ baseline: 0, candidate: 0 });
  });

  it('a trace repeated on one side pairs once; the extra copy is unpaired', () => {
    const paired = pairResults([r('t1', true)], [r('t1', false), r('t1', true)]);
    expect(paired.pairs).toHaveLength(1);
    expect(paired.regressions).toEqual(['t1']);
    expect(paired.unpaired).toEqual({ baseline: 0, candidate: 1 });
  });
});

/** The mid-p in exact rational arithmetic: (2·Σ_{k>b} C(n,k) + C(n,b)) / 2^(n+1). An oracle for large n. */
function exactMidP(b: number, n: number): number {
  let c = 1n; // C(n, 0)
  let tail = 0n;
  let atB = 0n;
  for (let k = 0; k <= n; k++) {
    if (k === b) atB = c;
    if (k > b) tail += c;
    c = (c * BigInt(n - k)) / BigInt(k + 1);
  }
  const num = 2n * tail + atB;
  const den = 1n << BigInt(n + 1);
  return Number((num << 80n) / den) / 2 ** 80;
}

describe('mcnemarMidP (one-sided, H1: more regressions than fixes)', () => {
  it('3 regressions, 0 fixes: ½·P(X = 3) = ½·⅛ = 0.0625', () => {
    expect(mcnemarMidP(3, 0)).toBeCloseTo(0.0625, 15);
  });

  it('6 regressions, 2 fixes: (C(8,7) + C(8,8) + ½·C(8,6)) / 256 = (8 + 1 + 14) / 256 = 23/256', () => {
    expect(mcnemarMidP(6, 2)).toBeCloseTo(23 / 256, 15); // 0.08984375
  });

  it('0 regressions, 3 fixes: P(X > 0) + ½·P(X = 0) = 7/8 + 1/16 = 15/16', () => {
    expect(mcnemarMidP(0, 3)).toBeCloseTo(15 / 16, 15);
  });

  it('2 regressions, 6 fixes is the complement of 6 against 2: 1 − 23/256 = 233/256', () => {
    expect(mcnemarMidP(2, 6)).toBeCloseTo(233 / 256, 15);
  });

  it('as many regressions as fixes gives exactly ½', () => {
    // midP(b) + midP(n − b) = 1 and b = n − b
    expect(mcnemarMidP(4, 4)).toBe(0.5);
    expect(mcnemarMidP(5000, 5000)).toBe(0.5);
    // one more regression puts it just below ½: 0.5 − ½·(P(X = 5000) + P(X = 5001)) ≈ 0.5 − 0.00798
    expect(mcnemarMidP(5001, 4999)).toBeCloseTo(exactMidP(5001, 10_000), 12);
    expect(mcnemarMidP(5001, 4999)).toBeLessThan(0.5);
  });

  it('is null with no discordant pairs', () => {
    expect(mcnemarMidP(0, 0)).toBeNull();
  });

  it('matches exact rational arithmetic for large n', () => {
    for (const [b, c] of [[170, 130], [1050, 950], [5100, 4900], [4950, 5050], [60, 10]] as const) {
      const exact = exactMidP(b, b + c);
      expect(Math.abs(mcnemarMidP(b, c)! - exact) / exact).toBeLessThan(1e-10);
    }
  });

  it('n = 10,000 with 5100 regressions is near the normal tail 1 − Φ(2) = 0.02275', () => {
    // X ~ Bin(10000, ½): mean 5000, sd 50, (5100 − 5000)/50 = 2; the mid-p needs no continuity correction.
    expect(mcnemarMidP(5100, 4900)).toBeCloseTo(0.02275, 3);
  });

  it('stays finite and in [0, 1] at the extremes of n = 10,000', () => {
    // ½·2^−10000 underflows to 0; its complement is 1.
    expect(mcnemarMidP(10_000, 0)).toBe(0);
    expect(mcnemarMidP(0, 10_000)).toBe(1);
  });

  it('rejects counts that are not non-negative integers', () => {
    expect(() => mcnemarMidP(-1, 2)).toThrow(InternalError);
    expect(() => mcnemarMidP(1.5, 2)).toThrow(InternalError);
  });
});

describe('judgeRegressions', () => {
  it('passes within the maximum, whatever the test would say', () => {
    expect(judgeRegressions({ regressions: 2, fixes: 0, max: 2 })).toEqual({
      status: 'pass',
      reason: '2 regressions, within the maximum of 2 (0 fixes)',
    });
  });

  it('fails on a significant worsening past the maximum', () => {
    // mid-p(6, 0) = ½·2^−6 = 0.0078125 < 0.05
    expect(judgeRegressions({ regressions: 6, fixes: 0, max: 2 })).toEqual({
      status: 'fail',
      reason:
        '6 regressions against 0 fixes exceed the maximum of 2 and are a significant worsening (McNemar mid-p = 0.0078, below alpha 0.05)',
    });
  });

  it('fails 4 regressions and no fix: few pairs, but mid-p(4, 0) = ½·½⁴ = 1/32 = 0.03125 < 0.05', () => {
    expect(judgeRegressions({ regressions: 4, fixes: 0, max: 1 }).status).toBe('fail');
  });

  it('is inconclusive when the discordant pairs are too few for any outcome to be significant', () => {
    // 3 pairs: even 3 regressions give mid-p ½·½³ = 1/16 = 0.0625 ≥ 0.05
    expect(judgeRegressions({ regressions: 3, fixes: 0, max: 1 })).toEqual({
      status: 'inconclusive',
      reason: '3 regressions against 0 fixes exceed the maximum of 1, but 3 discordant pair(s) are too few to decide (the smallest possible mid-p is 0.063, alpha 0.05)',
    });
  });

  it('is inconclusive when fixes offset the regressions (not significant)', () => {
    // mid-p(6, 2) = 23/256 = 0.0898 ≥ 0.05
    expect(judgeRegressions({ regressions: 6, fixes: 2, max: 3 })).toEqual({
      status: 'inconclusive',
      reason: '6 regressions against 2 fixes exceed the maximum of 3, but the worsening is not significant (McNemar mid-p = 0.09, alpha 0.05)',
    });
  });

  it('honours alpha', () => {
    // mid-p(6, 2) = 0.0898 < 0.1 fails with alpha 0.1
    expect(judgeRegressions({ regressions: 6, fixes: 2, max: 3, alpha: 0.1 }).status).toBe('fail');
    // p = alpha is not below alpha
    expect(judgeRegressions({ regressions: 6, fixes: 2, max: 3, alpha: mcnemarMidP(6, 2)! }).status).toBe('inconclusive');
  });

  it('writes a tiny p as "< 0.0001" and a single regression or fix in the singular', () => {
    // mid-p(20, 1) = (1 + ½·21) / 2^21 = 11.5 / 2097152 = 5.5e−6
    expect(judgeRegressions({ regressions: 20, fixes: 1, max: 0 }).reason).toBe(
      '20 regressions against 1 fix exceed the maximum of 0 and are a significant worsening (McNemar mid-p < 0.0001, below alpha 0.05)',
    );
    expect(judgeRegressions({ regressions: 1, fixes: 1, max: 1 }).reason).toBe('1 regression, within the maximum of 1 (1 fix)');
  });
});

describe('collapseTrials', () => {
  it('keeps one row per trace: the majority of its decided trials, a tie or nothing decided undecided', () => {
    const rows = [
      r('t1', true, 'c1', 0), r('t1', true, 'c1', 1), r('t1', false, 'c1', 2), // 2 of 3 agree → agrees
      r('t2', true, 'c2', 0), r('t2', false, 'c2', 1), // 1 of 2 → tie → undecided
      r('t3', null, 'c3', 0), r('t3', false, 'c3', 1), // 0 of 1 decided → disagrees
      r('t4', null, 'c4', 0),
    ];
    expect(collapseTrials(rows)).toEqual([r('t1', true, 'c1', 0), r('t2', null, 'c2', 0), r('t3', false, 'c3', 0), r('t4', null, 'c4', 0)]);
  });

  it('collapses recorded trials of one case with trace ids of their own (tau-bench) into one row', () => {
    const rows = [r('task-1-0', true, 'task-1', 0), r('task-1-1', true, 'task-1', 1), r('task-1-2', false, 'task-1', 2), r('task-2-0', false, 'task-2', 0)];
    expect(collapseTrials(rows)).toEqual([r('task-1-0', true, 'task-1', 0), r('task-2-0', false, 'task-2', 0)]);
  });

  it('lists the traces that agreed in the baseline and cannot be judged now (the infrastructure stopped them) as lost, not as regressions', () => {
    // t1: an infrastructure failure leaves agree null; t2: the candidate's own failure is judged false (buildResult), a regression.
    const paired = pairResults([r('t1', true), r('t2', true)], [r('t1', null), r('t2', false)]);
    expect(paired).toMatchObject({ regressions: ['t2'], lost: ['t1'], undecided: 1 });
  });
});
