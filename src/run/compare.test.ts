import { describe, expect, it } from 'vitest';
import { decidedInBoth } from './compare.js';

const row = (traceId: string, caseId: string, agree: boolean | null) => ({ traceId, caseId, trial: 0, agree });

describe('decidedInBoth', () => {
  it('keeps a trace only where both runs decided it, then collapses each case to the majority of the trials both ran', () => {
    // Case 8: four recorded trials; the other run has a partner for two of them only (the others are undecided there).
    const a = [row('8-0', '8', true), row('8-1', '8', false), row('8-2', '8', true), row('8-3', '8', false), row('11-0', '11', false)];
    const b = [row('8-0', '8', false), row('8-1', '8', null), row('8-2', '8', false), row('8-3', '8', null), row('11-0', '11', true)];
    const [ka, kb] = decidedInBoth(a, b);
    // Over all four trials, case 8 would be a tie for a (undecided); over the two both ran, a agrees and b does not.
    expect(ka).toEqual([{ traceId: '8-0', caseId: '8', trial: 0, agree: true }, { traceId: '11-0', caseId: '11', trial: 0, agree: false }]);
    expect(kb).toEqual([{ traceId: '8-0', caseId: '8', trial: 0, agree: false }, { traceId: '11-0', caseId: '11', trial: 0, agree: true }]);
  });

  it('leaves out a case neither trial of which both decided', () => {
    const [ka, kb] = decidedInBoth([row('1-0', '1', true)], [row('1-0', '1', null)]);
    expect([ka, kb]).toEqual([[], []]);
  });
});
