import { describe, expect, it } from 'vitest';
import { jsonOrText } from './records.js';

describe('jsonOrText', () => {
  it('reads a string as JSON where it is JSON, keeps other text, and leaves any other value as it is', () => {
    expect(['{"a":1}', ' [1, 2] ', '42', 'true', 'null', '"quoted"', 'refund issued', '{not json', ''].map(jsonOrText)).toEqual([
      { a: 1 }, [1, 2], 42, true, null, 'quoted', 'refund issued', '{not json', '',
    ]);
    const object = { a: '1' };
    expect([object, 7, null, undefined].map(jsonOrText)).toEqual([object, 7, null, undefined]);
    expect(jsonOrText(object)).toBe(object);
  });
});
