import { describe, expect, it } from 'vitest';
import { aCatalog, aTrace } from '../testing/builders.js';
import { decisionDistance, decisionsAgree, effectsAgree, effectsOf, findDivergence, isWriteTool, referenceOf, toolNames, toolSequenceSimilarity, WHOLE_DECISION } from './compare.js';

const catalog = aCatalog({
  get_order: 'read',
  check_policy: 'read',
  issue_refund: 'write-irreversible',
  send_email: 'write-external',
});

describe('decisionsAgree', () => {
  const exact = { numericTolerance: 0 };

  it('compares whole decisions deeply, whatever the key order', () => {
    expect(decisionsAgree({ action: 'refund', meta: { a: 1, b: 2 } }, { meta: { b: 2, a: 1 }, action: 'refund' }, exact)).toBe(true);
    expect(decisionsAgree({ action: 'refund' }, { action: 'deny' }, exact)).toBe(false);
    expect(decisionsAgree('escalate', 'escalate', exact)).toBe(true);
    expect(decisionsAgree(['a', 'b'], ['b', 'a'], exact)).toBe(false);
  });

  it('without fields, an extra key on one side disagrees', () => {
    expect(decisionsAgree({ action: 'refund', note: 'x' }, { action: 'refund' }, exact)).toBe(false);
  });

  it('with fields, compares only those fields', () => {
    const c = { fields: ['action', 'amount'], numericTolerance: 0 };
    expect(decisionsAgree({ action: 'refund', amount: 20, note: 'a' }, { action: 'refund', amount: 20, note: 'b' }, c)).toBe(true);
    expect(decisionsAgree({ action: 'refund', amount: 20 }, { action: 'refund', amount: 25 }, c)).toBe(false);
  });

  it('with fields, a field absent on both sides agrees; absent on one side does not', () => {
    const c = { fields: ['action', 'amount'], numericTolerance: 0 };
    expect(decisionsAgree({ action: 'deny' }, { action: 'deny' }, c)).toBe(true);
    expect(decisionsAgree({ action: 'deny' }, { action: 'deny', amount: 0 }, c)).toBe(false);
    expect(decisionsAgree({ action: 'deny', amount: null }, { action: 'deny' }, c)).toBe(false);
  });

  it('numbers agree within the tolerance, at any depth, and not beyond it', () => {
    const c = { numericTolerance: 0.01 };
    expect(decisionsAgree({ amount: 10.0 }, { amount: 10.01 }, c)).toBe(true);
    expect(decisionsAgree({ lines: [{ amount: 5.005 }] }, { lines: [{ amount: 5 }] }, c)).toBe(true);
    expect(decisionsAgree({ amount: 10 }, { amount: 10.02 }, c)).toBe(false);
    expect(decisionsAgree({ amount: 10 }, { amount: 10.001 }, exact)).toBe(false);
  });

  it('a number and its string do not agree', () => {
    expect(decisionsAgree({ amount: 10 }, { amount: '10' }, { numericTolerance: 1 })).toBe(false);
  });
});

describe('effectsOf', () => {
  it('keeps calls of write tools that did not fail, in order; reads and failed writes are not effects', () => {
    const trace = aTrace()
      .withModelStep([{ name: 'get_order', args: { order_id: 'A1' } }])
      .withToolCall('get_order', { order_id: 'A1' }, { total: 20 })
      .withFailedToolCall('issue_refund', { order_id: 'A1', amount: 20 }, { code: 'timeout' })
      .withToolCall('issue_refund', { order_id: 'A1', amount: 20 }, { ok: true })
      .withToolCall('send_email', { to: 'c@example.com' })
      .build();
    expect(effectsOf(trace.steps, catalog)).toEqual([
      { name: 'issue_refund', args: { order_id: 'A1', amount: 20 } },
      { name: 'send_email', args: { to: 'c@example.com' } },
    ]);
  });

  it('treats a tool missing from the catalog as a write, to stay safe', () => {
    expect(isWriteTool(catalog, 'drop_table')).toBe(true);
    expect(isWriteTool(catalog, 'get_order')).toBe(false);
    const trace = aTrace().withToolCall('drop_table', { name: 'orders' }).build();
    expect(effectsOf(trace.steps, catalog)).toEqual([{ name: 'drop_table', args: { name: 'orders' } }]);
  });
});

describe('effectsAgree', () => {
  const refund = (amount: number, key = 'k1') => ({ name: 'issue_refund', args: { amount, idempotency_key: key } });
  const email = { name: 'send_email', args: { to: 'c@example.com' } };

  it('compares multisets: order does not matter', () => {
    expect(effectsAgree([refund(20), email], [email, refund(20)], [])).toBe(true);
  });

  it('counts repeats: one refund is not two', () => {
    expect(effectsAgree([refund(20)], [refund(20), refund(20)], [])).toBe(false);
    expect(effectsAgree([refund(20), email], [refund(20), refund(20)], [])).toBe(false);
  });

  it('compares arguments canonically and leaves ignored ones out', () => {
    expect(effectsAgree([refund(20, 'k1')], [refund(20, 'k2')], [])).toBe(false);
    expect(effectsAgree([refund(20, 'k1')], [refund(20, 'k2')], ['idempotency_key'])).toBe(true);
    expect(effectsAgree([refund(20, 'k1')], [refund(25, 'k2')], ['idempotency_key'])).toBe(false);
  });

  it('no effects on both sides agree', () => {
    expect(effectsAgree([], [], [])).toBe(true);
  });
});

