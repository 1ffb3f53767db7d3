import { describe, expect, it } from 'vitest';
import { fnv1a32, inSample, stratifiedSample } from './sampling.js';

describe('fnv1a32', () => {
  it('matches the published FNV-1a 32-bit vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
  });

  it('hashes the UTF-8 bytes (2-, 3- and 4-byte characters)', () => {
    // values from Node's Buffer.from(s, 'utf8') run through the same FNV-1a loop
    expect(fnv1a32('é')).toBe(0x1e9de8c1);
    expect(fnv1a32('€')).toBe(0x298f832b);
    expect(fnv1a32('😀')).toBe(0x33a29608);
  });
});

// Positions fnv1a32(`1:${id}`) / 2^32 for seed 1:
// a 0.2037  b 0.1920  c 0.1959  d 0.2154  e 0.2193  f 0.2076  g 0.2115  h 0.2310
// ascending: b, c, a, f, g, d, e, h
const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

describe('inSample', () => {
  it('takes the traces whose position is below the rate', () => {
    expect(ids.filter((id) => inSample(id, 0.2, 1))).toEqual(['b', 'c']);
    expect(ids.filter((id) => inSample(id, 0.21, 1))).toEqual(['a', 'b', 'c', 'f']);
  });

  it('rate 0 takes none, rate 1 all; the seed changes the draw', () => {
    expect(ids.filter((id) => inSample(id, 0, 1))).toEqual([]);
    expect(ids.filter((id) => inSample(id, 1, 1))).toEqual(ids);
    // seed 2 hashes '2:a'…: a different set at the same rate
    expect(ids.filter((id) => inSample(id, 0.2, 2))).not.toEqual(['b', 'c']);
  });

  it('rejects a rate outside [0, 1]', () => {
    expect(() => inSample('a', 1.5, 1)).toThrow(/rate must be in \[0, 1\]/);
    expect(() => inSample('a', Number.NaN, 1)).toThrow(/rate must be in \[0, 1\]/);
  });
});

describe('stratifiedSample', () => {
  const items = [
    ...['a', 'b', 'c', 'd'].map((traceId) => ({ traceId, stratum: 'refund' })),
    ...['e', 'f', 'g', 'h'].map((traceId) => ({ traceId, stratum: 'deny' })),
  ];

  it('takes ceil(rate × n) per stratum, smallest hashes first, in input order', () => {
    // refund: ceil(0.5·4) = 2 → b (0.1920), c (0.1959); deny: 2 → f (0.2076), g (0.2115)
    expect(stratifiedSample(items, 0.5, 1)).toEqual(['b', 'c', 'f', 'g']);
    // ceil(0.1·4) = 1 per stratum → b, f: both classes represented
    expect(stratifiedSample(items, 0.1, 1)).toEqual(['b', 'f']);
  });

  it('a stratum of one is represented at any rate above 0, and none at rate 0', () => {
    const withRare = [...items, { traceId: 'z', stratum: 'escalate' }];
    expect(stratifiedSample(withRare, 0.01, 1)).toEqual(['b', 'f', 'z']);
    expect(stratifiedSample(withRare, 0, 1)).toEqual([]);
  });

  it('0.07 × 100 takes 7, not 8 (0.07·100 = 7.000000000000001 in floating point)', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => ({ traceId: `t${i}`, stratum: 's' }));
    expect(stratifiedSample(hundred, 0.07, 1)).toHaveLength(7);
  });
});
