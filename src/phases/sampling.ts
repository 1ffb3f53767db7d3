import { InternalError } from '../errors.js';

/** UTF-8 bytes of a string, without TextEncoder (pure core: no platform globals). */
function utf8(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return out;
}

/**
 * FNV-1a 32-bit hash of the UTF-8 bytes of `s`, as an unsigned integer.
 */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of utf8(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
}

/**
 * MurmurHash3's finaliser: FNV-1a alone leaves ids that differ only in their last
 * characters (rt-00001, rt-00002, …) clustered in a narrow band, which would make a
 * sample of them anything but a fair share.
 */
function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** A trace's position in [0, 1) for a given seed. */
export const samplePosition = (traceId: string, seed: number): number => mix(fnv1a32(`${seed}:${traceId}`)) / 2 ** 32;


function checkRate(rate: number): void {
  if (!(rate >= 0 && rate <= 1)) throw new InternalError(`sampling: rate must be in [0, 1], got ${rate}`);
}

/**
 * Whether a trace falls in a Bernoulli sample of the given rate: FNV-1a of `${seed}:${traceId}`
 * over 2^32 is below `rate`. The same trace, rate and seed give the same answer on every run and
 * machine, and a larger rate keeps every trace a smaller one took.
 * When to use: after-the-fact review of a random share (auto-with-review). When not to use: when
 * every decision class must appear; use `stratifiedSample`.
 * @example inSample('t-1', 0.1, 42)
 */
export function inSample(traceId: string, rate: number, seed: number): boolean {
  checkRate(rate);
  return samplePosition(traceId, seed) < rate;
}

export interface StratifiedItem {
  traceId: string;
  /** The class the trace belongs to (e.g. its decision). */
  stratum: string;
}

/**
 * The trace ids of a stratified sample: from each stratum the ceil(rate × its size) traces with
 * the smallest hashes (the order `inSample` uses), so every stratum with a trace is represented
 * at any rate above 0. Ids come back in input order.
 * @example stratifiedSample([{ traceId: 'a', stratum: 'refund' }, { traceId: 'b', stratum: 'deny' }], 0.1, 42) // ['a', 'b']
 */
export function stratifiedSample(items: readonly StratifiedItem[], rate: number, seed: number): string[] {
  checkRate(rate);
  const strata = new Map<string, { traceId: string; pos: number }[]>();
  for (const { traceId, stratum } of items) {
    const group = strata.get(stratum) ?? [];
    group.push({ traceId, pos: samplePosition(traceId, seed) });
    strata.set(stratum, group);
  }
  const chosen = new Set<string>();
  for (const group of strata.values()) {
    // 0.07 × 100 is 7.000000000000001 in floating point; ceil must still give 7.
    const take = Math.ceil(rate * group.length - 1e-9);
    group
      .sort((x, y) => x.pos - y.pos || (x.traceId < y.traceId ? -1 : x.traceId > y.traceId ? 1 : 0))
      .slice(0, take)
      .forEach((x) => chosen.add(x.traceId));
  }
  return items.map((x) => x.traceId).filter((id) => chosen.has(id));
}
