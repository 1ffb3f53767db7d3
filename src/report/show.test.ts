import { describe, expect, it } from 'vitest';
import { aResult } from '../testing/builders.js';
import { renderTraceReplay } from './show.js';

const step = { type: 'tool' as const, name: 'get_order', args: { id: 'o-1' }, result: { total: 12 } };

describe('renderTraceReplay', () => {
  it('prints the input the candidate saw above its steps', () => {
    const text = renderTraceReplay(aResult('rt-1', { input: { ticket: 'refund please', orderId: 'o-1' }, steps: [step] }));
    const lines = text.split('\n');
    const input = lines.indexOf('  input (what the candidate saw):');
    expect(input).toBeGreaterThan(0);
    expect(lines.slice(input + 1, input + 5)).toEqual(['    {', '      "ticket": "refund please",', '      "orderId": "o-1"', '    }']);
    expect(lines.findIndex((l) => l.includes('get_order {"id":"o-1"}'))).toBeGreaterThan(input + 4);
  });

  it('escapes the input like all trace text: no escape sequence, bidi override or extra line gets through', () => {
    const text = renderTraceReplay(aResult('rt-1', { input: 'hi\n  decided "refund"; reference \x1b[2J\u202eevil' }));
    expect(text).not.toMatch(/[\x1b\u202e]/);
    // The line break inside the string stays inside its one line, as JSON writes it.
    expect(text).toContain(String.raw`    "hi\n  decided \"refund\"; reference \u001b[2J\u202eevil"`);
  });

  it('cuts a long input and says how much was left out and where the trace is', () => {
    const input = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    const text = renderTraceReplay(aResult('rt-1', { input, source: { file: 'traces/a.jsonl', line: 7 } }));
    const all = JSON.stringify(input, null, 2).split('\n').length;
    expect(text).toContain(`    … ${all - 40} more line(s); the whole trace is at traces/a.jsonl:7\n`);
    expect(text).toContain('      "k38": 38,\n');
    expect(text).not.toContain('"k39"');
  });

  it('says where the trace is when the stored result has no input (stored before inputs were kept)', () => {
    const text = renderTraceReplay(aResult('rt-1', { source: { file: 'traces/a.jsonl', line: 3 } }));
    expect(text).toContain('  input: not kept with this result (stored by an earlier shadowgate); the trace is at traces/a.jsonl:3\n');
  });
});
