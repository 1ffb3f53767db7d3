import { describe, expect, it } from 'vitest';
import { aTrace } from '../testing/builders.js';
import { caseIdOf, TRACE_SCHEMA_ID, TraceSchema } from './schema.js';

const minimal = { schema: TRACE_SCHEMA_ID, id: 't1', workflow: 'refund-triage', input: { order_id: 'A1' }, steps: [] };

describe('TraceSchema', () => {
  it('accepts a minimal trace and keeps it as written', () => {
    expect(TraceSchema.parse(minimal)).toEqual(minimal);
  });

  it('accepts a full trace made by the builder', () => {
    const trace = aTrace('t2')
      .withCaseId('case-2')
      .withInput('refund please')
      .withModelStep([{ name: 'get_order', args: { order_id: 'A1' } }], { inputTokens: 10, outputTokens: 2 })
      .withToolCall('get_order', { order_id: 'A1' }, { total: 20 })
      .withFailedToolCall('issue_refund', { amount: 20 }, 'timeout')
      .withHumanDecision({ action: 'refund' }, [{ name: 'issue_refund', args: { amount: 20 } }])
      .withOutcome('completed', { action: 'refund' })
      .build();
    expect(TraceSchema.safeParse(trace)).toEqual({ success: true, data: trace });
    expect(trace.steps.map((s) => s.type)).toEqual(['llm', 'tool', 'tool']);
  });

  it('rejects a wrong schema id', () => {
    const result = TraceSchema.safeParse({ ...minimal, schema: 'shadowgate.trace/v2' });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path)).toEqual([['schema']]);
  });

  it('requires input (null is a valid input, absent is not)', () => {
    const { input: _input, ...noInput } = minimal;
    const missing = TraceSchema.safeParse(noInput);
    expect(missing.success).toBe(false);
    expect(missing.error?.issues.map((i) => ({ path: i.path, message: i.message }))).toEqual([
      { path: ['input'], message: 'input is required' },
    ]);
    expect(TraceSchema.safeParse({ ...minimal, input: null }).success).toBe(true);
  });

  it('rejects unknown keys at the top level and inside steps', () => {
    const result = TraceSchema.safeParse({
      ...minimal,
      stepz: [],
      steps: [{ type: 'tool', name: 'get_order', args: {}, reslt: 1 }],
    });
    expect(result.error?.issues.map((i) => ({ code: i.code, path: i.path }))).toEqual(
      expect.arrayContaining([
        { code: 'unrecognized_keys', path: [] },
        { code: 'unrecognized_keys', path: ['steps', 0] },
      ]),
    );
  });

  it('rejects an unknown step type and a bad outcome status', () => {
    expect(TraceSchema.safeParse({ ...minimal, steps: [{ type: 'thought' }] }).success).toBe(false);
    expect(TraceSchema.safeParse({ ...minimal, outcome: { status: 'done' } }).success).toBe(false);
  });

  it('rejects negative or fractional token counts', () => {
    const step = (usage: unknown) => ({ type: 'llm', model: 'm', output: {}, usage });
    expect(TraceSchema.safeParse({ ...minimal, steps: [step({ inputTokens: -1, outputTokens: 0 })] }).success).toBe(false);
    expect(TraceSchema.safeParse({ ...minimal, steps: [step({ inputTokens: 1.5, outputTokens: 0 })] }).success).toBe(false);
    expect(TraceSchema.safeParse({ ...minimal, steps: [step({ inputTokens: 1, outputTokens: 0 })] }).success).toBe(true);
  });
});

describe('caseIdOf', () => {
  it('is the caseId when set, else the id', () => {
    expect(caseIdOf({ id: 't1', caseId: 'c1' })).toBe('c1');
    expect(caseIdOf({ id: 't1' })).toBe('t1');
  });
});
