import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fastTrace } from './fast-check.js';
import { TraceSchema } from './schema.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const bundled = readdirSync(join(ROOT, 'traces/refund-triage'))
  .filter((f) => f.endsWith('.jsonl'))
  .flatMap((f) => readFileSync(join(ROOT, 'traces/refund-triage', f), 'utf8').split('\n'))
  .filter((line) => line.trim() !== '');

/** zod's verdict on a value, as the reader takes it: the trace as JSON, or null where zod refuses it. */
function byZod(value: unknown): string | null {
  const parsed = TraceSchema.safeParse(value);
  return parsed.success ? JSON.stringify(parsed.data) : null;
}

/** The compiled check's verdict: the trace as JSON, or null where it leaves the line to zod. */
function byFastCheck(value: unknown): string | null {
  const trace = fastTrace(value);
  return trace === undefined ? null : JSON.stringify(trace);
}

/** Every key of an object in the reverse order, at every depth. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reversed(v)]));
}

/** Variants of a valid trace, each changed in one place; most are not valid traces. */
function variants(trace: Record<string, unknown>): [string, unknown][] {
  const steps = trace.steps as Record<string, unknown>[];
  const tool = steps.findIndex((s) => s.type === 'tool');
  const withStep = (i: number, step: Record<string, unknown>) => ({ ...trace, steps: steps.map((s, j) => (j === i ? step : s)) });
  return [
    ['keys in reverse order at every depth', reversed(trace)],
    ['no input', Object.fromEntries(Object.entries(trace).filter(([k]) => k !== 'input'))],
    ['no steps', Object.fromEntries(Object.entries(trace).filter(([k]) => k !== 'steps'))],
    ['an unknown key', { ...trace, extra: 1 }],
    ['an own __proto__ key', JSON.parse(JSON.stringify(trace).replace(/^\{/, '{"__proto__":{"x":1},'))],
    ['a step with an own __proto__ key in its arguments', JSON.parse(JSON.stringify(withStep(tool, { ...steps[tool]!, args: { b: 1 } })).replace('"args":{"b":1}', '"args":{"b":1,"__proto__":{"x":1},"a":2}'))],
    ['an empty id', { ...trace, id: '' }],
    ['a number id', { ...trace, id: 7 }],
    ['another schema', { ...trace, schema: 'shadowgate.trace/v2' }],
    ['a negative trial', { ...trace, trial: -1 }],
    ['a fractional trial', { ...trace, trial: 1.5 }],
    ['a trial beyond the safe integers', { ...trace, trial: 2 ** 53 }],
    ['an unknown phase', { ...trace, phase: 'later' }],
    ['a step of an unknown type', withStep(tool, { ...steps[tool]!, type: 'note' })],
    ['a step without a type', withStep(tool, Object.fromEntries(Object.entries(steps[tool]!).filter(([k]) => k !== 'type')))],
    ['a tool step with array arguments', withStep(tool, { ...steps[tool]!, args: [] })],
    ['a tool step with a negative latency', withStep(tool, { ...steps[tool]!, latencyMs: -1 })],
    ['a tool step with an infinite latency (1e400 in the JSON)', JSON.parse(JSON.stringify(withStep(tool, { ...steps[tool]!, latencyMs: 12345 })).replace('"latencyMs":12345', '"latencyMs":1e400'))],
    ['a tool step with an unknown key', withStep(tool, { ...steps[tool]!, extra: true })],
    ['an llm step without output', withStep(0, { type: 'llm', model: 'm' })],
    ['an llm step with fractional tokens', withStep(0, { type: 'llm', model: 'm', output: {}, usage: { inputTokens: 1.5, outputTokens: 1 } })],
    ['an llm step with tool calls, keys reversed', withStep(0, { usage: { outputTokens: 2, inputTokens: 1 }, output: { toolCalls: [{ args: {}, name: 'n', id: 'c' }], text: 't' }, model: 'm', type: 'llm' })],
    ['an outcome of an unknown status', { ...trace, outcome: { status: 'done' } }],
    ['human actions with keys reversed', { ...trace, human: { actions: [{ args: { a: 1 }, name: 'refund' }], decision: { action: 'refund' } } }],
    ['tags that are not strings', { ...trace, tags: [1] }],
    ['metadata that is an array', { ...trace, metadata: [] }],
  ];
}

describe('fastTrace', () => {
  it('accepts every bundled trace, as zod gives it', () => {
    expect(bundled.length).toBeGreaterThan(100);
    for (const line of bundled) {
      expect(byZod(JSON.parse(line))).not.toBeNull();
      expect(byFastCheck(JSON.parse(line))).toBe(byZod(JSON.parse(line)));
    }
  });

  it('never accepts what zod refuses, and gives what zod gives where it accepts (key order, __proto__)', () => {
    let refusedByZod = 0;
    for (const line of bundled.slice(0, 40)) {
      for (const [what, value] of variants(JSON.parse(line) as Record<string, unknown>)) {
        // Each variant checked on a fresh copy: neither check may depend on the other having run.
        const zod = byZod(structuredClone(value));
        const fast = byFastCheck(structuredClone(value));
        if (zod === null) refusedByZod++;
        expect.soft(fast === null || fast === zod, what).toBe(true);
      }
    }
    // The variants do test refusals: most of them are not valid traces.
    expect(refusedByZod).toBeGreaterThan(40 * 15);
  });

  it('accepts a trace whose keys are out of the schema order, and gives them in it', () => {
    const trace = reversed(JSON.parse(bundled[0]!));
    const fast = byFastCheck(trace);
    expect(fast).not.toBeNull();
    expect(fast).toBe(byZod(trace));
    expect(Object.keys(JSON.parse(fast!))[0]).toBe('schema');
  });
});
