import { describe, expect, it } from 'vitest';
import { InternalError } from '../errors.js';
import { consistency, passHatK } from './pass-k.js';

describe('passHatK', () => {
  it('n = 4, k = 2: C(c,2)/C(4,2) with C(4,2) = 6', () => {
    expect(passHatK([{ n: 4, c: 4 }], 2)).toBe(1); // 6/6
    expect(passHatK([{ n: 4, c: 3 }], 2)).toBeCloseTo(0.5, 15); // 3/6
    expect(passHatK([{ n: 4, c: 2 }], 2)).toBeCloseTo(1 / 6, 15); // 1/6
    expect(passHatK([{ n: 4, c: 1 }], 2)).toBe(0); // C(1,2) = 0
  });

  it('is the mean over cases: (1 + ½ + ⅙ + 0) / 4 = 5/12', () => {
    const cases = [{ n: 4, c: 4 }, { n: 4, c: 3 }, { n: 4, c: 2 }, { n: 4, c: 1 }];
    expect(passHatK(cases, 2)).toBeCloseTo(5 / 12, 15); // 0.416667
  });

  it('k = 1 is the mean success rate per case', () => {
    // (3/4 + 1/2) / 2 = 0.625
    expect(passHatK([{ n: 4, c: 3 }, { n: 2, c: 1 }], 1)).toBeCloseTo(0.625, 15);
  });

  it('k = n is the share of cases that succeeded on every trial', () => {
    // C(c,3)/C(3,3) is 1 only for c = 3: (1 + 0 + 0) / 3
    expect(passHatK([{ n: 3, c: 3 }, { n: 3, c: 2 }, { n: 3, c: 0 }], 3)).toBeCloseTo(1 / 3, 15);
  });

  it('falls as k grows for the same trials: 5 of 8 gives 5/8, 5/14, 5/28', () => {
    // k = 1: 5/8; k = 2: C(5,2)/C(8,2) = 10/28 = 5/14; k = 3: C(5,3)/C(8,3) = 10/56 = 5/28
    expect(passHatK([{ n: 8, c: 5 }], 1)).toBeCloseTo(5 / 8, 15);
    expect(passHatK([{ n: 8, c: 5 }], 2)).toBeCloseTo(5 / 14, 15);
    expect(passHatK([{ n: 8, c: 5 }], 3)).toBeCloseTo(5 / 28, 15);
  });

  it('leaves out cases with fewer than k trials, and is null when none is left', () => {
    // only { n: 4, c: 3 } counts: 3/6
    expect(passHatK([{ n: 1, c: 1 }, { n: 4, c: 3 }], 2)).toBeCloseTo(0.5, 15);
    expect(passHatK([{ n: 1, c: 1 }], 2)).toBeNull();
    expect(passHatK([], 1)).toBeNull();
  });

  it('rejects a k below 1 and a case with c > n', () => {
    expect(() => passHatK([{ n: 2, c: 1 }], 0)).toThrow(InternalError);
    expect(() => passHatK([{ n: 2, c: 3 }], 1)).toThrow(InternalError);
  });
});

describe('consistency', () => {
  it('is the majority outcome share: max(c, n − c) / n', () => {
    expect(consistency(3, 4)).toBe(0.75);
    expect(consistency(1, 4)).toBe(0.75); // consistently wrong is as consistent
    expect(consistency(2, 4)).toBe(0.5);
    expect(consistency(5, 5)).toBe(1);
    expect(consistency(0, 5)).toBe(1);
  });

  it('is null with no trials', () => {
    expect(consistency(0, 0)).toBeNull();
  });
});