describe('referenceOf', () => {
  const trace = aTrace()
    .withToolCall('get_order', { order_id: 'A1' }, { total: 20 })
    .withToolCall('issue_refund', { amount: 20 }, { ok: true })
    .withOutcome('completed', { action: 'refund', amount: 20 })
    .withHumanDecision({ action: 'deny' }, [
      { name: 'get_order', args: { order_id: 'A1' } },
      { name: 'send_email', args: { to: 'c@example.com' } },
    ])
    .build();

  it('human: the human decision and the write actions of the human', () => {
    expect(referenceOf(trace, 'human', catalog)).toEqual({
      decision: { action: 'deny' },
      effects: [{ name: 'send_email', args: { to: 'c@example.com' } }],
    });
  });

  it('recorded: the outcome decision and the recorded write steps', () => {
    expect(referenceOf(trace, 'recorded', catalog)).toEqual({
      decision: { action: 'refund', amount: 20 },
      effects: [{ name: 'issue_refund', args: { amount: 20 } }],
    });
  });

  it('human with no decision or actions recorded: both undefined, so nothing is compared', () => {
    expect(referenceOf(aTrace().build(), 'human', catalog)).toEqual({ decision: undefined, effects: undefined });
  });
});

describe('toolNames and toolSequenceSimilarity', () => {
  it('look at tool steps only', () => {
    const a = aTrace().withModelStep([]).withToolCall('get_order', {}).withModelStep([]).withToolCall('issue_refund', {}).build();
    const b = aTrace().withToolCall('get_order', {}).withToolCall('send_email', {}).build();
    expect(toolNames(a.steps)).toEqual(['get_order', 'issue_refund']);
    // one substitution over two → 1 − 1/2
    expect(toolSequenceSimilarity(a.steps, b.steps)).toBe(0.5);
  });
});

describe('findDivergence', () => {
  // recorded steps: 0 llm, 1 get_order, 2 llm, 3 issue_refund, 4 llm
  const recorded = aTrace()
    .withModelStep([{ name: 'get_order', args: { order_id: 'A1' } }])
    .withToolCall('get_order', { order_id: 'A1' }, { total: 20 })
    .withModelStep([{ name: 'issue_refund', args: { amount: 20, idempotency_key: 'k1' } }])
    .withToolCall('issue_refund', { amount: 20, idempotency_key: 'k1' }, { ok: true })
    .withModelStep([{ name: 'final_decision', args: { action: 'refund' } }])
    .build().steps;

  it('is null when the candidate takes the same path, model steps apart', () => {
    const candidate = aTrace()
      .withToolCall('get_order', { order_id: 'A1' })
      .withToolCall('issue_refund', { idempotency_key: 'k1', amount: 20.0 })
      .build().steps;
    expect(findDivergence(candidate, recorded)).toBeNull();
  });

  it('points at the first call with different arguments', () => {
    // candidate steps: 0 get_order, 1 issue_refund(25)
    const candidate = aTrace()
      .withToolCall('get_order', { order_id: 'A1' })
      .withToolCall('issue_refund', { amount: 25, idempotency_key: 'k1' })
      .build().steps;
    expect(findDivergence(candidate, recorded)).toEqual({
      stepIndex: 1,
      recordedStepIndex: 3,
      recorded: { name: 'issue_refund', args: { amount: 20, idempotency_key: 'k1' } },
      candidate: { name: 'issue_refund', args: { amount: 25, idempotency_key: 'k1' } },
    });
  });

  it('does not diverge on ignored arguments', () => {
    const candidate = aTrace()
      .withToolCall('get_order', { order_id: 'A1' })
      .withToolCall('issue_refund', { amount: 20, idempotency_key: 'other' })
      .build().steps;
    expect(findDivergence(candidate, recorded)).not.toBeNull();
    expect(findDivergence(candidate, recorded, ['idempotency_key'])).toBeNull();
  });

  it('candidate stops early: stepIndex is its step count, candidate is null', () => {
    // candidate steps: 0 llm, 1 get_order, 2 llm (final) — 3 steps
    const candidate = aTrace()
      .withModelStep([{ name: 'get_order', args: { order_id: 'A1' } }])
      .withToolCall('get_order', { order_id: 'A1' })
      .withModelStep([{ name: 'final_decision', args: { action: 'deny' } }])
      .build().steps;
    expect(findDivergence(candidate, recorded)).toEqual({
      stepIndex: 3,
      recordedStepIndex: 3,
      recorded: { name: 'issue_refund', args: { amount: 20, idempotency_key: 'k1' } },
      candidate: null,
    });
  });

  it('candidate makes an extra call: recordedStepIndex is the recording step count, recorded is null', () => {
    // candidate steps: 0 get_order, 1 issue_refund, 2 send_email; recorded has 5 steps
    const candidate = aTrace()
      .withToolCall('get_order', { order_id: 'A1' })
      .withToolCall('issue_refund', { amount: 20, idempotency_key: 'k1' })
      .withToolCall('send_email', { to: 'c@example.com' })
      .build().steps;
    expect(findDivergence(candidate, recorded)).toEqual({
      stepIndex: 2,
      recordedStepIndex: 5,
      recorded: null,
      candidate: { name: 'send_email', args: { to: 'c@example.com' } },
    });
  });

  it('a different tool first: both indexes point at the first call', () => {
    const candidate = aTrace().withModelStep([]).withToolCall('check_policy', { order_id: 'A1' }).build().steps;
    expect(findDivergence(candidate, recorded)).toEqual({
      stepIndex: 1,
      recordedStepIndex: 1,
      recorded: { name: 'get_order', args: { order_id: 'A1' } },
      candidate: { name: 'check_policy', args: { order_id: 'A1' } },
    });
  });

  it('two paths with no tool calls do not diverge', () => {
    expect(findDivergence([], [])).toBeNull();
  });
});

