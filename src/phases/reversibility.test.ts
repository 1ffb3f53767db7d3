import { describe, expect, it } from 'vitest';
import { aCatalog } from '../testing/builders.js';
import { callsPerTool, DEFAULT_SHADOW_PERIOD, minPhase, reversibilityMatrix } from './reversibility.js';

const catalog = aCatalog({
  get_order: 'read',
  add_note: 'write-reversible',
  send_email: 'write-external',
  issue_refund: 'write-irreversible',
});

describe('reversibilityMatrix', () => {
  it('gives each effect class its cap; write-reversible is auto on the condition of a shadow period', () => {
    expect(reversibilityMatrix(catalog).tools).toEqual([
      { name: 'get_order', effect: 'read', inCatalog: true, cap: 'auto', condition: null, calls: null, counted: true },
      { name: 'add_note', effect: 'write-reversible', inCatalog: true, cap: 'auto', condition: 'shadow-period', calls: null, counted: true },
      { name: 'send_email', effect: 'write-external', inCatalog: true, cap: 'auto-with-review', condition: null, calls: null, counted: true },
      { name: 'issue_refund', effect: 'write-irreversible', inCatalog: true, cap: 'suggest', condition: null, calls: null, counted: true },
    ]);
  });

  it('without usage every catalog tool counts: the riskiest one sets the cap', () => {
    expect(reversibilityMatrix(catalog)).toMatchObject({ basis: 'catalog', cap: 'suggest', riskiest: 'write-irreversible', imposedBy: ['issue_refund'], condition: null });
  });

  it('with usage only the tools called count: the workflow cap is the least of theirs', () => {
    const cases = [
      [{ get_order: 3 }, 'auto', 'read', null],
      [{ get_order: 3, add_note: 1 }, 'auto', 'write-reversible', { shadowPeriod: DEFAULT_SHADOW_PERIOD }],
      [{ get_order: 3, add_note: 1, send_email: 2 }, 'auto-with-review', 'write-external', null],
      [{ get_order: 3, send_email: 2, issue_refund: 1 }, 'suggest', 'write-irreversible', null],
      [{ issue_refund: 0, get_order: 2 }, 'auto', 'read', null],
    ] as const;
    for (const [calls, cap, riskiest, condition] of cases) {
      const m = reversibilityMatrix(catalog, { calls });
      expect({ cap: m.cap, riskiest: m.riskiest, condition: m.condition, basis: m.basis }, JSON.stringify(calls)).toEqual({ cap, riskiest, condition, basis: 'used' });
    }
  });

  it('a tool called but not in the catalog is write-irreversible, as the replay treats it', () => {
    const m = reversibilityMatrix(catalog, { calls: { get_order: 1, wire_money: 2 } });
    expect(m.tools.at(-1)).toEqual({ name: 'wire_money', effect: 'write-irreversible', inCatalog: false, cap: 'suggest', condition: null, calls: 2, counted: true });
    expect(m).toMatchObject({ cap: 'suggest', imposedBy: ['wire_money'] });
    // catalog tools that were not called stay in the matrix, uncounted
    expect(m.tools.find((t) => t.name === 'issue_refund')).toMatchObject({ calls: 0, counted: false });
  });

  it('names every tool of the riskiest class; no tool used at all caps nothing', () => {
    const two = aCatalog({ refund: 'write-irreversible', wipe: 'write-irreversible', look: 'read' });
    expect(reversibilityMatrix(two).imposedBy).toEqual(['refund', 'wipe']);
    expect(reversibilityMatrix(two, { calls: {} })).toMatchObject({ cap: 'auto', riskiest: null, imposedBy: [] });
  });

  it('carries a configured shadow period', () => {
    const m = reversibilityMatrix(catalog, { calls: { add_note: 1 }, shadowPeriod: { runs: 5, days: 14 } });
    expect(m.condition).toEqual({ shadowPeriod: { runs: 5, days: 14 } });
  });
});

describe('minPhase and callsPerTool', () => {
  it('the lesser phase; calls summed over both sides', () => {
    expect(minPhase('auto', 'suggest')).toBe('suggest');
    expect(minPhase('shadow', 'auto-with-review')).toBe('shadow');
    expect(callsPerTool({ a: { reference: 2, candidate: 3 }, b: { reference: 0, candidate: 0 } })).toEqual({ a: 5, b: 0 });
  });
});
