import { describe, expect, it } from 'vitest';
import { inferSchema } from './infer-schema.js';

describe('inferSchema', () => {
  it('types scalars, and merges integers with fractions into number', () => {
    expect(inferSchema(['a', 'b'])).toEqual({ type: 'string' });
    expect(inferSchema([1, 2])).toEqual({ type: 'integer' });
    expect(inferSchema([1, 2.5])).toEqual({ type: 'number' });
    expect(inferSchema([true])).toEqual({ type: 'boolean' });
    expect(inferSchema([null])).toEqual({ type: 'null' });
  });

  it('lists every kind seen when values differ', () => {
    expect(inferSchema(['a', null, 3])).toEqual({ type: ['string', 'integer', 'null'] });
  });

  it('requires the keys present in every object, and describes every key seen', () => {
    expect(inferSchema([{ id: 'a', n: 1 }, { id: 'b', note: 'x' }])).toEqual({
      type: 'object',
      properties: { id: { type: 'string' }, n: { type: 'integer' }, note: { type: 'string' } },
      required: ['id'],
    });
  });

  it('infers nested objects and array items from every element of every call', () => {
    const calls = [
      { order: { id: 'o1', lines: [{ sku: 'a', qty: 1 }] } },
      { order: { id: 'o2', lines: [{ sku: 'b', qty: 2.5 }, { sku: 'c' }], gift: true } },
    ];
    expect(inferSchema(calls)).toEqual({
      type: 'object',
      properties: {
        order: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            lines: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' }, qty: { type: 'number' } }, required: ['sku'] } },
            gift: { type: 'boolean' },
          },
          required: ['id', 'lines'],
        },
      },
      required: ['order'],
    });
  });

  it('guesses no enum however few the values, and says nothing of an empty array or no values', () => {
    expect(inferSchema(['refund', 'refund', 'refund'])).toEqual({ type: 'string' });
    expect(inferSchema([[]])).toEqual({ type: 'array' });
    expect(inferSchema([])).toEqual({});
    expect(inferSchema([{}])).toEqual({ type: 'object', properties: {} });
  });
});