describe('decisionDistance', () => {
  it('objects: share of fields that differ, over the union of keys', () => {
    // keys {action, amount}; only amount differs → 1/2
    expect(decisionDistance({ action: 'refund', amount: 10 }, { action: 'refund', amount: 12 }, WHOLE_DECISION)).toBe(0.5);
    // union {a, b, c}; b only on the left, c only on the right → 2/3
    expect(decisionDistance({ a: 1, b: 2 }, { a: 1, c: 2 }, WHOLE_DECISION)).toBeCloseTo(2 / 3, 12);
  });

  it('objects: canonical values (key order, undefined members) numbers to float rounding without a tolerance', () => {
    expect(decisionDistance({ a: { y: 1, x: 2 }, b: undefined }, { a: { x: 2, y: 1 } }, WHOLE_DECISION)).toBe(0);
    // 0.1 + 0.2 = 0.30000000000000004: a difference of 5.6e-17, float rounding → equal
    expect(decisionDistance({ total: 0.1 + 0.2 }, { total: 0.3 }, WHOLE_DECISION)).toBe(0);
    // 1 vs 1.000001: 1e-6 apart, no tolerance → differs
    expect(decisionDistance({ total: 1 }, { total: 1.000001 }, WHOLE_DECISION)).toBe(1);
    expect(decisionDistance({}, {}, WHOLE_DECISION)).toBe(0);
  });

  it('strings: normalised Levenshtein distance on characters', () => {
    // kitten → sitting: 3 edits (k→s, e→i, +g) over the longer length 7
    expect(decisionDistance('kitten', 'sitting', WHOLE_DECISION)).toBeCloseTo(3 / 7, 12);
    expect(decisionDistance('', '', WHOLE_DECISION)).toBe(0);
    expect(decisionDistance('abc', '', WHOLE_DECISION)).toBe(1);
    // one of two code points differs → 1/2 (UTF-16 units would give 1/3)
    expect(decisionDistance('😀a', '😀b', WHOLE_DECISION)).toBe(0.5);
  });

  it('anything else: 0 when they agree, 1 when not', () => {
    expect(decisionDistance(0.1 + 0.2, 0.3, WHOLE_DECISION)).toBe(0);
    expect(decisionDistance([1, { b: 2, a: 1 }], [1, { a: 1, b: 2 }], WHOLE_DECISION)).toBe(0);
    expect(decisionDistance([1, 2], [2, 1], WHOLE_DECISION)).toBe(1);
    expect(decisionDistance(null, null, WHOLE_DECISION)).toBe(0);
    expect(decisionDistance('a', { a: 1 }, WHOLE_DECISION)).toBe(1);
    expect(decisionDistance(true, false, WHOLE_DECISION)).toBe(1);
  });

  it('is 0 exactly when decisionsAgree says so, with the comparator\'s fields and tolerance', () => {
    const c = { fields: ['action', 'amount'], numericTolerance: 0.01 };
    expect(decisionDistance({ action: 'refund', amount: 10.004, note: 'a' }, { action: 'refund', amount: 10, note: 'b' }, c)).toBe(0);
    expect(decisionsAgree({ action: 'refund', amount: 10.004, note: 'a' }, { action: 'refund', amount: 10, note: 'b' }, c)).toBe(true);
    // Over the two compared fields only: amount is 2 apart → 1/2.
    expect(decisionDistance({ action: 'refund', amount: 12, note: 'a' }, { action: 'refund', amount: 10 }, c)).toBe(0.5);
  });
});
