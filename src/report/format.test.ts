import { describe, expect, it } from 'vitest';
import { counts, countsApart } from './format.js';

describe('countsApart', () => {
  const none = { total: 5, completed: 5, escalated: 0, failed: 0, aborted: 0, diverged: 0, budgetExceeded: 0, loopDetected: 0, invalidOutput: 0, errored: 0, unpaired: 0, noReference: 0 };

  it('lists only the counts that are not zero, in a fixed order', () => {
    expect(countsApart(none)).toEqual([]);
    expect(countsApart({ ...none, escalated: 2, unpaired: 1 })).toEqual(['2 escalated', '1 unpaired']);
  });

  it('says a trace without a reference decision lacks the decision, not a reference (its effects may still be compared)', () => {
    expect(countsApart({ ...none, noReference: 200 })).toEqual(['200 no reference decision']);
  });
});

describe('counts', () => {
  it('says whole counts: as they are, the trials behind a fractional share, or a rounded weighted estimate said to be one', () => {
    expect(counts({ successes: 391, n: 480 })).toBe('391/480');
    expect(counts({ successes: 8 / 3, n: 5, trials: { successes: 8, n: 15 } })).toBe('8/15 trials over 5 cases');
    expect(counts({ successes: 12.4, n: 40 })).toBe('≈12/40 weighted');
  });
});
