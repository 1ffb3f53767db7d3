import { describe, expect, it } from 'vitest';
import { callKey, canonicalJson, canonicalize, withCallKeys, withoutArgs } from './canonical.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth, inside arrays too', () => {
    const value = { b: 1, a: { d: [{ z: 1, y: 2 }], c: 2 } };
    expect(canonicalJson(value)).toBe('{"a":{"c":2,"d":[{"y":2,"z":1}]},"b":1}');
  });

  it('gives the same string for the same value written in another key order', () => {
    expect(canonicalJson({ x: { q: 1, p: [1, 2] }, w: null })).toBe(canonicalJson({ w: null, x: { p: [1, 2], q: 1 } }));
  });

  it('keeps array order: [1, 2] is not [2, 1]', () => {
    expect(canonicalJson([1, 2])).not.toBe(canonicalJson([2, 1]));
  });

  it('writes -0 as 0, at any depth', () => {
    expect(canonicalize({ a: -0, b: [-0] })).toEqual({ a: 0, b: [0] });
    expect(Object.is((canonicalize({ a: -0 }) as { a: number }).a, 0)).toBe(true);
    expect(canonicalJson({ amount: -0 })).toBe(canonicalJson({ amount: 0 }));
  });

  it('writes a value whose keys are already sorted exactly as it writes the sorted copy', () => {
    class Box {
      constructor(readonly b: number, readonly a: number) {}
    }
    const values: unknown[] = [
      { a: 1, b: { c: [1, 'x', null, true] } },
      { b: 1, a: 2 },
      { a: { d: 1, c: 2 } },
      { 1: 'x', a: 'y' },
      { 10: 'x', 9: 'y' },
      { 1: 'x', 2: 'y', 10: 'z' },
      { a: undefined, b: 1 },
      [1, undefined, { b: 1, a: 2 }],
      { a: -0 },
      { a: [Number.NaN, Infinity] },
      { a: new Date(0) },
      { a: new Box(1, 2) },
      { a: () => 1, b: 2 },
      Object.assign(Object.create(null), { b: 1, a: 2 }),
      JSON.parse('{"__proto__":{"x":1},"a":1}'),
      JSON.parse('{"a":1,"__proto__":{"x":1}}'),
      'text',
      null,
    ];
    for (const value of values) expect(canonicalJson(value), JSON.stringify(value)).toBe(JSON.stringify(canonicalize(value)));
  });

  it('writes integral floats as integers', () => {
    expect(canonicalJson({ amount: 20.0 })).toBe('{"amount":20}');
  });

  it('drops undefined members and writes undefined array items as null', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
    expect(canonicalJson([undefined, 1])).toBe('[null,1]');
  });
});

describe('withoutArgs', () => {
  it('removes top-level and dotted paths without touching the input', () => {
    const args = { idempotency_key: 'k1', amount: 20, meta: { request_id: 'r1', source: 'web' } };
    expect(withoutArgs(args, ['idempotency_key', 'meta.request_id'])).toEqual({ amount: 20, meta: { source: 'web' } });
    expect(args).toEqual({ idempotency_key: 'k1', amount: 20, meta: { request_id: 'r1', source: 'web' } });
  });

  it('removes an element of an array on the path as a hole, as delete does, and keeps the rest shared', () => {
    const args = { items: [{ sku: 'a', trace: 't1' }, { sku: 'b' }], meta: { source: 'web' } };
    const out = withoutArgs(args, ['items.0.trace']);
    expect(out).toEqual({ items: [{ sku: 'a' }, { sku: 'b' }], meta: { source: 'web' } });
    expect(Array.isArray(out.items)).toBe(true);
    expect(out.meta).toBe(args.meta);
    expect(args.items[0]).toEqual({ sku: 'a', trace: 't1' });
    expect(canonicalJson(withoutArgs({ list: [1, 2, 3] }, ['list.1']))).toBe('{"list":[1,null,3]}');
  });

  it('ignores paths that are absent or run through a non-object', () => {
    const args = { amount: 20, meta: 'plain' };
    expect(withoutArgs(args, ['missing', 'meta.request_id', 'nope.deeper.still'])).toEqual({ amount: 20, meta: 'plain' });
  });
});

describe('callKey', () => {
  it('is equal for the same call whatever the key order', () => {
    expect(callKey('issue_refund', { order_id: 'A1', amount: 20 })).toBe(callKey('issue_refund', { amount: 20.0, order_id: 'A1' }));
  });

  it('differs by name and by argument value', () => {
    expect(callKey('issue_refund', { amount: 20 })).not.toBe(callKey('deny_refund', { amount: 20 }));
    expect(callKey('issue_refund', { amount: 20 })).not.toBe(callKey('issue_refund', { amount: 21 }));
  });

  it('leaves ignored arguments out, dotted paths included', () => {
    const a = callKey('issue_refund', { amount: 20, idempotency_key: 'k1', meta: { request_id: 'r1' } }, ['idempotency_key', 'meta.request_id']);
    const b = callKey('issue_refund', { amount: 20, idempotency_key: 'k2', meta: { request_id: 'r2' } }, ['idempotency_key', 'meta.request_id']);
    expect(a).toBe(b);
    expect(a).toBe('issue_refund {"amount":20,"meta":{}}');
  });

  it('still tells calls apart on the arguments that are not ignored', () => {
    expect(callKey('issue_refund', { amount: 20, idempotency_key: 'k1' }, ['idempotency_key'])).not.toBe(
      callKey('issue_refund', { amount: 25, idempotency_key: 'k1' }, ['idempotency_key']),
    );
  });
});

describe('withCallKeys', () => {
  const calls = [
    { name: 'refund', args: { order_id: 'A1', amount: 5, idempotency_key: 'k1' } },
    { name: 'refund', args: { amount: 5, order_id: 'A1', idempotency_key: 'k2' } },
    { name: 'get_order', args: { order_id: 'A1', meta: { request_id: 'r' } } },
  ];
  const lists: (readonly string[] | undefined)[] = [undefined, [], ['idempotency_key'], ['meta.request_id'], ['absent']];
  const all = () => calls.flatMap(({ name, args }) => lists.map((ignore) => callKey(name, args, ignore)));

  it('gives the keys callKey gives outside it, however often and under whichever ignore list the same arguments are keyed', () => {
    const outside = all();
    expect(withCallKeys(() => [...all(), ...all()])).toEqual([...outside, ...outside]);
  });

  it('returns what its function returns, and remembers nothing once it has returned', () => {
    const args: Record<string, unknown> = { order_id: 'A1' };
    expect(withCallKeys(() => callKey('get_order', args))).toBe('get_order {"order_id":"A1"}');
    args.order_id = 'B2';
    expect(withCallKeys(() => callKey('get_order', args))).toBe('get_order {"order_id":"B2"}');
  });

  it('remembers nothing after its function threw', () => {
    const args: Record<string, unknown> = { n: 1 };
    expect(() =>
      withCallKeys(() => {
        callKey('t', args);
        throw new Error('stop');
      }),
    ).toThrow('stop');
    args.n = 2;
    expect(callKey('t', args)).toBe('t {"n":2}');
    expect(withCallKeys(() => callKey('t', args))).toBe('t {"n":2}');
  });
});
