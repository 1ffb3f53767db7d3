import { describe, expect, it } from 'vitest';
import { mulberry32 } from './bootstrap.js';
import { judgeNonInferiority, marginForTraces, pairedDropInterval, tracesForMargin } from './non-inferiority.js';
import { mcnemarMidP } from './paired.js';
import { Z95 } from './stats.js';

/** Regressions and fixes over n paired traces, each trace a regression with probability pReg and a fix with pFix. */
function flips(random: () => number, n: number, pReg: number, pFix: number): { regressions: number; fixes: number } {
  let regressions = 0;
  let fixes = 0;
  for (let i = 0; i < n; i++) {
    const u = random();
    if (u < pReg) regressions++;
    else if (u < pReg + pFix) fixes++;
  }
  return { regressions, fixes };
}

describe('pairedDropInterval', () => {
  it('covers the true paired drop about 95% of the time', () => {
    const random = mulberry32(11);
    for (const [n, pReg, pFix] of [
      [200, 0.06, 0.04],
      [200, 0.1, 0.02],
      [60, 0.05, 0.05],
      [500, 0.02, 0.01],
    ] as const) {
      const reps = 2000;
      let covered = 0;
      for (let r = 0; r < reps; r++) {
        const { regressions, fixes } = flips(random, n, pReg, pFix);
        const [lo, hi] = pairedDropInterval(regressions, fixes, n)!;
        if (lo <= pReg - pFix && pReg - pFix <= hi) covered++;
      }
      expect({ n, pReg, pFix, near95: Math.abs(covered / reps - 0.95) < 0.02 }).toEqual({ n, pReg, pFix, near95: true });
    }
  });

  it('with no flips, reaches z² / (n + z²) either side: Wilson\'s bound for zero events', () => {
    const z2 = Z95 * Z95;
    for (const n of [10, 200, 5000]) {
      const [lo, hi] = pairedDropInterval(0, 0, n)!;
      expect(hi).toBeCloseTo(z2 / (n + z2), 10);
      expect(lo).toBeCloseTo(-z2 / (n + z2), 10);
    }
  });

  it('holds the observed drop, and swapping regressions and fixes mirrors it', () => {
    for (const [b, c, n] of [[12, 2, 50], [6, 16, 161], [30, 10, 200], [0, 9, 40]] as const) {
      const [lo, hi] = pairedDropInterval(b, c, n)!;
      expect(lo).toBeLessThan((b - c) / n);
      expect(hi).toBeGreaterThan((b - c) / n);
      const [mlo, mhi] = pairedDropInterval(c, b, n)!;
      expect(mlo).toBeCloseTo(-hi, 10);
      expect(mhi).toBeCloseTo(-lo, 10);
    }
  });

  it('ends at 1 when every pair is a regression, and is null without pairs', () => {
    expect(pairedDropInterval(20, 0, 20)![1]).toBe(1);
    expect(pairedDropInterval(0, 0, 0)).toBeNull();
  });
});

