import { describe, expect, it } from 'vitest';
import { createArgumentDrift } from './arg-drift.js';

/** Adds `count` calls of one tool with the same arguments to one side. */
function calls(add: (tool: string, args: unknown) => void, count: number, tool: string, args: Record<string, unknown>) {
  for (let i = 0; i < count; i++) add(tool, args);
}

describe('createArgumentDrift', () => {
  it('a worked example: send_customer_email.template shifts from denied to approved', () => {
    const drift = createArgumentDrift();
    calls(drift.addReference, 6, 'send_customer_email', { template: 'refund_approved' });
    calls(drift.addReference, 4, 'send_customer_email', { template: 'refund_denied' });
    calls(drift.addCandidate, 2, 'send_customer_email', { template: 'refund_approved' });
    calls(drift.addCandidate, 8, 'send_customer_email', { template: 'refund_denied' });
    // P = (0.6, 0.4), Q = (0.2, 0.8), M = (0.4, 0.6)
    // KL(P‖M) = 0.6·log2(1.5) + 0.4·log2(⅔) = 0.2·0.5849625 = 0.1169925
    // KL(Q‖M) = 0.2·log2(½) + 0.8·log2(4/3) = −0.2 + 0.8·0.4150375 = 0.1320300
    // JSD = ½·(0.1169925 + 0.1320300) = 0.1245112
    const [row, ...rest] = drift.finish();
    expect(rest).toEqual([]);
    expect(row!.jsd).toBeCloseTo(0.1245112, 7);
    expect(row).toEqual({
      tool: 'send_customer_email',
      arg: 'template',
      jsd: row!.jsd,
      reference: { refund_approved: 6, refund_denied: 4 },
      candidate: { refund_approved: 2, refund_denied: 8 },
    });
  });

  it('sorts by divergence, largest first, and keeps unchanged arguments at 0', () => {
    const drift = createArgumentDrift();
    calls(drift.addReference, 3, 'issue_refund', { reason: 'damaged', notify: true });
    calls(drift.addCandidate, 3, 'issue_refund', { reason: 'damaged', notify: false });
    calls(drift.addReference, 1, 'send_customer_email', { template: 'refund_approved' });
    calls(drift.addReference, 1, 'send_customer_email', { template: 'refund_denied' });
    calls(drift.addCandidate, 2, 'send_customer_email', { template: 'refund_approved' });
    // notify: disjoint values → 1; template: (½, ½) against (1, 0) → 0.311278; reason: the same → 0
    expect(drift.finish().map((d) => [d.tool, d.arg, Math.round(d.jsd * 1e6) / 1e6])).toEqual([
      ['issue_refund', 'notify', 1],
      ['send_customer_email', 'template', 0.311278],
      ['issue_refund', 'reason', 0],
    ]);
  });

  it('counts strings up to 64 characters, booleans and integers; skips the rest', () => {
    const drift = createArgumentDrift();
    const args = {
      status: 'open',
      escalate: false,
      priority: 2,
      amount: 12.5, // a float
      note: 'x'.repeat(64), // at the limit
      summary: 'y'.repeat(65), // free text
      items: ['a'], // an array
      address: { city: 'Oslo' }, // an object
      missing: null,
    };
    drift.addReference('update_ticket', args);
    drift.addCandidate('update_ticket', args);
    const rows = drift.finish();
    expect(rows.map((d) => d.arg).sort()).toEqual(['escalate', 'note', 'priority', 'status']);
    expect(rows.find((d) => d.arg === 'priority')).toEqual({
      tool: 'update_ticket', arg: 'priority', jsd: 0, reference: { 2: 1 }, candidate: { 2: 1 },
    });
    expect(rows.find((d) => d.arg === 'escalate')!.reference).toEqual({ false: 1 });
  });

  it('lists only arguments seen on both sides', () => {
    const drift = createArgumentDrift();
    drift.addReference('lookup_order', { source: 'crm' });
    drift.addReference('close_ticket', { resolution: 'refunded' }); // a tool the candidate never called
    drift.addCandidate('lookup_order', { source: 'crm', verbose: true }); // an argument the reference never passed
    expect(drift.finish()).toEqual([
      { tool: 'lookup_order', arg: 'source', jsd: 0, reference: { crm: 1 }, candidate: { crm: 1 } },
    ]);
  });

  it('stops tracking an integer argument past 20 distinct values (an amount, not a category)', () => {
    const drift = createArgumentDrift();
    for (let i = 0; i < 20; i++) drift.addReference('issue_refund', { cents: i * 100, tier: 1 });
    drift.addCandidate('issue_refund', { cents: 0, tier: 1 });
    expect(drift.finish().map((d) => d.arg)).toEqual(['cents', 'tier']); // 20 distinct integers: still a category
    drift.addCandidate('issue_refund', { cents: 12_345, tier: 1 }); // the 21st
    expect(drift.finish().map((d) => d.arg)).toEqual(['tier']);
    drift.addCandidate('issue_refund', { cents: 0, tier: 1 }); // and it does not come back
    expect(drift.finish().map((d) => d.arg)).toEqual(['tier']);
  });

  it('stops tracking an argument past 50 distinct values over both sides (an id, not a category)', () => {
    const drift = createArgumentDrift();
    for (let i = 0; i < 25; i++) drift.addReference('lookup_order', { order_id: `A${i}`, channel: 'web' });
    for (let i = 0; i < 25; i++) drift.addCandidate('lookup_order', { order_id: `B${i}`, channel: 'web' });
    expect(drift.finish().find((d) => d.arg === 'order_id')!.jsd).toBe(1); // 50 distinct, disjoint sides
    drift.addCandidate('lookup_order', { order_id: 'B25', channel: 'web' }); // the 51st
    expect(drift.finish().map((d) => d.arg)).toEqual(['channel']);
  });

  it('ignores arguments that are not an object', () => {
    const drift = createArgumentDrift();
    drift.addReference('ping', null);
    drift.addReference('ping', ['a']);
    drift.addCandidate('ping', 'a');
    expect(drift.finish()).toEqual([]);
  });
});
