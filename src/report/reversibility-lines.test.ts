import { describe, expect, it } from 'vitest';
import { reversibilityMatrix } from '../phases/reversibility.js';
import { aCatalog } from '../testing/builders.js';
import { reversibilityRows, reversibilityTable, workflowCapText } from './reversibility-lines.js';

const catalog = aCatalog({ lookup: 'read', add_note: 'write-reversible', refund: 'write-irreversible' });

describe('workflowCapText', () => {
  it('names the cap, the tools that set it and what counted', () => {
    expect(workflowCapText(reversibilityMatrix(catalog))).toBe('suggest, set by refund (write-irreversible), over every catalog tool (usage not known)');
    expect(workflowCapText(reversibilityMatrix(catalog, { calls: { lookup: 1 } }))).toBe('auto, set by lookup (read), over the tools called');
    expect(workflowCapText(reversibilityMatrix(catalog, { calls: {} }))).toBe('auto: no tool called');
  });

  it('says the shadow period a write-reversible workflow waits on', () => {
    const m = reversibilityMatrix(catalog, { calls: { lookup: 2, add_note: 1 }, shadowPeriod: { runs: 4, days: 10 } });
    expect(workflowCapText(m)).toBe('auto after a shadow period of 4 shadow run(s) over 10 day(s), auto-with-review until then, set by add_note (write-reversible), over the tools called');
  });
});

describe('reversibilityRows and reversibilityTable', () => {
  it('marks the conditional cap, tools the catalog lacks, and tools not called', () => {
    const m = reversibilityMatrix(catalog, { calls: { lookup: 2.5, add_note: 1, wire: 3 } });
    expect(reversibilityRows(m)).toEqual([
      { tool: 'lookup', effect: 'read', cap: 'auto', calls: '2.5' },
      { tool: 'add_note', effect: 'write-reversible', cap: 'auto after a shadow period', calls: '1' },
      { tool: 'refund', effect: 'write-irreversible', cap: 'suggest', calls: '0 (not counted)' },
      { tool: 'wire', effect: 'write-irreversible (not in the catalog)', cap: 'suggest', calls: '3' },
    ]);
    expect(reversibilityRows(reversibilityMatrix(catalog))[0]!.calls).toBe('n/a');
  });

  it('lines the columns up under a header', () => {
    const lines = reversibilityTable(reversibilityMatrix(aCatalog({ a: 'read', refund_order: 'write-external' })), '  ');
    expect(lines).toEqual([
      '  tool          effect class    cap               calls (recorded + candidate)',
      '  a             read            auto              n/a',
      '  refund_order  write-external  auto-with-review  n/a',
    ]);
  });

  it('keeps a tool name from a trace on its row: a newline or a terminal control is shown escaped', () => {
    const m = reversibilityMatrix(aCatalog({ a: 'read' }), { calls: { a: 1, 'wire\nFAKE ROW  read  auto  9\u001b[2J': 2 } });
    const lines = reversibilityTable(m, '');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe(String.raw`wire\nFAKE ROW  read  auto  9\x1b[2J  write-irreversible (not in the catalog)  suggest  2`);
  });
});
