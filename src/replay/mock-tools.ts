import { callKey } from '../trace/canonical.js';
import type { ToolCatalog, ToolDefinition } from '../trace/catalog.js';
import type { ToolStep, Trace } from '../trace/schema.js';
import type { MockSource } from './types.js';

export interface MockOptions {
  /** `exact`: name and canonical arguments; `by-order`: exact, else the next unused recording of that tool. */
  match: 'exact' | 'by-order';
  /** Argument paths left out when matching. */
  ignoreArgs: readonly string[];
}

export type MockAnswer =
  | { kind: 'result'; source: Exclude<MockSource, 'off-trace'>; result: unknown; recorded?: ToolStep }
  /** The recording of this call failed: the candidate gets the same failure. */
  | { kind: 'error'; source: 'recording' | 'by-order'; error: unknown; recorded: ToolStep }
  | { kind: 'off-trace'; reason: string };

export interface MockToolbox {
  /** The recordings it answers from. */
  readonly recordings: readonly Recording[];
  tool(name: string): ToolDefinition | undefined;
  /** Answers one call. Pure apart from marking recordings as used. An answer is the recorded (or catalog's) value itself: the caller copies what it gives away. */
  call(name: string, args: Record<string, unknown>): MockAnswer;
}

/** One recorded tool call the mocks answer from: its identity (name and canonical arguments, less the ignored ones) and its step. */
export interface Recording {
  key: string;
  step: ToolStep;
}

/** The trace's recorded tool calls, each with its identity under these mock options. */
export function recordingsOf(trace: Trace, options: MockOptions): Recording[] {
  const out: Recording[] = [];
  for (const step of trace.steps) if (step.type === 'tool') out.push({ key: callKey(step.name, step.args, options.ignoreArgs), step });
  return out;
}

/**
 * Mocks every tool of the catalog for one trace. Nothing is ever executed: a
 * call is answered from the recorded tool steps (each recording used once,
 * then the last matching one again), else by the catalog (`ack` for a write,
 * `stub` for any tool), else it is off-trace.
 */
export function createMockToolbox(trace: Trace, catalog: ToolCatalog, options: MockOptions): MockToolbox {
  return mockToolbox(recordingsOf(trace, options), catalog, options, (name, args) => callKey(name, args, options.ignoreArgs));
}

/**
 * The mocks over a list of recordings, whose identities `keyOf` gives for a call. A
 * candidate's process answers from recordings keyed by a digest of the identity (see
 * pool/local-answers), so that it holds no recorded arguments; the harness, from the trace.
 */
export function mockToolbox(recordings: readonly Recording[], catalog: ToolCatalog, options: MockOptions, keyOf: (name: string, args: Record<string, unknown>) => string): MockToolbox {
  const tools = new Map(catalog.tools.map((t) => [t.name, t]));
  const byKey = new Map<string, number[]>();
  const byName = new Map<string, number[]>();
  recordings.forEach(({ key, step }, i) => {
    push(byKey, key, i);
    push(byName, step.name, i);
  });
  const used = new Set<number>();

  // Answers are the recorded values themselves, never to be changed: the session gives the candidate copies.
  const answer = (i: number, source: 'recording' | 'by-order'): MockAnswer => {
    used.add(i);
    const step = recordings[i]!.step;
    return step.error !== undefined ? { kind: 'error', source, error: step.error, recorded: step } : { kind: 'result', source, result: step.result ?? null, recorded: step };
  };

  return {
    recordings,
    tool: (name) => tools.get(name),
    call(name, args) {
      const tool = tools.get(name);
      if (!tool) return { kind: 'off-trace', reason: `tool ${name} is not in the tool catalog` };
      const exact = byKey.get(keyOf(name, args)) ?? [];
      const fresh = exact.find((i) => !used.has(i));
      if (fresh !== undefined) return answer(fresh, 'recording');
      if (options.match === 'by-order') {
        const next = (byName.get(name) ?? []).find((i) => !used.has(i));
        if (next !== undefined) return answer(next, 'by-order');
      }
      if (exact.length > 0) return answer(exact.at(-1)!, 'recording');
      if (tool.effect !== 'read' && tool.ack !== undefined) return { kind: 'result', source: 'ack', result: tool.ack };
      if (tool.stub !== undefined) return { kind: 'result', source: 'stub', result: tool.stub };
      return {
        kind: 'off-trace',
        reason:
          tool.effect === 'read'
            ? `no recorded ${name} call matches these arguments, and the catalog has no stub for it`
            : `no recorded ${name} call matches these arguments, and the catalog has no ack or stub for it`,
      };
    },
  };
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
