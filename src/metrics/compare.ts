import { callKey, canonicalJson } from '../trace/canonical.js';
import type { ToolCatalog } from '../trace/catalog.js';
import type { Action, Step, Trace } from '../trace/schema.js';
import type { CallRef, Divergence } from '../replay/types.js';
import { levenshtein, sequenceSimilarity } from './stats.js';

/**
 * The suite's `compare.decision`: the one rule that decides "same decision" everywhere —
 * agreement, flips and McNemar (through each result's `agree`), simulated review verdicts,
 * drift's agreement, `compare`, `prompt diff` and the Vitest matchers. Nothing else in the
 * code base compares two decisions; a second rule would let two figures of one run disagree
 * about the same pair (a simulated review rejecting what agreement calls equal).
 */
export interface DecisionComparator {
  /** Compare only these fields of object decisions; all of it when absent. */
  fields?: readonly string[];
  /** Absolute tolerance for numbers. */
  numericTolerance: number;
}

/** Decisions compared whole, numbers exactly (up to float rounding): the comparator of a suite that sets none. */
export const WHOLE_DECISION: DecisionComparator = { numericTolerance: 0 };

/**
 * Whether two decisions agree: deep equality over canonical values, numbers
 * within the tolerance, and, with `fields`, only those fields (a field absent on
 * both sides agrees).
 * @example decisionsAgree({ amount: 10.004 }, { amount: 10 }, { numericTolerance: 0.01 }) // true
 */
export function decisionsAgree(candidate: unknown, reference: unknown, comparator: DecisionComparator): boolean {
  if (comparator.fields && isObject(candidate) && isObject(reference)) {
    return comparator.fields.every((f) => valuesEqual(candidate[f], reference[f], comparator.numericTolerance));
  }
  return valuesEqual(candidate, reference, comparator.numericTolerance);
}

/**
 * How far one decision is from another, in [0, 1], under the same comparator, so that the
 * distance is 0 exactly when `decisionsAgree` says they agree:
 * - two objects: the share of compared fields (the comparator's `fields`, else the union of
 *   both key sets) whose values differ under the comparator (absent on one side differs);
 * - two strings: normalised Levenshtein distance on code points (distance / longer length);
 * - anything else: 0 when they agree, 1 when not.
 * When to use: how much a reviewer had to change (suggest phase). When not to use: to decide
 * agreement; that is `decisionsAgree`.
 * @example decisionDistance({ action: 'refund', amount: 10 }, { action: 'refund', amount: 12 }, WHOLE_DECISION) // 0.5
 */
export function decisionDistance(a: unknown, b: unknown, comparator: DecisionComparator): number {
  if (isObject(a) && isObject(b)) {
    const keys = comparator.fields ?? [...new Set([...Object.keys(a), ...Object.keys(b)])];
    if (keys.length === 0) return 0;
    const differing = keys.filter((k) => !valuesEqual(a[k], b[k], comparator.numericTolerance)).length;
    return differing / keys.length;
  }
  if (typeof a === 'string' && typeof b === 'string') {
    // Code points, not UTF-16 units: an emoji is one character.
    const xs = Array.from(a);
    const ys = Array.from(b);
    const longest = Math.max(xs.length, ys.length);
    return longest === 0 ? 0 : levenshtein(xs, ys) / longest;
  }
  return decisionsAgree(a, b, comparator) ? 0 : 1;
}

function valuesEqual(a: unknown, b: unknown, tolerance: number): boolean {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= tolerance + 1e-12;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => valuesEqual(v, b[i], tolerance));
  }
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => valuesEqual(a[k], b[k], tolerance));
  }
  if (a === undefined || b === undefined) return a === b;
  // The same value is the same canonically; only different ones need their canonical forms.
  return a === b || canonicalJson(a) === canonicalJson(b);
}

/** A decision the comparator can pick fields from: an object, not an array or null. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** True when the tool writes (or is unknown to the catalog, which we treat as a write to stay safe). */
export function isWriteTool(catalog: ToolCatalog, name: string): boolean {
  const tool = catalog.tools.find((t) => t.name === name);
  return tool === undefined || tool.effect !== 'read';
}

/** The effects of a list of steps: calls of write tools that did not fail. */
export function effectsOf(steps: readonly Step[], catalog: ToolCatalog): Action[] {
  const effects: Action[] = [];
  for (const s of steps) {
    if (s.type === 'tool' && s.error === undefined && isWriteTool(catalog, s.name)) {
      effects.push({ name: s.name, args: s.args });
    }
  }
  return effects;
}

/** Whether two lists of effects are equal as multisets of (name, canonical arguments less ignored ones). */
export function effectsAgree(candidate: readonly Action[], reference: readonly Action[], ignoreArgs: readonly string[]): boolean {
  if (candidate.length !== reference.length) return false;
  const keys = (list: readonly Action[]) => list.map((a) => callKey(a.name, a.args, ignoreArgs)).sort();
  const a = keys(candidate);
  const b = keys(reference);
  return a.every((k, i) => k === b[i]);
}

/** What the candidate is compared with under a suite's `reference`. */
export function referenceOf(
  trace: Trace,
  reference: 'human' | 'recorded',
  catalog: ToolCatalog,
): { decision: unknown; effects: Action[] | undefined } {
  if (reference === 'human') {
    return {
      decision: trace.human?.decision,
      effects: trace.human?.actions?.filter((a) => isWriteTool(catalog, a.name)),
    };
  }
  return { decision: trace.outcome?.decision, effects: effectsOf(trace.steps, catalog) };
}

const toolCalls = (steps: readonly Step[]) =>
  steps.flatMap((s, index) => (s.type === 'tool' ? [{ index, ref: { name: s.name, args: s.args } }] : []));

/** Tool names of the tool steps, in order. */
export function toolNames(steps: readonly Step[]): string[] {
  return steps.flatMap((s) => (s.type === 'tool' ? [s.name] : []));
}

/** Similarity of the two tool-name sequences (1 − normalised Levenshtein). */
export function toolSequenceSimilarity(candidate: readonly Step[], recorded: readonly Step[]): number {
  return sequenceSimilarity(toolNames(candidate), toolNames(recorded));
}

/**
 * The first tool call where the candidate left the recorded path: a different
 * tool or different arguments (less the ignored ones), or one side stopping
 * early. Null when the two call sequences are the same.
 */
export function findDivergence(
  candidate: readonly Step[],
  recorded: readonly Step[],
  ignoreArgs: readonly string[] = [],
): Divergence | null {
  const c = toolCalls(candidate);
  const r = toolCalls(recorded);
  for (let i = 0; i < Math.max(c.length, r.length); i++) {
    const ci = c[i];
    const ri = r[i];
    const same = ci && ri && callKey(ci.ref.name, ci.ref.args, ignoreArgs) === callKey(ri.ref.name, ri.ref.args, ignoreArgs);
    if (same) continue;
    return {
      stepIndex: ci?.index ?? candidate.length,
      recordedStepIndex: ri?.index ?? recorded.length,
      recorded: ri ? (ri.ref satisfies CallRef) : null,
      candidate: ci ? ci.ref : null,
    };
  }
  return null;
}
