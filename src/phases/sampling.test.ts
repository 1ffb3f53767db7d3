import { describe, expect, it } from 'vitest';
import { fnv1a32, inSample, samplePosition, stratifiedSample } from './sampling.js';

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

const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
/** The ids in order of their sample position for a seed: the order every draw must follow. */
const byPosition = (list: string[], seed: number) => [...list].sort((x, y) => samplePosition(x, seed) - samplePosition(y, seed));

describe('inSample', () => {
  it('takes exactly the traces whose position is below the rate', () => {
    for (const rate of [0.2, 0.5, 0.8]) {
      expect(ids.filter((id) => inSample(id, rate, 1))).toEqual(ids.filter((id) => samplePosition(id, 1) < rate));
    }
  });

  it('draws a fair share of ids that differ only in their last characters (no clustering)', () => {
    // 1,000 ids rt-00001 … rt-01000 at 10%, for several seeds: about 100 each time
    const many = Array.from({ length: 1000 }, (_, i) => `rt-${String(i + 1).padStart(5, '0')}`);
    for (const seed of [0, 1, 7, 42]) {
      const n = many.filter((id) => inSample(id, 0.1, seed)).length;
      expect(n, `seed ${seed}`).toBeGreaterThan(70);
      expect(n, `seed ${seed}`).toBeLessThan(130);
    }
  });

  it('rate 0 takes none, rate 1 all; the seed changes the draw', () => {
    expect(ids.filter((id) => inSample(id, 0, 1))).toEqual([]);
    expect(ids.filter((id) => inSample(id, 1, 1))).toEqual(ids);
    expect(byPosition(ids, 2)).not.toEqual(byPosition(ids, 1));
  });

  it('rejects a rate outside [0, 1]', () => {
    expect(() => inSample('a', 1.5, 1)).toThrow(/rate must be in \[0, 1\]/);
    expect(() => inSample('a', Number.NaN, 1)).toThrow(/rate must be in \[0, 1\]/);
  });
});

describe('stratifiedSample', () => {
  const refunds = ['a', 'b', 'c', 'd'];
  const denials = ['e', 'f', 'g', 'h'];
  const items = [...refunds.map((traceId) => ({ traceId, stratum: 'refund' })), ...denials.map((traceId) => ({ traceId, stratum: 'deny' }))];
  const inInputOrder = (chosen: string[]) => ids.filter((id) => chosen.includes(id));

  it('takes ceil(rate × n) per stratum, smallest positions first, in input order', () => {
    // ceil(0.5·4) = 2 per stratum
    expect(stratifiedSample(items, 0.5, 1)).toEqual(inInputOrder([...byPosition(refunds, 1).slice(0, 2), ...byPosition(denials, 1).slice(0, 2)]));
    // ceil(0.1·4) = 1 per stratum: both classes represented
    expect(stratifiedSample(items, 0.1, 1)).toEqual(inInputOrder([byPosition(refunds, 1)[0]!, byPosition(denials, 1)[0]!]));
  });

  it('a stratum of one is represented at any rate above 0, and none at rate 0', () => {
    const withRare = [...items, { traceId: 'z', stratum: 'escalate' }];
    expect(stratifiedSample(withRare, 0.01, 1)).toContain('z');
    expect(stratifiedSample(withRare, 0.01, 1)).toHaveLength(3);
    expect(stratifiedSample(withRare, 0, 1)).toEqual([]);
  });

  it('0.07 × 100 takes 7, not 8 (0.07·100 = 7.000000000000001 in floating point)', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => ({ traceId: `t${i}`, stratum: 's' }));
    expect(stratifiedSample(hundred, 0.07, 1)).toHaveLength(7);
  });
});
