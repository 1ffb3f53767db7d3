/**
 * The entry point of a candidate's child process. Before the candidate is imported it installs
 * the interception of every way out (see child-intercept) and the recording of what the
 * permission model refuses (see child-capabilities); it then imports the candidate once and
 * runs the traces the parent sends, each in its own async context, so that every request,
 * connection and refusal is charged to the trace that made it, and one made by no trace in
 * flight (a timer that fires after `run` returned, `beforeExit`, an interval) is a stray.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import os from 'node:os';
import v8 from 'node:v8';
import { ShadowgateError, ToolCallError, type ErrorCode } from '../../errors.js';
import { redactUrl } from '../../providers/transport.js';
import { errorData } from '../supervise.js';
import { recordDenials } from './child-capabilities.js';
import { sealChannel } from './child-channel.js';
import { interceptEverything, SandboxBlockedError } from './child-intercept.js';
import { PLACEHOLDER_KEY, toolFailure, type Attempt, type ChildInit, type ChildMessage, type ParentMessage, type RunJob, type ToolFailure } from './protocol.js';
import { answerKind, type ReplaySession } from '../session.js';
import { localAnswers } from './local-answers.js';

// Taken before candidate code can replace or remove them: what the candidate later does to process.send, process._send or process.channel reaches none of it.
const channel = sealChannel((what) => report({ kind: 'blocked', method: 'IPC', target: what, why: "candidate code may not message shadowgate's process" }));
const send = channel.send as (message: ChildMessage, callback?: (error: Error | null) => void) => boolean;
const exit = process.exit.bind(process);
const later = setImmediate;
// Node's own signal call, under process.kill (which the sandbox wraps to refuse other processes).
const rawKill = (process as unknown as { _kill: (pid: number, signal: number) => number })._kill;
const serialize = v8.serialize;
// Taken before candidate code can replace them (`Function.prototype.call`, `Array.prototype.push`, an index setter on `Array.prototype`).
const apply = Reflect.apply;
const defineProperty = Object.defineProperty;
/** Adds `item` at the end of `list` as its own property: no prototype method or setter sees it. */
const append = <T>(list: T[], item: T) => void defineProperty(list, list.length, { value: item, writable: true, enumerable: true, configurable: true });

// This process ends when shadowgate's does: when the channel closes, and, should a listener be
// removed or the event never come, when its parent is gone (checked every second). A SIGKILL to
// itself, so that no `exit` handler of the candidate's can keep it alive.
const parent = process.ppid;
// Read now: candidate code can redefine `process.pid` (to have this kill another process).
const ownPid = process.pid;
const orphaned = () => {
  try {
    apply(rawKill, process, [ownPid, os.constants.signals.SIGKILL]);
  } finally {
    exit(0);
  }
};
process.on('disconnect', orphaned);
setInterval(() => {
  if (process.ppid !== parent || apply(rawKill, process, [parent, 0]) !== 0) orphaned();
}, 1000).unref();

const inFlight = new Map<number, AbortController>();
/** The sessions answering the tool calls of traces in flight, here (see local-answers); a trace that sends a request through the parent leaves this map. */
const sessions = new Map<number, ReplaySession>();
let local: ReturnType<typeof localAnswers> | undefined;
const context = new AsyncLocalStorage<{ job: number; traceId: string }>();

/** The trace a request or refusal belongs to: a trace in flight, or a stray (with the trace that started it, where known). */
function owner(): { job: number | null; startedBy: string | null; stray: boolean } {
  const store = context.getStore();
  if (store && inFlight.has(store.job)) return { job: store.job, startedBy: store.traceId, stray: false };
  return { job: null, startedBy: store?.traceId ?? null, stray: true };
}

/** Attempts are sent at once, with what was queued before them: the process may be about to end (an `exit` handler, a crash). */
function report(attempt: Attempt): void {
  trySend({ t: 'attempt', ...owner(), attempt });
  flush();
}

/** Messages queued in this turn of the event loop: one IPC write for all of them (see `flush`). */
let outbox: ChildMessage[] = [];

