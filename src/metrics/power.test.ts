import { describe, expect, it } from 'vitest';
import { mulberry32 } from './bootstrap.js';
import { mcnemarMidP } from './paired.js';
import { normalQuantile, oneSampleTracesNeeded, pairedTracesNeeded, tracesForLowerBound, tracesForUpperBound } from './power.js';
import { wilsonInterval, Z95 } from './stats.js';

/** Binomial(n, p) draws by counting, with a seeded generator. */
function binomial(random: () => number, n: number, p: number): number {
  let k = 0;
  for (let i = 0; i < n; i++) if (random() < p) k++;
  return k;
}

describe('normalQuantile', () => {
  it('gives the standard normal quantiles of the printed tables', () => {
    // Values of qnorm as tabulated (R, scipy.stats.norm.ppf), to the digits shown there.
    expect(normalQuantile(0.975)).toBeCloseTo(Z95, 14);
    expect(normalQuantile(0.95)).toBeCloseTo(1.6448536269514722, 14);
    expect(normalQuantile(0.8)).toBeCloseTo(0.8416212335729143, 14);
    expect(normalQuantile(0.6)).toBeCloseTo(0.2533471031357997, 14);
    expect(normalQuantile(0.999)).toBeCloseTo(3.090232306167813, 13);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 12);
    expect(normalQuantile(0.5)).toBe(0);
  });

  it('is odd about ½', () => {
    for (const q of [0.01, 0.2, 0.4, 0.49]) expect(normalQuantile(q)).toBeCloseTo(-normalQuantile(1 - q), 14);
  });
});

describe('tracesForLowerBound', () => {
  /** The smallest n whose n/n Wilson lower bound reaches min, by trying every n. */
  const byWilson = (min: number) => {
    for (let n = 1; ; n++) if (wilsonInterval(n, n)![0] >= min) return n;
  };

  it('is the smallest suite in which every trace agreeing reaches the bound', () => {
    for (const min of [0.5, 0.8, 0.85, 0.9, 0.95, 0.99]) expect([min, tracesForLowerBound(min)]).toEqual([min, byWilson(min)]);
  });

  it('says 20 traces are too few for 0.85: 20/20 gives a lower bound of 0.839', () => {
    expect(wilsonInterval(20, 20)![0]).toBeLessThan(0.85);
    expect(tracesForLowerBound(0.85)).toBeGreaterThan(20);
  });

  it('has no answer for a bound of 1, and needs one trace for a bound of 0', () => {
    expect(tracesForLowerBound(1)).toBeNull();
    expect(tracesForLowerBound(0)).toBe(1);
  });
});

describe('tracesForUpperBound', () => {
  it('is the smallest sample in which no error keeps the upper bound within max', () => {
    for (const max of [0.01, 0.05, 0.1, 0.2]) {
      let n = 1;
      while (wilsonInterval(0, n)![1] > max) n++;
      expect([max, tracesForUpperBound(max)]).toEqual([max, n]);
    }
    expect(tracesForUpperBound(0)).toBeNull();
  });
});

describe('pairedTracesNeeded', () => {
  /** The share of simulated paired suites of n traces in which the gate's one-sided McNemar mid-p test finds the drop. */
  function simulatedPower(n: number, drop: number, discordance: number, alpha: number, seed: number, reps = 2000): number {
    const random = mulberry32(seed);
    let found = 0;
    for (let r = 0; r < reps; r++) {
      let regressions = 0;
      let fixes = 0;
      for (let i = 0; i < n; i++) {
        const u = random();
        if (u < discordance / 2 + drop) regressions++;
        else if (u < discordance + drop) fixes++;
      }
      const p = mcnemarMidP(regressions, fixes);
      if (p !== null && p < alpha) found++;
    }
    return found / reps;
  }

  it('gives about 80% power to the gate\'s McNemar test, and a smaller suite clearly less', () => {
    for (const [drop, discordance, alpha, seed] of [
      [0.05, 0.1, 0.05, 1],
      [0.1, 0.1, 0.05, 2],
      [0.05, 0.2, 0.01, 3],
      [0.02, 0.05, 0.05, 4],
    ] as const) {
      const n = pairedTracesNeeded({ drop, discordance, alpha });
      const power = simulatedPower(n, drop, discordance, alpha, seed);
      expect({ drop, discordance, alpha, off: Math.abs(power - 0.8) < 0.045 }).toEqual({ drop, discordance, alpha, off: true });
      expect(simulatedPower(Math.round(n * 0.6), drop, discordance, alpha, seed + 10)).toBeLessThan(0.72);
    }
  });

  it('needs more traces for a smaller drop and for a noisier candidate', () => {
    const base = { drop: 0.05, discordance: 0.1 };
    expect(pairedTracesNeeded({ ...base, drop: 0.02 })).toBeGreaterThan(pairedTracesNeeded(base));
    expect(pairedTracesNeeded({ ...base, discordance: 0.2 })).toBeGreaterThan(pairedTracesNeeded(base));
    expect(pairedTracesNeeded({ ...base, alpha: 0.01 })).toBeGreaterThan(pairedTracesNeeded(base));
  });
});

describe('oneSampleTracesNeeded', () => {
  it('gives about 80% power to a one-sided test of the rate against the baseline\'s', () => {
    for (const [rate, drop, seed] of [
      [0.9, 0.05, 5],
      [0.8, 0.1, 6],
    ] as const) {
      const n = oneSampleTracesNeeded({ rate, drop })!;
      const random = mulberry32(seed);
      const reps = 2000;
      let found = 0;
      const critical = rate - normalQuantile(0.95) * Math.sqrt((rate * (1 - rate)) / n);
      for (let r = 0; r < reps; r++) if (binomial(random, n, rate - drop) / n < critical) found++;
      expect(Math.abs(found / reps - 0.8)).toBeLessThan(0.045);
    }
  });

  it('asks for more traces than the paired design with little noise', () => {
    expect(oneSampleTracesNeeded({ rate: 0.9, drop: 0.05 })!).toBeGreaterThan(pairedTracesNeeded({ drop: 0.05, discordance: 0.02 }));
    expect(oneSampleTracesNeeded({ rate: 0.03, drop: 0.05 })).toBeNull();
  });
});
