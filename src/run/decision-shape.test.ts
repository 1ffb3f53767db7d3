import { describe, expect, it } from 'vitest';
import { aResult } from '../testing/builders.js';
import { createDecisionShapeCheck } from './decision-shape.js';

const comparator = { fields: ['action', 'amount'], numericTolerance: 0.01 };
const at = (id: string, line: number, decision: unknown, reference: unknown, agree = false) =>
  aResult(id, { decision, agree, reference: { decision: reference, tools: [] }, source: { file: 'traces/a.jsonl', line } });

describe('createDecisionShapeCheck', () => {
  it('warns, on the first such trace, of a decision that is not an object, with how many traces are alike', () => {
    const check = createDecisionShapeCheck(comparator);
    check.add(at('t1', 1, { action: 'refund', amount: 5 }, { action: 'refund', amount: 5 }, true));
    check.add(at('t2', 2, 'refund', { action: 'refund', amount: 5 }));
    check.add(at('t3', 3, 'deny', { action: 'deny' }));
    expect(check.warnings()).toEqual([
      `the candidate's decision on t2 (traces/a.jsonl:2) is not an object ("refund"): compare.decision.fields ["action", "amount"] cannot pick fields from it, so it is compared whole; 2 traces alike`,
    ]);
  });

  it('names the earliest trace in file order (file, line, trial), whatever order the results finish in, and lists its warnings in that order', () => {
    const check = createDecisionShapeCheck(comparator);
    const inFile = (id: string, file: string, line: number, trial: number, decision: unknown) =>
      aResult(id, { trial, decision, agree: false, reference: { decision: { action: 'refund', amount: 5 }, tools: [] }, source: { file, line } });
    // Finished as a concurrent run finishes them: late lines first.
    check.add(inFile('b9', 'traces/b.jsonl', 1, 0, { action: 'refund' }));
    check.add(inFile('a7', 'traces/a.jsonl', 7, 0, 'refund'));
    check.add(inFile('a2', 'traces/a.jsonl', 2, 1, 'refund'));
    check.add(inFile('a2', 'traces/a.jsonl', 2, 0, 'refund'));
    check.add(inFile('a5', 'traces/a.jsonl', 5, 0, { action: 'refund' }));
    const warnings = check.warnings();
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(/^the candidate's decision on a2 \(traces\/a\.jsonl:2\) is not an object .*; 3 traces alike$/);
    expect(warnings[1]).toMatch(/^the candidate's decision on a5 \(traces\/a\.jsonl:5\) has no field "amount".*; 2 traces alike$/);
  });

  it('warns of a field one side lacks when it alone makes the disagreement, on either side', () => {
    const check = createDecisionShapeCheck(comparator);
    check.add(at('t1', 4, { action: 'refund' }, { action: 'refund', amount: 5 }));
    check.add(at('t2', 5, { action: 'refund', amount: 5 }, { action: 'refund' }));
    expect(check.warnings()).toEqual([
      `the candidate's decision on t1 (traces/a.jsonl:4) has no field "amount", which the reference's has and compare.decision.fields names: it disagrees by that alone ({"action":"refund"})`,
      `the reference's decision on t2 (traces/a.jsonl:5) has no field "amount", which the candidate's has and compare.decision.fields names: it disagrees by that alone ({"action":"refund"})`,
    ]);
  });

  it('says nothing of a field absent where the decisions differ anyway, or absent on both sides', () => {
    const check = createDecisionShapeCheck(comparator);
    check.add(at('t1', 1, { action: 'refund', amount: 88 }, { action: 'escalate' }));
    check.add(at('t2', 2, { action: 'escalate' }, { action: 'escalate' }, true));
    expect(check.warnings()).toEqual([]);
  });

  it('warns of a named field that no decision has (a misspelt field compares nothing)', () => {
    const check = createDecisionShapeCheck({ fields: ['action', 'amuont'], numericTolerance: 0 });
    check.add(at('t1', 1, { action: 'refund', amount: 5 }, { action: 'refund', amount: 7 }, true));
    expect(check.warnings()).toEqual([`compare.decision.fields names "amuont", which no decision on either side has over 1 compared trace(s): it compares nothing (a misspelt field?)`]);
  });

  it('looks only at compared decisions, and at nothing without fields', () => {
    const check = createDecisionShapeCheck(comparator);
    check.add(aResult('t1', { status: 'error', agree: null, decision: null }));
    // Not compared (the infrastructure stopped it): its decision's shape is no evidence either way.
    check.add({ ...at('t2', 2, 'x', { action: 'deny' }), agree: null });
    expect(check.warnings()).toEqual([]);
    const whole = createDecisionShapeCheck({ numericTolerance: 0 });
    whole.add(at('t3', 3, 'refund', { action: 'refund' }));
    expect(whole.warnings()).toEqual([]);
  });
});
