import { describe, expect, it } from 'vitest';
import { createQuantileSketch } from './quantiles.js';
import { quantile } from './stats.js';

describe('createQuantileSketch', () => {
  it('is exact while the values fit', () => {
    const sketch = createQuantileSketch(10);
    for (const v of [5, 1, 4, 2, 3]) sketch.add(v);
    expect(sketch.quantile(0.5)).toBe(3);
    expect(sketch.quantile(0.95)).toBeCloseTo(4.8, 12); // rank 3.8 between 4 and 5
    expect(createQuantileSketch().quantile(0.5)).toBeNull();
  });

  it('stays within 1% of the exact quantile past that, in bounded memory', () => {
    const sketch = createQuantileSketch(100);
    const values: number[] = [];
    // A deterministic skewed sample: latencies from 1 ms to about 10 s.
    for (let i = 0; i < 50_000; i++) {
      const v = Math.exp(((i * 7919) % 50_000) / 50_000 * Math.log(10_000));
      values.push(v);
      sketch.add(v);
    }
    for (const q of [0.5, 0.95, 0.99]) {
      const truth = quantile(values, q)!;
      expect(Math.abs(sketch.quantile(q)! - truth) / truth).toBeLessThan(0.01);
    }
  });
});