function trySend(message: ChildMessage): void {
  append(outbox, message);
  if (outbox.length === 1) later(flush);
}

function flush(): void {
  const messages = outbox;
  outbox = [];
  if (messages.length === 0) return;
  try {
    send(messages.length === 1 ? messages[0]! : { t: 'batch', messages });
  } catch {
    // A value that cannot be sent (a candidate's outcome with a function in it), or the channel is gone: one at a time.
    for (const message of messages) sendOne(message);
  }
}

function sendOne(message: ChildMessage): void {
  try {
    send(message);
  } catch (error) {
    if (message.t === 'tool') {
      // Arguments that cannot be sent (a function in them): the call fails, as the candidate's own mistake.
      pendingTools.get(message.call)?.reject(error as Error);
      pendingTools.delete(message.call);
    }
    if (message.t !== 'done') return; // the channel is gone: the parent has ended this process's work
    const why = `the candidate's outcome cannot be sent to shadowgate: ${(error as Error).message}`;
    try {
      send({ t: 'threw', job: message.job, error: { name: 'DataCloneError', code: 'CANDIDATE_OUTPUT_INVALID', message: why } });
    } catch {
      // the channel is gone
    }
  }
}

let nextReq = 0;
const pendingHttp = new Map<number, { resolve: (r: Response) => void; reject: (e: Error) => void; stream?: ReadableStreamDefaultController<Uint8Array> }>();
let nextCall = 0;
const pendingTools = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

interceptEverything({
  async request(request) {
    const who = owner();
    const target = redactUrl(request.url);
    if (who.job === null) {
      report({ kind: 'blocked', method: request.method, target, why: 'no trace of this process was in flight' });
      throw new SandboxBlockedError(`${request.method} ${target}`);
    }
    const body = request.method === 'GET' || request.method === 'HEAD' ? null : new Uint8Array(await request.arrayBuffer());
    const headers = [...request.headers].filter(([name]) => !SECRET_HEADERS.has(name.toLowerCase()));
    const req = nextReq++;
    // The parent's session now changes in ways this one does not see (a model step, a budget): its tool calls go to the parent from here on.
    sessions.delete(who.job);
    return new Promise<Response>((resolve, reject) => {
      pendingHttp.set(req, { resolve, reject });
      trySend({ t: 'http', job: who.job!, req, method: request.method, url: request.url, headers, body });
    });
  },
  refuse(method, target, why) {
    report({ kind: 'blocked', method, target, why });
    return new SandboxBlockedError(`${method} ${target}`);
  },
});

recordDenials((capability, target) => report({ kind: 'denied', method: 'DENIED', capability, target, why: 'refused by the permission model' }));

/** Headers that carry credentials: the candidate's own are never sent on (the parent puts the run's key on model requests). */
const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'api-key', 'cookie', 'proxy-authorization']);

