import { describe, expect, it } from 'vitest';
import { aCatalog, aTrace } from '../testing/builders.js';
import { ToolCallError } from '../errors.js';
import { createMockToolbox, type MockOptions } from './mock-tools.js';
import { ReplaySession } from './session.js';

const catalog = aCatalog({
  get_order: 'read',
  get_customer: { effect: 'read', stub: { tier: 'standard' } },
  check_policy: 'read',
  issue_refund: { effect: 'write-irreversible', ack: { status: 'ok' } },
  send_email: 'write-external',
  close_ticket: { effect: 'write-reversible', stub: { closed: true } },
});

const exact: MockOptions = { match: 'exact', ignoreArgs: [] };
const byOrder: MockOptions = { match: 'by-order', ignoreArgs: [] };

const trace = aTrace()
  .withToolCall('get_order', { order_id: 'A1' }, { total: 20 })
  .withToolCall('get_order', { order_id: 'A2' }, { total: 35 })
  .withToolCall('issue_refund', { order_id: 'A1', amount: 20, idempotency_key: 'k1' }, { refund_id: 'R1' })
  .withFailedToolCall('check_policy', { order_id: 'A1' }, { code: 'unavailable' })
  .build();
const recorded = (i: number) => {
  const step = trace.steps[i];
  if (step?.type !== 'tool') throw new Error(`step ${i} is not a tool step`);
  return step;
};

describe('createMockToolbox', () => {
  it('answers an exact match with the recorded result, whatever the key order', () => {
    const box = createMockToolbox(trace, catalog, exact);
    expect(box.call('get_order', { order_id: 'A2' })).toEqual({ kind: 'result', source: 'recording', result: { total: 35 }, recorded: recorded(1) });
    expect(box.call('issue_refund', { idempotency_key: 'k1', amount: 20, order_id: 'A1' })).toEqual({
      kind: 'result',
      source: 'recording',
      result: { refund_id: 'R1' },
      recorded: recorded(2),
    });
  });

  it('matches with ignored arguments left out', () => {
    const args = { order_id: 'A1', amount: 20, idempotency_key: 'fresh-key' };
    expect(createMockToolbox(trace, catalog, exact).call('issue_refund', args)).toEqual({ kind: 'result', source: 'ack', result: { status: 'ok' } });
    expect(createMockToolbox(trace, catalog, { match: 'exact', ignoreArgs: ['idempotency_key'] }).call('issue_refund', args)).toEqual({
      kind: 'result',
      source: 'recording',
      result: { refund_id: 'R1' },
      recorded: recorded(2),
    });
  });

  it('falls back to the next unused recording of the tool only under by-order', () => {
    expect(createMockToolbox(trace, catalog, exact).call('get_order', { order_id: 'A9' })).toEqual({
      kind: 'off-trace',
      reason: 'no recorded get_order call matches these arguments, and the catalog has no stub for it',
    });
    const box = createMockToolbox(trace, catalog, byOrder);
    expect(box.call('get_order', { order_id: 'A9' })).toEqual({ kind: 'result', source: 'by-order', result: { total: 20 }, recorded: recorded(0) });
    // A1's recording is used up, so the next by-order answer is A2's...
    expect(box.call('get_order', { order_id: 'A8' })).toEqual({ kind: 'result', source: 'by-order', result: { total: 35 }, recorded: recorded(1) });
    // ...and an exact call of A1 after that reuses its (used) recording.
    expect(box.call('get_order', { order_id: 'A1' })).toEqual({ kind: 'result', source: 'recording', result: { total: 20 }, recorded: recorded(0) });
  });

  it('prefers an exact match to by-order', () => {
    const box = createMockToolbox(trace, catalog, byOrder);
    expect(box.call('get_order', { order_id: 'A2' })).toEqual({ kind: 'result', source: 'recording', result: { total: 35 }, recorded: recorded(1) });
    expect(box.call('get_order', { order_id: 'A9' })).toEqual({ kind: 'result', source: 'by-order', result: { total: 20 }, recorded: recorded(0) });
  });

  it('answers a write with no recording by its ack', () => {
    const box = createMockToolbox(trace, catalog, exact);
    expect(box.call('issue_refund', { order_id: 'A2', amount: 35 })).toEqual({ kind: 'result', source: 'ack', result: { status: 'ok' } });
  });

  it('answers an off-trace call with the stub, read or write', () => {
    const box = createMockToolbox(trace, catalog, exact);
    expect(box.call('get_customer', { customer_id: 'C1' })).toEqual({ kind: 'result', source: 'stub', result: { tier: 'standard' } });
    expect(box.call('close_ticket', { ticket_id: 'T1' })).toEqual({ kind: 'result', source: 'stub', result: { closed: true } });
  });

  it('is off-trace for a write with no recording, ack or stub', () => {
    expect(createMockToolbox(trace, catalog, exact).call('send_email', { to: 'c@example.com' })).toEqual({
      kind: 'off-trace',
      reason: 'no recorded send_email call matches these arguments, and the catalog has no ack or stub for it',
    });
  });

  it('answers a call whose recording failed with the same error', () => {
    expect(createMockToolbox(trace, catalog, exact).call('check_policy', { order_id: 'A1' })).toEqual({
      kind: 'error',
      source: 'recording',
      error: { code: 'unavailable' },
      recorded: recorded(3),
    });
  });

  it('answers repeated identical calls: each recording once, then the last one again', () => {
    const twice = aTrace()
      .withToolCall('get_order', { order_id: 'A1' }, { status: 'pending' })
      .withToolCall('get_order', { order_id: 'A1' }, { status: 'shipped' })
      .build();
    const box = createMockToolbox(twice, catalog, exact);
    const results = [1, 2, 3, 4].map(() => {
      const answer = box.call('get_order', { order_id: 'A1' });
      return answer.kind === 'result' ? answer.result : answer.kind;
    });
    expect(results).toEqual([{ status: 'pending' }, { status: 'shipped' }, { status: 'shipped' }, { status: 'shipped' }]);
  });

  it('answers a recorded step with no result with null', () => {
    const noResult = aTrace().withToolCall('send_email', { to: 'c@example.com' }).build();
    expect(createMockToolbox(noResult, catalog, exact).call('send_email', { to: 'c@example.com' })).toEqual({
      kind: 'result',
      source: 'recording',
      result: null,
      recorded: noResult.steps[0],
    });
  });

  it('is off-trace for a tool that is not in the catalog, even when the trace recorded it', () => {
    const withUnknown = aTrace().withToolCall('drop_table', { name: 'orders' }, { ok: true }).build();
    const box = createMockToolbox(withUnknown, catalog, byOrder);
    expect(box.call('drop_table', { name: 'orders' })).toEqual({ kind: 'off-trace', reason: 'tool drop_table is not in the tool catalog' });
    expect(box.tool('drop_table')).toBeUndefined();
    expect(box.tool('get_order')).toEqual({ name: 'get_order', effect: 'read' });
  });
});