describe('judgeNonInferiority', () => {
  it('passes an unchanged candidate whose flips cancel, when the interval stays under the margin', () => {
    const judged = judgeNonInferiority({ regressions: 9, fixes: 11, pairs: 400, margin: 0.05 });
    const [lo, hi] = pairedDropInterval(9, 11, 400)!;
    expect(judged).toEqual({
      status: 'pass',
      upper: hi,
      reason: `9 regression(s) against 11 fix(es) over 400 paired traces: drop in agreement -0.5 pts (95% interval ${(lo * 100).toFixed(1)} pts to ${(hi * 100).toFixed(1)} pts); its upper end is below the margin of 5.0 pts`,
    });
  });

  it('fails a significant drop whose interval reaches the margin', () => {
    const p = mcnemarMidP(30, 10)!;
    expect(p).toBeLessThan(0.05);
    const judged = judgeNonInferiority({ regressions: 30, fixes: 10, pairs: 200, margin: 0.05 });
    expect(judged.status).toBe('fail');
    expect(judged.reason).toMatch(new RegExp(`a significant drop \\(McNemar mid-p = ${Number(p.toPrecision(2))}, below alpha 0\\.05\\)$`));
  });

  it('is inconclusive between, and says how many traces would settle it', () => {
    // 12 against 8 over 200: drop 2 points, not significant, interval too wide for a 3-point margin.
    const judged = judgeNonInferiority({ regressions: 12, fixes: 8, pairs: 200, margin: 0.03 });
    expect(judged.status).toBe('inconclusive');
    expect(judged.reason).toContain(`about ${tracesForMargin({ discordance: 20 / 200, margin: 0.03 })} paired traces would show`);
  });

  it('passes a drop shown to lie within the margin even when it is significant, and says it is significant', () => {
    // 260 regressions against 200 fixes over 20,000 traces: a 0.3-point drop, significant, well inside a 2-point margin.
    const judged = judgeNonInferiority({ regressions: 260, fixes: 200, pairs: 20000, margin: 0.02 });
    expect(mcnemarMidP(260, 200)!).toBeLessThan(0.05);
    expect(judged.status).toBe('pass');
    expect(judged.reason).toMatch(/though the drop is significant/);
  });

  it('alpha sets how strong a drop must be to fail', () => {
    // mid-p of 25 against 12 lies between 0.01 and 0.05.
    const p = mcnemarMidP(25, 12)!;
    expect(p).toBeGreaterThan(0.01);
    expect(p).toBeLessThan(0.05);
    expect(judgeNonInferiority({ regressions: 25, fixes: 12, pairs: 200, margin: 0.02 }).status).toBe('fail');
    expect(judgeNonInferiority({ regressions: 25, fixes: 12, pairs: 200, margin: 0.02, alpha: 0.01 }).status).toBe('inconclusive');
  });
});

describe('tracesForMargin', () => {
  /** The share of simulated unchanged candidates (flips ψ₀ both ways) that pass the margin on n traces. */
  function passShare(n: number, discordance: number, margin: number, seed: number, reps = 2000): number {
    const random = mulberry32(seed);
    let passed = 0;
    for (let r = 0; r < reps; r++) {
      const { regressions, fixes } = flips(random, n, discordance / 2, discordance / 2);
      if (judgeNonInferiority({ regressions, fixes, pairs: n, margin }).status === 'pass') passed++;
    }
    return passed / reps;
  }

  it('is the suite size at which an unchanged candidate passes the margin with the power asked', () => {
    for (const [discordance, margin, power, seed] of [
      [0.1, 0.08, 0.8, 21],
      [0.1, 0.09, 0.95, 22],
      [0.04, 0.05, 0.8, 23],
      [0.2, 0.05, 0.9, 24],
    ] as const) {
      const n = tracesForMargin({ discordance, margin, power })!;
      const share = passShare(n, discordance, margin, seed);
      expect({ discordance, margin, power, near: Math.abs(share - power) < 0.04 }).toEqual({ discordance, margin, power, near: true });
    }
  });

  it('with no flips is the size whose empty interval ends below the margin', () => {
    const n = tracesForMargin({ discordance: 0, margin: 0.05 })!;
    expect(pairedDropInterval(0, 0, n)![1]).toBeLessThan(0.05);
    expect(pairedDropInterval(0, 0, n - 1)![1]).toBeGreaterThanOrEqual(0.05);
  });

  it('about quadruples when the margin halves', () => {
    const wide = tracesForMargin({ discordance: 0.1, margin: 0.08 })!;
    const tight = tracesForMargin({ discordance: 0.1, margin: 0.04 })!;
    expect(tight / wide).toBeGreaterThan(3);
    expect(tight / wide).toBeLessThan(4.5);
  });
});

describe('marginForTraces', () => {
  it('is the tightest margin the suite size supports', () => {
    for (const [discordance, traces] of [[0.1, 200], [0.03, 500], [0.2, 1000]] as const) {
      const margin = marginForTraces({ discordance, traces, power: 0.95 });
      expect(tracesForMargin({ discordance, margin, power: 0.95 })).toBeLessThanOrEqual(traces);
      expect(tracesForMargin({ discordance, margin: margin * 0.99, power: 0.95 })).toBeGreaterThan(traces);
    }
  });
});