// A crash ends this process; the parent ends the traces it had in flight as CANDIDATE_CRASHED.
const crash = (error: unknown) => {
  const e = error instanceof Error ? error : new Error(String(error));
  flush();
  try {
    send({ t: 'crash', error: { message: e.message, stack: e.stack } }, () => exit(70));
  } catch {
    exit(70);
  }
  setTimeout(() => exit(70), 1000).unref();
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

let run: ((input: unknown, ctx: unknown) => unknown) | undefined;
let init: ChildInit | undefined;

process.on('message', (message: ParentMessage) => {
  if (message.t === 'batch') for (const m of message.messages) receive(m);
  else receive(message);
});

function receive(message: ParentMessage): void {
  switch (message.t) {
    case 'init':
      void load(message);
      return;
    case 'run':
      append(queued, message);
      if (queued.length === 1) later(startQueued);
      return;
    case 'tool-reply': {
      const pending = pendingTools.get(message.call);
      pendingTools.delete(message.call);
      if (!pending) return;
      if (message.ok) pending.resolve(message.value);
      else pending.reject(toolError(message.error));
      return;
    }
    case 'http-head': {
      const pending = pendingHttp.get(message.req);
      if (!pending) return;
      const body =
        message.status === 204 || message.status === 304
          ? null
          : new ReadableStream<Uint8Array>({ start: (controller) => void (pending.stream = controller) });
      pending.resolve(new Response(body, { status: message.status, statusText: message.statusText, headers: message.headers }));
      if (!body) pendingHttp.delete(message.req);
      return;
    }
    case 'http-chunk':
      pendingHttp.get(message.req)?.stream?.enqueue(message.chunk);
      return;
    case 'http-end':
      pendingHttp.get(message.req)?.stream?.close();
      pendingHttp.delete(message.req);
      return;
    case 'http-error': {
      const pending = pendingHttp.get(message.req);
      pendingHttp.delete(message.req);
      if (!pending) return;
      const error = new SandboxBlockedError(message.message);
      error.message = message.message;
      if (pending.stream) pending.stream.error(error);
      else pending.reject(error);
      return;
    }
    case 'abort':
      if (dequeue(message.job)) trySend({ t: 'threw', job: message.job, error: { name: 'ShadowgateError', code: 'SG_BUDGET_EXCEEDED', message: message.reason } });
      inFlight.get(message.job)?.abort(new ShadowgateError('SG_BUDGET_EXCEEDED', message.reason));
      return;
    case 'drain':
      // Nothing of ours keeps the loop alive now: what the candidate left running (or its beforeExit handlers) decides, and the parent kills what lingers.
      channel.unref();
      return;
  }
}

async function load(message: ChildInit): Promise<void> {
  init = message;
  try {
    if (message.local) local = localAnswers(message.local);
    const mod = (await import(pathToFileURL(message.module).href)) as Record<string, unknown>;
    const found = mod.run ?? (mod.default as Record<string, unknown> | undefined)?.run;
    if (typeof found !== 'function') {
      trySend({ t: 'load-error', message: 'a module candidate must export `run(input, ctx)`' });
      return;
    }
    run = found as typeof run;
    trySend({ t: 'ready' });
  } catch (error) {
    trySend({ t: 'load-error', message: `cannot import candidate module ${message.module}: ${(error as Error).message}` });
  }
}

/** Traces sent and not yet started. */
const queued: RunJob[] = [];
/** Traces started a turn: with more, the parent waits for the whole group's results while this process runs them, then this one waits while the parent builds them. */
const RUNS_PER_TURN = 2;

/**
 * Starts the traces waiting, a few a turn of the event loop, and sends what the previous turn's
 * finished: the parent builds those results while this process runs the next ones, rather than
 * the two taking turns (a trace answered from its recordings runs whole in one turn).
 */
function startQueued(): void {
  flush();
  const now = queued.splice(0, RUNS_PER_TURN);
  for (const job of now) start(job);
  if (queued.length > 0) later(startQueued);
}

/** A trace stopped before its turn never starts (its code would run for a trace already ended); whether it was waiting. */
function dequeue(job: number): boolean {
  const at = queued.findIndex((q) => q.job === job);
  if (at >= 0) queued.splice(at, 1);
  return at >= 0;
}

function start(job: RunJob): void {
  const controller = new AbortController();
  inFlight.set(job.job, controller);
  if (local && job.answers) sessions.set(job.job, local.session(job.trace, job.answers));
  void context.run({ job: job.job, traceId: job.trace.id }, async () => {
    let value: unknown;
    let failure: unknown;
    let threw = false;
    try {
      value = await run!(job.input, contextFor(job, controller.signal));
    } catch (error) {
      threw = true;
      failure = error;
    }
    // From here on, whatever this trace's code still does is a stray.
    inFlight.delete(job.job);
    sessions.delete(job.job);
    if (threw) {
      trySend({ t: 'threw', job: job.job, error: errorData(failure, 'CANDIDATE_THREW') });
      return;
    }
    try {
      const size = serialize(value).byteLength;
      if (size > init!.maxOutcomeBytes) {
        trySend({ t: 'threw', job: job.job, error: { name: 'RangeError', code: 'CANDIDATE_OUTPUT_INVALID', message: `the candidate's outcome is larger than ${init!.maxOutcomeBytes} bytes serialized (${size})` } });
        return;
      }
      trySend({ t: 'done', job: job.job, value });
    } catch (error) {
      trySend({ t: 'threw', job: job.job, error: { name: 'DataCloneError', code: 'CANDIDATE_OUTPUT_INVALID', message: `the candidate's outcome cannot be sent to shadowgate: ${(error as Error).message}` } });
    }
  });
}

function contextFor(job: RunJob, signal: AbortSignal) {
  const call = (name: string) => (args: Record<string, unknown>) => {
    const session = sessions.get(job.job);
    return session ? answerHere(session, name, args) : askParent(name, args);
  };
  /** Answered by this trace's session here; the parent is told the call and the kind of answer, and replays it. */
  const answerHere = (session: ReplaySession, name: string, args: Record<string, unknown>) => {
    let copy: Record<string, unknown>;
    try {
      // What the parent will see: arguments that cannot be sent fail the call, as the candidate's own mistake.
      copy = structuredClone(args ?? {});
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const answer = session.answerTool(name, isRecord(copy) ? copy : {});
    trySend({ t: 'tool', job: job.job, call: nextCall++, name, args: copy, local: answerKind(answer) });
    return answer.ok ? Promise.resolve(answer.value) : Promise.reject(toolError(toolFailure(answer.error)));
  };
  const askParent = (name: string, args: Record<string, unknown>) =>
    new Promise<unknown>((resolve, reject) => {
      const id = nextCall++;
      pendingTools.set(id, { resolve, reject });
      trySend({ t: 'tool', job: job.job, call: id, name, args: args ?? {} });
    });
  const names = init!.tools;
  const tools = new Proxy({} as Record<string, ReturnType<typeof call>>, {
    get: (_, name) => (typeof name === 'string' ? call(name) : undefined),
    has: (_, name) => names.includes(name as string),
    ownKeys: () => names,
    getOwnPropertyDescriptor: () => ({ enumerable: true, configurable: true }),
  });
  return { tools, llm: llmClients(), trace: job.trace, signal, scratchDir: init!.scratchDir, log: () => {} };
}

const clients: { openai?: unknown; anthropic?: unknown } = {};
const requireSdk = createRequire(import.meta.url);
/** SDK clients on the run's model endpoints, with a placeholder key: their requests are forwarded like any other. */
function llmClients() {
  const base = init!.llm;
  return {
    get openai() {
      if (!base.openai) throw new ShadowgateError('SG_INTERNAL', 'ctx.llm.openai is not available in this run');
      return (clients.openai ??= sdk('openai', base.openai));
    },
    get anthropic() {
      if (!base.anthropic) throw new ShadowgateError('SG_INTERNAL', 'ctx.llm.anthropic is not available in this run');
      return (clients.anthropic ??= sdk('anthropic', base.anthropic));
    },
  };
}

function sdk(provider: 'openai' | 'anthropic', baseURL: string): unknown {
  // Loaded on first use, like the parent's: a candidate that never calls a model does not load them.
  const options = { apiKey: PLACEHOLDER_KEY, baseURL, maxRetries: 0, timeout: 10 * 60_000 };
  return provider === 'openai' ? new (requireSdk('openai') as typeof import('openai')).OpenAI(options) : new (requireSdk('@anthropic-ai/sdk') as typeof import('@anthropic-ai/sdk')).Anthropic(options);
}

/** A failed tool call as the candidate sees it: a ToolCallError for a tool's own failure, else the stop that ended the trace. */
function toolError(failure: ToolFailure): Error {
  if (failure.tool !== undefined) return new ToolCallError(failure.tool, failure.recordedError);
  const error = new ShadowgateError(failure.code as ErrorCode, failure.message);
  error.name = failure.name;
  return error;
}


function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
