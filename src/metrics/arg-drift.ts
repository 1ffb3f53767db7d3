import { jensenShannon } from './stats.js';

/** Longer strings are free text, not categories, and are not counted. */
const MAX_STRING_LENGTH = 64;
/** An integer argument with more distinct values than this is a quantity or an id, not a category. */
const MAX_INTEGER_VALUES = 20;
/** An argument with more distinct values than this is not categorical; it is no longer tracked. */
const MAX_VALUES = 50;

export interface ArgumentDrift {
  tool: string;
  arg: string;
  /** Jensen–Shannon divergence (base 2, 0..1) between the two value distributions. */
  jsd: number;
  /** Count per value on the reference side. */
  reference: Record<string, number>;
  /** Count per value on the candidate side. */
  candidate: Record<string, number>;
}

interface ArgumentCounts {
  reference: Map<string, number>;
  candidate: Map<string, number>;
  integers: Set<number>;
}

/**
 * Drift of categorical tool arguments: per tool and argument, how the mix of values
 * moved between the reference's tool calls and the candidate's (a template chosen,
 * a status set, a flag), as Jensen–Shannon divergence.
 *
 * Counted values: strings up to 64 characters, booleans and integers, at the top level
 * of the arguments. Counts are keyed by the value as text, so the string "true" and the
 * boolean true (or "3" and 3) share a key: this measures which value, not its type
 * (effects comparison sees type changes). Floats, null, arrays, objects and longer
 * strings are skipped. An argument stops being tracked, and drops out of the result,
 * once it has shown more than 50 distinct values, or more than 20 distinct integers,
 * over both sides together: it is an id, an amount or free text, not a category.
 * Memory stays bounded by tools × arguments × 51 values.
 *
 * When to use: a run's tool-call drift, to see *how* a candidate calls the tools it
 * still calls (refunds approved rather than denied), which name-level drift misses.
 * When not to use: ids, amounts or free text (not categorical: they are skipped); as
 * a significance test (JSD has no sample size: read it with the counts).
 *
 * @example
 * const drift = createArgumentDrift();
 * drift.addReference('send_customer_email', { template: 'refund_denied', to: 'a@b.c' });
 * drift.addCandidate('send_customer_email', { template: 'refund_approved', to: 'a@b.c' });
 * drift.finish()[0] // { tool: 'send_customer_email', arg: 'template', jsd: 1, ... }
 */
export function createArgumentDrift() {
  /** Per tool, per argument: its counts, or null once it has shown itself not categorical. */
  const tools = new Map<string, Map<string, ArgumentCounts | null>>();

  const add = (side: 'reference' | 'candidate', tool: string, args: unknown) => {
    if (args === null || typeof args !== 'object' || Array.isArray(args)) return;
    let perArg = tools.get(tool);
    if (!perArg) tools.set(tool, (perArg = new Map()));
    for (const [arg, value] of Object.entries(args)) {
      const key = categoryOf(value);
      if (key === undefined) continue;
      let counts = perArg.get(arg);
      if (counts === null) continue;
      if (!counts) perArg.set(arg, (counts = { reference: new Map(), candidate: new Map(), integers: new Set() }));
      if (typeof value === 'number') counts.integers.add(value);
      const seen = counts[side];
      seen.set(key, (seen.get(key) ?? 0) + 1);
      if (counts.integers.size > MAX_INTEGER_VALUES || distinctValues(counts) > MAX_VALUES) perArg.set(arg, null);
    }
  };

  return {
    /** Counts one tool call of the reference (a recorded trace's tool step). */
    addReference(tool: string, args: unknown): void {
      add('reference', tool, args);
    },
    /** Counts one tool call of the candidate. */
    addCandidate(tool: string, args: unknown): void {
      add('candidate', tool, args);
    },
    /** Arguments seen on both sides, the largest divergence first (then by tool and argument name). */
    finish(): ArgumentDrift[] {
      const drift: ArgumentDrift[] = [];
      for (const [tool, perArg] of tools) {
        for (const [arg, counts] of perArg) {
          if (!counts || counts.reference.size === 0 || counts.candidate.size === 0) continue;
          const reference = Object.fromEntries(counts.reference);
          const candidate = Object.fromEntries(counts.candidate);
          drift.push({ tool, arg, jsd: jensenShannon(reference, candidate)!, reference, candidate });
        }
      }
      return drift.sort((a, b) => b.jsd - a.jsd || compare(a.tool, b.tool) || compare(a.arg, b.arg));
    },
  };
}

export type ArgumentDriftAccumulator = ReturnType<typeof createArgumentDrift>;

/** The category a value counts under, or undefined when the value is not categorical. */
function categoryOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length <= MAX_STRING_LENGTH ? value : undefined;
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  return undefined;
}

function distinctValues(counts: ArgumentCounts): number {
  let n = counts.reference.size;
  for (const key of counts.candidate.keys()) if (!counts.reference.has(key)) n++;
  return n;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
