import { describe, expect, it } from 'vitest';
import { countsApart } from './format.js';

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
