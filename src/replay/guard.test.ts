import { describe, expect, it } from 'vitest';
import { aTrace } from '../testing/builders.js';
import { createToolGuard } from './guard.js';
import { createMockToolbox } from './mock-tools.js';
import { moduleRunner, type ModuleCandidate } from './module-candidate.js';
import { inProcess } from '../testing/in-process-candidate.js';
import { ReplaySession } from './session.js';

const catalog = {
  tools: [
    { name: 'get_order', effect: 'read' as const, parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'], additionalProperties: false } },
    { name: 'issue_refund', effect: 'write-irreversible' as const, ack: { status: 'ok' }, idempotencyKey: 'idempotency_key' },
    { name: 'add_note', effect: 'write-reversible' as const, ack: { ok: true } },
  ],
};

const run = async (candidate: ModuleCandidate) => {
  const trace = aTrace('t').withToolCall('get_order', { order_id: 'A1' }, { total: 5 }).build();
  const session = new ReplaySession(trace, createMockToolbox(trace, catalog, { match: 'exact', ignoreArgs: [] }), {}, undefined, createToolGuard(catalog));
  return moduleRunner(inProcess(candidate), catalog)(session, 0);
};

describe('the tool guard', () => {
  it('refuses arguments outside the tool\'s schema (fail closed) and records a schema violation', async () => {
    let caught: unknown;
    const outcome = await run(async (_input, ctx) => {
      await ctx.tools.get_order!({ order_id: 42 }).catch((error: unknown) => (caught = error));
      return { decision: 'deny' };
    });
    expect((caught as Error).message).toMatch(/get_order failed: .*must be string/);
    expect(outcome.violations).toEqual([{ kind: 'schema_violation', step: 0, tool: 'get_order', message: '/order_id must be string' }]);
    expect(outcome.steps[0]).toMatchObject({ error: { code: 'SCHEMA_VIOLATION' } });
  });

  it('reports the same write issued twice, by its idempotency key or its arguments', async () => {
    const outcome = await run(async (_input, ctx) => {
      await ctx.tools.issue_refund!({ order_id: 'A1', amount: 5, idempotency_key: 'k1' });
      await ctx.tools.issue_refund!({ order_id: 'A1', amount: 5.0, idempotency_key: 'k1' }); // a retry loop
      await ctx.tools.add_note!({ text: 'x' });
      await ctx.tools.add_note!({ text: 'y' }); // another note: not a duplicate
      await ctx.tools.get_order!({ order_id: 'A1' });
      await ctx.tools.get_order!({ order_id: 'A1' }); // reads are never effects
      return { decision: 'refund' };
    });
    expect(outcome.violations).toEqual([{ kind: 'duplicate_effect', step: 1, tool: 'issue_refund', message: 'the same issue_refund was issued earlier in this trace' }]);
  });
});
