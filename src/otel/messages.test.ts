import { describe, expect, it } from 'vitest';
import { parseJsonish } from './messages.js';

describe('parseJsonish', () => {
  it('parses a string only where it holds a JSON object or array: a number or boolean written as text stays text', () => {
    expect(['{"a":1}', ' [1] ', '42', 'true', 'null', 'plain', '{not json'].map(parseJsonish)).toEqual([{ a: 1 }, [1], '42', 'true', 'null', 'plain', '{not json']);
    expect(parseJsonish(7)).toBe(7);
  });
});
