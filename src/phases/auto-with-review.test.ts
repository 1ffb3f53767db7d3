import { describe, expect, it } from 'vitest';
import { createReviewSampleAccumulator, rollbackNeeded } from './auto-with-review.js';

const round4 = (ci: [number, number] | null) => ci && ci.map((x) => Math.round(x * 1e4) / 1e4);

const CLASSES: Record<string, string> = {
  refund: 'write-external',
  send_email: 'write-irreversible',
  add_note: 'write-reversible',
  lookup: 'read',
};
const classOf = (tool: string) => CLASSES[tool] ?? 'unknown';

describe('rollbackNeeded', () => {
  it('false when the compensable effects are the same multiset (order and key order aside)', () => {
    const cand = [{ name: 'send_email', args: { to: 'a' } }, { name: 'refund', args: { id: 1, amount: 5 } }];
    const ref = [{ name: 'refund', args: { amount: 5, id: 1 } }, { name: 'send_email', args: { to: 'a' } }];
    expect(rollbackNeeded(cand, ref, classOf)).toBe(false);
  });

  it('ignores read and write-reversible effects', () => {
    const cand = [{ name: 'refund', args: { id: 1 } }, { name: 'add_note', args: { text: 'x' } }, { name: 'lookup', args: {} }];
    const ref = [{ name: 'refund', args: { id: 1 } }];
    expect(rollbackNeeded(cand, ref, classOf)).toBe(false);
  });

  it('true on different arguments, a missing effect, or a repeated one', () => {
    expect(rollbackNeeded([{ name: 'refund', args: { id: 1 } }], [{ name: 'refund', args: { id: 2 } }], classOf)).toBe(true);
    expect(rollbackNeeded([], [{ name: 'send_email', args: { to: 'a' } }], classOf)).toBe(true);
    const once = { name: 'refund', args: { id: 1 } };
    expect(rollbackNeeded([once, once], [once], classOf)).toBe(true);
  });

  it('leaves out ignored argument paths', () => {
    const cand = [{ name: 'refund', args: { id: 1, idempotency_key: 'k1' } }];
    const ref = [{ name: 'refund', args: { id: 1, idempotency_key: 'k2' } }];
    expect(rollbackNeeded(cand, ref, classOf)).toBe(true);
    expect(rollbackNeeded(cand, ref, classOf, ['idempotency_key'])).toBe(false);
  });
});

describe('createReviewSampleAccumulator', () => {
  // The sample is drawn by the caller here (inReview), as a stratified draw does: b and c.
  it('sample error rate, finite-population estimate and rollback frequency', () => {
    const acc = createReviewSampleAccumulator({ sampleRate: 0.2, seed: 1 });
    acc.add({ traceId: 'a', agree: true, rollback: false, inReview: false });
    acc.add({ traceId: 'b', agree: false, rollback: true, inReview: true });
    acc.add({ traceId: 'c', agree: true, rollback: false, inReview: true });
    acc.add({ traceId: 'd', agree: false, rollback: true, inReview: false });
    acc.add({ traceId: 'e', agree: null, rollback: null, inReview: false }); // no reference decision nor effects: in no rate, an unknown rollback
    for (const traceId of ['f', 'g', 'h']) acc.add({ traceId, agree: true, rollback: false, inReview: false });
    const m = acc.finish();
    expect(m.sampled).toBe(2);
    // sample {b, c}: 1 error of 2. Wilson 1/2: denom = 1 + 3.8415/2 = 2.92073, centre 0.5,
    // half = 1.96·√(0.125 + 3.8415/16)/2.92073 = 1.96·0.604228/2.92073 = 0.40547 → [0.0945, 0.9055]
    expect(m.sampleErrorRate).toMatchObject({ rate: 0.5, n: 2, successes: 1 });
    expect(round4(m.sampleErrorRate.ci95)).toEqual([0.0945, 0.9055]);
    // N = 7 with an outcome, n = 2: fpc = √(5/6) = 0.912871; half 0.40547·0.912871 = 0.37014 → [0.1299, 0.8701]
    expect(m.populationErrorEstimate.rate).toBe(0.5);
    expect(round4(m.populationErrorEstimate.ci95)).toEqual([0.1299, 0.8701]);
    // rollbacks b, d of 7. Wilson 2/7: denom = 1.548788, centre = (0.285714 + 0.274394)/1.548788 = 0.361643
    // half = 1.96·√(0.029155 + 0.019600)/1.548788 = 0.279430 → [0.0822, 0.6411]
    expect(m.rollbackFrequency).toMatchObject({ rate: 2 / 7, n: 7, successes: 2 });
    expect(m.rollbackUnknown).toBe(1);
    expect(round4(m.rollbackFrequency.ci95)).toEqual([0.0822, 0.6411]);
  });

  it("leaves out of the rollback frequency a trace whose reference's effects are unknown: none known is a null rate, not 0", () => {
    const acc = createReviewSampleAccumulator({ sampleRate: 1, seed: 1 });
    acc.add({ traceId: 'a', agree: true, rollback: null });
    acc.add({ traceId: 'b', agree: false, rollback: null });
    expect(acc.finish()).toMatchObject({ rollbackFrequency: { rate: null, n: 0, ci95: null }, rollbackUnknown: 2 });
    acc.add({ traceId: 'c', agree: true, rollback: true });
    acc.add({ traceId: 'd', agree: true, rollback: false });
    expect(acc.finish()).toMatchObject({ rollbackFrequency: { rate: 0.5, n: 2, successes: 1 }, rollbackUnknown: 2 });
    // The error rate still counts every trace with an outcome.
    expect(acc.finish().sampleErrorRate).toMatchObject({ n: 4, successes: 1 });
    // A trace whose reference has effects but no decision: its rollback counts, though no agreement can be judged.
    acc.add({ traceId: 'e', agree: null, rollback: true });
    expect(acc.finish()).toMatchObject({ rollbackFrequency: { n: 3, successes: 2 }, sampleErrorRate: { n: 4 } });
  });

  it('a census (every trace reviewed) knows the rate exactly', () => {
    const acc = createReviewSampleAccumulator({ sampleRate: 1, seed: 1 });
    acc.add({ traceId: 'a', agree: false, rollback: false });
    acc.add({ traceId: 'b', agree: true, rollback: false });
    acc.add({ traceId: 'c', agree: true, rollback: false });
    const m = acc.finish();
    expect(m.populationErrorEstimate).toEqual({ rate: 1 / 3, ci95: [1 / 3, 1 / 3] });
    // the sample's own interval is not narrowed
    expect(m.sampleErrorRate.ci95![0]).toBeLessThan(1 / 3);
  });

  it('no decision compared in the sample: nulls; a sampled trace without one still counts as sampled', () => {
    const acc = createReviewSampleAccumulator({ sampleRate: 1, seed: 1 });
    acc.add({ traceId: 'a', agree: null, rollback: null });
    expect(acc.finish()).toEqual({
      sampled: 1,
      sampleErrorRate: { rate: null, n: 0, successes: 0, ci95: null },
      populationErrorEstimate: { rate: null, ci95: null },
      rollbackFrequency: { rate: null, n: 0, successes: 0, ci95: null },
      rollbackUnknown: 1,
    });
  });
});
