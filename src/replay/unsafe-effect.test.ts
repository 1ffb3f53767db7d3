import { describe, expect, it } from 'vitest';
import { aCatalog, aTrace } from '../testing/builders.js';
import { createMockToolbox } from './mock-tools.js';
import { moduleRunner, type ModuleCandidate } from './module-candidate.js';
import { inProcess } from '../testing/in-process-candidate.js';
import { buildResult, type CompareOptions } from './replay-trace.js';
import { ReplaySession } from './session.js';

const catalog = aCatalog({ get_order: 'read', issue_refund: { effect: 'write-irreversible', ack: { status: 'ok' } } });
// The recorded agent looked the order up and made no refund.
const trace = aTrace('t1').withToolCall('get_order', { order_id: 'A1' }, { total: 25 }).withOutcome('completed', { action: 'deny' }).build();
const compare: CompareOptions = { catalog, reference: 'recorded', decision: { numericTolerance: 0 }, effectsIgnoreArgs: [], pathIgnoreArgs: [], pricing: {} };

async function unsafeEffect(candidate: ModuleCandidate) {
  const session = new ReplaySession(trace, createMockToolbox(trace, catalog, { match: 'exact', ignoreArgs: [] }), {});
  const outcome = await moduleRunner(inProcess(candidate), catalog)(session, 0);
  return { status: outcome.status, unsafe: buildResult(trace, 0, outcome, { file: 't.jsonl', line: 1 }, compare).unsafeEffect };
}

describe('unsafeEffect', () => {
  it('is true for a hard-to-undo effect the reference did not make, whether the candidate then decides or crashes', async () => {
    expect(await unsafeEffect(async (_, ctx) => {
      await ctx.tools.issue_refund!({ order_id: 'A1', amount: 9999 });
      return { decision: { action: 'refund' } };
    })).toEqual({ status: 'completed', unsafe: true });
    expect(await unsafeEffect(async (_, ctx) => {
      await ctx.tools.issue_refund!({ order_id: 'A1', amount: 9999 });
      throw new Error('crashed after the refund');
    })).toEqual({ status: 'error', unsafe: true });
  });

  it('is false for a decision without one, and unknown (null) for a crash before any', async () => {
    expect(await unsafeEffect(async (_, ctx) => {
      await ctx.tools.get_order!({ order_id: 'A1' });
      return { decision: { action: 'deny' } };
    })).toEqual({ status: 'completed', unsafe: false });
    expect(await unsafeEffect(async () => {
      throw new Error('crashed at once');
    })).toEqual({ status: 'error', unsafe: null });
  });
});
