/**
 * The messages between shadowgate and a candidate's child process, over the IPC channel
 * (never stdout, which candidate code may write to or close). Every message from a child is
 * untrusted input: candidate code shares the child's process, so the parent checks each one
 * against the jobs it sent to that child and answers nothing it would not answer a request.
 */

import { ToolCallError } from '../../errors.js';
import type { LocalSetup, RecordedAnswer } from './local-answers.js';

/** What the child needs to know before it imports the candidate. */
export interface ChildInit {
  t: 'init';
  module: string;
  /** Base URLs of `ctx.llm.openai` and `ctx.llm.anthropic`; their requests are forwarded like any other. */
  llm: { openai?: string; anthropic?: string };
  /** The per-run folder the candidate may write to (`ctx.scratchDir`). */
  scratchDir: string;
  /** Names of the catalog's tools (`ctx.tools`). */
  tools: string[];
  /** The largest outcome `run` may resolve to, serialized; a larger one ends the trace CANDIDATE_OUTPUT_INVALID. */
  maxOutcomeBytes: number;
  /** How to answer tool calls in the child (see local-answers); absent, every call goes to the parent and back. */
  local?: LocalSetup;
}

/** A trace for the child to run: everything `run(input, ctx)` is given, nothing else of the trace. */
export interface RunJob {
  t: 'run';
  job: number;
  trace: { id: string; caseId: string; workflow: string; trial: number };
  input: unknown;
  /** The trace's recorded tool calls, keyed by digest, for the child to answer from (with `init.local`). */
  answers?: RecordedAnswer[];
}

/** A failed tool call, as the candidate's `ctx.tools` promise rejects with it. */
export interface ToolFailure {
  name: string;
  message: string;
  code: string;
  tool?: string;
  recordedError?: unknown;
}

export type ParentMessage =
  | ChildInit
  | RunJob
  | { t: 'tool-reply'; call: number; ok: true; value: unknown }
  | { t: 'tool-reply'; call: number; ok: false; error: ToolFailure }
  | { t: 'http-head'; req: number; status: number; statusText: string; headers: [string, string][] }
  | { t: 'http-chunk'; req: number; chunk: Uint8Array }
  | { t: 'http-end'; req: number }
  | { t: 'http-error'; req: number; message: string }
  /** A budget stopped the trace: the candidate's `ctx.signal` aborts. */
  | { t: 'abort'; job: number; reason: string }
  /** No more traces: the child lets its event loop end (`beforeExit` handlers run, and what they send is a stray). */
  | { t: 'drain' }
  /** Messages queued in one turn of the event loop, sent as one: each IPC write costs a system call and a wake-up on the other side. */
  | { t: 'batch'; messages: ParentMessage[] };

/** A raw HTTP request, as the child's fetch, node:http(s) or an SDK made it; auth headers are removed before it is sent. */
export interface ForwardedRequest {
  t: 'http';
  job: number;
  req: number;
  method: string;
  url: string;
  headers: [string, string][];
  body: Uint8Array | null;
}

/** How a candidate's request, connection or capability use was refused in the child. */
export interface Attempt {
  /** `blocked`: a network attempt that never became an HTTP request (socket, UDP, DNS, HTTP/2); `denied`: the permission model refused a capability; `protocol`: the parent refused a message from the child, and killed it. */
  kind: 'blocked' | 'denied' | 'protocol';
  /** For blocked attempts: CONNECT, UDP, DNS, HTTP2, or the HTTP method of a stray request. */
  method: string;
  /** For denied attempts: fs-write, child-process, worker, addons, binding, signal. */
  capability?: string;
  /** Host and port, URL (redacted) or path. */
  target: string;
  why: string;
}

export type ChildMessage =
  | { t: 'ready' }
  | { t: 'load-error'; message: string }
  /** A tool call: to be answered by the parent, or, with `local`, already answered by the child with that kind of answer, for the parent to replay and check. */
  | { t: 'tool'; job: number; call: number; name: string; args: Record<string, unknown>; local?: 'result' | 'error' | 'stop' }
  | ForwardedRequest
  /** An attempt made by a trace in flight (`job`), or by none: a stray, with the trace that started it where known. */
  | { t: 'attempt'; job: number | null; startedBy: string | null; stray: boolean; attempt: Attempt }
  | { t: 'done'; job: number; value: unknown }
  /** `run` threw or rejected: the error as data (code, message, name), as the harness records it. */
  | { t: 'threw'; job: number; error: { code: string; message: string; name?: string } }
  /** An uncaught exception or unhandled rejection: the child is about to end. */
  | { t: 'crash'; error: { message: string; stack?: string } }
  /** Messages queued in one turn of the child's event loop, in order (never nested). */
  | { t: 'batch'; messages: ChildMessage[] };

/** The API-key value children see in place of a key: not a secret; the parent puts the run's key on every model request. */
export const PLACEHOLDER_KEY = 'sk-shadowgate-placeholder';

/** A failed tool call as data, to cross the channel: a tool's own failure keeps its recorded error; a stop, its code and message. */
export function toolFailure(error: unknown): ToolFailure {
  if (error instanceof ToolCallError) return { name: error.name, code: error.code, message: error.message, tool: error.tool, recordedError: error.recordedError };
  const e = error as { name?: unknown; code?: unknown; message?: unknown };
  return { name: String(e?.name ?? 'Error'), code: String(e?.code ?? 'SG_INTERNAL'), message: String(e?.message ?? error) };
}