describe('a candidate gets copies', () => {
  // The mocks answer with the recorded values themselves; the session copies what it gives the candidate.
  const setup = () => {
    const trace = aTrace('t').withToolCall('get_order', { order_id: 'A1' }, { total: 20 }).withStep({ type: 'tool', name: 'get_customer', args: { id: 'C1' }, error: { code: 'DOWN' } }).build();
    const tools = aCatalog({ get_order: 'read', get_customer: 'read', issue_refund: { effect: 'write-irreversible', ack: { status: 'ok' } } });
    return { trace, tools, session: new ReplaySession(trace, createMockToolbox(trace, tools, exact), {}) };
  };

  it('a candidate changing an answer changes neither the recording, the ack, the recorded step nor the next answer', async () => {
    const { trace, tools, session } = setup();
    const first = (await session.callTool('get_order', { order_id: 'A1' })) as { total: number };
    const ack = (await session.callTool('issue_refund', { order_id: 'A1', amount: 1 })) as { status: string };
    first.total = 999;
    ack.status = 'MUTATED';
    expect(await session.callTool('get_order', { order_id: 'A1' })).toEqual({ total: 20 });
    expect(await session.callTool('issue_refund', { order_id: 'A1', amount: 2 })).toEqual({ status: 'ok' });
    expect(trace.steps[0]).toMatchObject({ result: { total: 20 } });
    expect(tools.tools.find((t) => t.name === 'issue_refund')?.ack).toEqual({ status: 'ok' });
    expect(session.steps.map((s) => (s.type === 'tool' ? s.result : null))).toEqual([{ total: 20 }, { status: 'ok' }, { total: 20 }, { status: 'ok' }]);
  });

  it('a candidate changing its arguments or a failed call\'s error after the call changes neither the step nor the recording', async () => {
    const { trace, session } = setup();
    const args = { order_id: 'A1' };
    await session.callTool('get_order', args);
    args.order_id = 'CHANGED';
    const failure = await session.callTool('get_customer', { id: 'C1' }).catch((error: ToolCallError) => error);
    expect(failure).toBeInstanceOf(ToolCallError);
    (failure as ToolCallError & { recordedError: { code: string } }).recordedError.code = 'MUTATED';
    expect(session.steps[0]).toMatchObject({ args: { order_id: 'A1' } });
    expect(session.steps[1]).toMatchObject({ error: { code: 'DOWN' } });
    expect(trace.steps[1]).toMatchObject({ error: { code: 'DOWN' } });
  });
});
