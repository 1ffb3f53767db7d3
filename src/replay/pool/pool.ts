import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, InternalError } from '../../errors.js';
import { redactUrl } from '../../providers/transport.js';
import type { ResultError } from '../types.js';
import type { AnswerKind } from '../session.js';
import { recordedAnswers, type LocalSetup } from './local-answers.js';
import type { Recording } from '../mock-tools.js';
import { checkChildMessage, protocolAttempt } from './check-message.js';
import { toolFailure } from './protocol.js';
import type { Attempt, ChildInit, ChildMessage, ParentMessage, RunJob, ToolFailure } from './protocol.js';

/** What a suite lets its candidate's processes do beyond the default (reads only, writes to the scratch folder). */
export interface SandboxAllowances {
  childProcess: boolean;
  worker: boolean;
  addons: boolean;
  /** Folders the candidate may write to, besides its scratch folder. */
  fsWrite: string[];
}

export interface PoolOptions {
  module: string;
  /** Child processes at most; each is started when a trace needs one. */
  workers: number;
  llm: ChildInit['llm'];
  tools: string[];
  allow: SandboxAllowances;
  /** The children's whole environment. */
  env: Record<string, string>;
  /** How long a child whose trace ran out of time may take to stop before it is killed. @default 500 */
  graceMs?: number;
  /** How long a child may take to start and import the candidate before it is killed. @default 30000 */
  importTimeoutMs?: number;
  /** The largest outcome a trace's `run` may resolve to, serialized. @default 1000000 */
  maxOutcomeBytes?: number;
  /** Tool calls are answered in the children from each trace's recorded answers, and replayed here (see local-answers). */
  local?: LocalSetup;
}

/** Children that failed to start in time, one after another, before the pool stops starting them. */
const START_ATTEMPTS = 3;

/** A child did not import the candidate in time: the traces waiting for it end CANDIDATE_IMPORT_TIMEOUT, the candidate's doing. */
class ImportTimeout extends Error {
  readonly code = 'CANDIDATE_IMPORT_TIMEOUT';
}

/** The harness side of one trace in a child: the mocked tools, the request handler and the session's record of violations. */
export interface JobHost {
  callTool(name: string, args: Record<string, unknown>): Promise<unknown>;
  /** A call the child answered already, replayed here: the kind of answer the harness gives, at once. */
  replayTool(name: string, args: Record<string, unknown>): AnswerKind;
  request(request: Request): Promise<Response>;
  attempt(attempt: Attempt): void;
}

/** How the candidate's `run` on one trace ended, seen from the parent. */
export type JobEnd =
  | { kind: 'done'; value: unknown }
  | { kind: 'threw'; error: ResultError }
  /** Its process crashed (uncaught exception, unhandled rejection, exit): CANDIDATE_CRASHED. */
  | { kind: 'crashed'; error: ResultError }
  /** Its process was killed for another trace's time budget: this trace did nothing wrong and runs again. */
  | { kind: 'evicted' };

/** An attempt made in a child while none of its traces was in flight, or a refusal outside any trace. */
export interface RunLevelAttempt {
  attempt: Attempt;
  /** The trace whose code made it, where known (a timer it set, an interval it started). */
  startedBy: string | null;
}

interface Job {
  id: number;
  traceId: string;
  host: JobHost;
  finish: (end: JobEnd) => void;
  /** The parent stopped waiting (a budget ran out): what the child does for it from now on is a stray. */
  abandoned: boolean;
}

interface Child {
  process: ChildProcess;
  jobs: Map<number, Job>;
  /** Every job sent to this child, to name the trace a stray came from. */
  traceOf: Map<number, string>;
  /** Every job ever sent to this child, and its trace: a late tool call or request, or a stray, may only name one of these. */
  sent: Map<number, string>;
  /** The trace ids of `sent`. */
  traces: Set<string>;
  /** It has said `ready` or `load-error`. */
  started: boolean;
  /** It sent a message the parent refused, and was killed for it: its traces in flight end CANDIDATE_CRASHED. */
  refused?: string;
  /** It did not import the candidate in time, and was killed. */
  startTimedOut?: boolean;
  ready: Promise<void>;
  dead: boolean;
  /** Why it is being killed (a budget), so that its other traces are evicted rather than crashed. */
  killedFor?: string;
  crash?: { message: string; stack?: string };
  stderr: string;
  exited: Promise<void>;
  /** Waits on this child besides its jobs (its start, its end): while any, it keeps shadowgate's process alive. */
  waits: number;
  /** Messages for it queued in this turn of the event loop, sent as one batch by `flush`. */
  outbox: ParentMessage[];
}

/**
 * The pool of child processes a module candidate runs in: the harness's own process never
 * runs candidate code. Each child imports the candidate once and runs the traces sent to it;
 * a child that crashes or is killed is replaced by a fresh one when a trace needs it.
 */
export function createCandidatePool(options: PoolOptions) {
  const scratchDir = mkdtempSync(join(tmpdir(), 'shadowgate-scratch-'));
  // Removed by close(), or when shadowgate's process exits if a failing run never closed the pool.
  const removeScratch = () => rmSync(scratchDir, { recursive: true, force: true });
  process.once('exit', removeScratch);
  // However shadowgate's process ends, its children end with it (each is its own process group, so a
  // Ctrl-C in a terminal does not reach them): killed on exit, and on SIGINT/SIGTERM (a CI cancel),
  // after which shadowgate exits with the conventional code. A child also ends itself when its parent goes (see child.ts).
  const killAll = () => {
    for (const child of children) killGroup(child.process);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    killAll();
    removeScratch();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', killAll);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const init: ChildInit = { t: 'init', module: options.module, llm: options.llm, scratchDir, tools: options.tools, maxOutcomeBytes: options.maxOutcomeBytes ?? 1_000_000, ...(options.local ? { local: options.local } : {}) };
  const children: Child[] = [];
  const runLevel: RunLevelAttempt[] = [];
  const graceMs = options.graceMs ?? 500;
  const importTimeoutMs = options.importTimeoutMs ?? 30_000;
  /** Children in a row that did not import the candidate in time; at START_ATTEMPTS, the pool gives up. */
  let startTimeouts = 0;
  const gaveUp = () =>
    new ImportTimeout(`the candidate's process did not start and import ${options.module} within ${importTimeoutMs} ms${startTimeouts > 1 ? ` (${startTimeouts} processes in a row; no more are started)` : ''}`);
  let nextJob = 0;
  let closed = false;

  function spawn(): Child {
    const proc = fork(childEntry(), [], {
      execArgv: permissionFlags([scratchDir, ...options.allow.fsWrite], options.allow),
      env: options.env,
      serialization: 'advanced',
      // The protocol runs over IPC: what the candidate writes to (or does with) stdout and stderr cannot touch it.
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // Its own process group, so that a signal to the group reaches no shadowgate process (on Windows it would open a console).
      detached: process.platform !== 'win32',
    });
    let readyResolve!: () => void, readyReject!: (e: Error) => void;
    const child: Child = {
      process: proc,
      jobs: new Map(),
      traceOf: new Map(),
      sent: new Map(),
      traces: new Set(),
      started: false,
      ready: new Promise<void>((res, rej) => ((readyResolve = res), (readyReject = rej))),
      dead: false,
      stderr: '',
      exited: new Promise<void>((res) => proc.once('exit', () => res())),
      waits: 1,
      outbox: [],
    };
    child.ready.catch(() => {}).finally(() => (child.waits--, hold(child)));
    // The import is not the candidate's time, but it is bounded: a module that never finishes loading (a busy loop, a promise that never settles at its top level) is killed.
    const startTimer = setTimeout(() => {
      if (child.started || child.dead) return;
      child.startTimedOut = true;
      child.process.kill('SIGKILL');
    }, importTimeoutMs);
    child.ready.then(() => (startTimeouts = 0), () => {}).finally(() => clearTimeout(startTimer));
    proc.stderr?.on('data', (data: Buffer) => (child.stderr = (child.stderr + data.toString()).slice(-4000)));
    const receive = (raw: unknown) => {
      if (child.dead || child.killedFor || child.refused) return;
      const checked = checkChildMessage(raw, { started: child.started, inFlight: (job) => child.jobs.has(job), sentJob: (job) => child.sent.has(job), sentTrace: (id) => child.traces.has(id) });
      if (!checked.ok) return refuse(child, checked.why);
      const message = checked.message;
      if (message.t === 'ready') (child.started = true), readyResolve();
      else if (message.t === 'load-error') (child.started = true), readyReject(new ConfigError([{ file: options.module, message: message.message }]));
      else handle(child, message);
    };
    proc.on('message', (raw: unknown, passed?: unknown) => {
      // After a kill, what was already on its way is not looked at: a trace abandoned to its budget may still report.
      if (child.dead || child.killedFor || child.refused) return closeHandle(passed);
      if (passed) return (closeHandle(passed), refuse(child, 'a message carrying a handle'));
      // Messages queued in one turn of the child's event loop come as one batch; each is checked on its own.
      const batch = raw as { t?: unknown; messages?: unknown } | null;
      if (batch === null || typeof batch !== 'object' || batch.t !== 'batch') return receive(raw);
      if (!Array.isArray(batch.messages)) return refuse(child, 'a batch without a list of messages');
      for (const m of batch.messages) {
        // One level only: a batch inside a batch is not something the child sends.
        if (m !== null && typeof m === 'object' && (m as { t?: unknown }).t === 'batch') return refuse(child, 'a batch inside a batch');
        receive(m);
      }
    });
    guardChannel(child);
    proc.on('error', () => {}); // a failed send to a dead child; its exit says what happened
    proc.once('exit', (code, signal) => {
      child.dead = true;
      if (child.startTimedOut) {
        startTimeouts++;
        readyReject(gaveUp());
      }
      children.splice(children.indexOf(child), 1);
      const why = child.refused
        ? `the candidate's process sent shadowgate a message it refused (${child.refused}) and was killed`
        : child.crash
        ? `${child.crash.stack ?? child.crash.message}`
        : `the candidate's process ended (${signal ? `signal ${signal}` : `exit code ${code}`}) with its trace in flight${child.stderr.trim() ? `; its last output: ${child.stderr.trim().slice(-1000)}` : ''}`;
      readyReject(new ConfigError([{ file: options.module, message: `the candidate's process ended before it was ready: ${why}` }]));
      for (const job of child.jobs.values()) {
        job.finish(child.killedFor ? { kind: 'evicted' } : { kind: 'crashed', error: { code: 'CANDIDATE_CRASHED', message: child.crash && !child.refused ? `uncaught in the candidate's process: ${why}` : why } });
      }
      child.jobs.clear();
    });
    send(child, init);
    children.push(child);
    hold(child);
    return child;
  }

  /**
   * An idle child does not keep shadowgate's process alive (a run that fails before it closes
   * the pool still ends, and the child ends with it, its channel gone); one with work does.
   */
  function hold(child: Child): void {
    const busy = child.jobs.size > 0 || child.waits > 0;
    const handles = [child.process, child.process.channel, child.process.stderr] as ({ ref?: () => void; unref?: () => void } | null | undefined)[];
    for (const handle of handles) (busy ? handle?.ref : handle?.unref)?.call(handle);
  }

  /**
   * Refuses a message from a child: it is recorded as a run-level protocol violation and the
   * child is killed (its traces in flight end CANDIDATE_CRASHED); a fresh one takes its place.
   */
  function refuse(child: Child, why: string): void {
    if (child.dead || child.refused) return;
    child.refused = why;
    runLevel.push({ attempt: protocolAttempt(why), startedBy: null });
    child.process.kill('SIGKILL');
  }

  /**
   * Node's own IPC machinery in the parent trusts the child: an internal message
   * (`{ cmd: 'NODE_HANDLE_ACK' }`) fails an assertion, and bytes that do not deserialize throw,
   * both as uncaught exceptions in shadowgate's process. The pool passes no handles, so
   * internal messages are refused, and a channel that cannot be read is a refused message.
   */
  function guardChannel(child: Child): void {
    const proc = child.process;
    proc.removeAllListeners('internalMessage');
    proc.on('internalMessage', (_message: unknown, handle?: unknown) => {
      closeHandle(handle);
      refuse(child, 'an internal Node.js IPC message');
    });
    const pipe = channelHandle(proc);
    const onread = pipe?.onread;
    if (!pipe || typeof onread !== 'function') return;
    pipe.onread = function (this: unknown, ...args: unknown[]) {
      try {
        return onread.apply(this, args);
      } catch (error) {
        refuse(child, `bytes that are not a message (${(error as Error).message})`);
      }
    };
  }

  /** Queues a message for the child; everything queued in one turn of the event loop goes in one write (`flush`). */
  function send(child: Child, message: ParentMessage): void {
    if (child.dead) return;
    if (child.outbox.push(message) === 1) setImmediate(flush, child);
  }

  function flush(child: Child): void {
    const messages = child.outbox;
    child.outbox = [];
    if (child.dead || !child.process.connected || messages.length === 0) return;
    try {
      child.process.send(messages.length === 1 ? messages[0]! : { t: 'batch', messages });
    } catch {
      // The child is going away: its exit ends its traces.
    }
  }

  function handle(child: Child, message: ChildMessage): void {
    switch (message.t) {
      case 'crash':
        child.crash = message.error;
        return;
      case 'tool': {
        const job = live(child, message.job);
        if (message.local !== undefined) {
          // Answered in the child already: replayed through the trace's own session, which must give the same kind of answer.
          if (!job) return stray(child, message.job, { kind: 'blocked', method: 'TOOL', target: String(message.name), why: 'no trace of this process was in flight' });
          const kind = job.host.replayTool(String(message.name), isRecord(message.args) ? message.args : {});
          if (kind !== message.local) refuse(child, `a ${String(message.name)} call answered with a ${message.local} where the harness gives a ${kind}`);
          return;
        }
        const reply = (m: { ok: true; value: unknown } | { ok: false; error: ToolFailure }) => send(child, { t: 'tool-reply', call: message.call, ...m } as ParentMessage);
        if (!job) {
          stray(child, message.job, { kind: 'blocked', method: 'TOOL', target: String(message.name), why: 'no trace of this process was in flight' });
          reply({ ok: false, error: { name: 'ShadowgateError', code: 'SG_OFF_TRACE', message: 'no trace is in flight' } });
          return;
        }
        job.host.callTool(String(message.name), isRecord(message.args) ? message.args : {}).then(
          (value) => reply({ ok: true, value }),
          (error: unknown) => reply({ ok: false, error: toolFailure(error) }),
        );
        return;
      }
      case 'http': {
        const job = live(child, message.job);
        if (!job) {
          stray(child, message.job, { kind: 'blocked', method: String(message.method), target: redactUrl(String(message.url)), why: 'no trace of this process was in flight' });
          send(child, { t: 'http-error', req: message.req, message: 'shadowgate sandbox: no trace is in flight' });
          return;
        }
        void answer(child, job, message.req, message.method, message.url, message.headers, message.body);
        return;
      }
      case 'attempt': {
        const job = message.job === null ? undefined : live(child, message.job);
        if (job && !message.stray) job.host.attempt(message.attempt);
        else stray(child, message.job, message.attempt, message.startedBy);
        return;
      }
      case 'done':
      case 'threw': {
        const job = child.jobs.get(message.job);
        if (!job) return;
        child.jobs.delete(message.job);
        child.traceOf.delete(message.job); // the child names the trace of its own strays from now on
        hold(child);
        job.finish(message.t === 'done' ? { kind: 'done', value: message.value } : { kind: 'threw', error: resultError(message.error) });
        return;
      }
    }
  }

  function live(child: Child, id: unknown): Job | undefined {
    const job = typeof id === 'number' ? child.jobs.get(id) : undefined;
    return job && !job.abandoned ? job : undefined;
  }

  function stray(child: Child, job: unknown, attempt: Attempt, startedBy: string | null = null): void {
    const from = startedBy ?? (typeof job === 'number' ? (child.traceOf.get(job) ?? child.sent.get(job) ?? null) : null);
    runLevel.push({ attempt, startedBy: from });
  }

  /** Answers a forwarded request with the handler's response, its body streamed back as it arrives. */
  async function answer(child: Child, job: Job, req: number, method: string, url: string, headers: [string, string][], body: Uint8Array | null): Promise<void> {
    try {
      const response = await job.host.request(new Request(url, { method, headers, body: body && method !== 'GET' && method !== 'HEAD' ? body : null }));
      send(child, { t: 'http-head', req, status: response.status, statusText: response.statusText, headers: [...response.headers] });
      if (response.body) for await (const chunk of response.body) send(child, { t: 'http-chunk', req, chunk: chunk as Uint8Array });
      send(child, { t: 'http-end', req });
    } catch (error) {
      send(child, { t: 'http-error', req, message: (error as Error).message });
    }
  }

  /** The child with the fewest traces in flight, or a new one while there are fewer than `workers`. */
  function pick(): Child {
    const alive = children.filter((c) => !c.dead && !c.killedFor && !c.refused);
    const least = alive.reduce<Child | undefined>((best, c) => (!best || c.jobs.size < best.jobs.size ? c : best), undefined);
    if (least && (least.jobs.size === 0 || alive.length >= options.workers)) return least;
    return spawn();
  }

  function kill(child: Child, why: string): void {
    if (child.dead) return;
    child.killedFor ??= why;
    child.process.kill('SIGKILL');
  }

  return {
    scratchDir,
    /** Starts one child and waits until it has imported the candidate: a module that cannot be imported is a config error before any trace runs. */
    async start(): Promise<void> {
      // A module that never finishes importing is the candidate's failure on every trace, not a config error.
      await pick().ready.catch((error: unknown) => {
        if (!(error instanceof ImportTimeout)) throw error;
      });
    },
    /** Waits until the process the next trace goes to is ready (started, candidate imported). */
    async ready(): Promise<void> {
      if (!closed && startTimeouts < START_ATTEMPTS) await pick().ready.catch(() => {});
    },
    /** Runs the candidate on one trace; `signal` aborts it (a budget), and a child that then does not stop in time is killed. */
    async run(trace: RunJob['trace'], input: unknown, host: JobHost, signal: AbortSignal, recordings?: readonly Recording[]): Promise<JobEnd> {
      if (closed) throw new InternalError('the candidate pool is closed');
      if (startTimeouts >= START_ATTEMPTS) return { kind: 'crashed', error: { code: 'CANDIDATE_IMPORT_TIMEOUT', message: gaveUp().message } };
      const child = pick();
      try {
        await child.ready;
      } catch (error) {
        if (error instanceof ImportTimeout) return { kind: 'crashed', error: { code: error.code, message: error.message } };
        throw error;
      }
      const id = nextJob++;
      const stopped = (): JobEnd => ({ kind: 'threw', error: { code: 'SG_BUDGET_EXCEEDED', message: String((signal.reason as Error)?.message ?? signal.reason) } });
      return new Promise<JobEnd>((resolveEnd) => {
        const job: Job = { id, traceId: trace.id, host, abandoned: false, finish: (end) => resolveEnd(end) };
        if (child.dead) return resolveEnd({ kind: 'evicted' });
        // Stopped while its process started: it is never sent (its abort would never come).
        if (signal.aborted) return resolveEnd(stopped());
        child.jobs.set(id, job);
        child.traceOf.set(id, trace.id);
        child.sent.set(id, trace.id);
        child.traces.add(trace.id);
        hold(child);
        signal.addEventListener(
          'abort',
          () => {
            job.abandoned = true;
            send(child, { t: 'abort', job: id, reason: String((signal.reason as Error)?.message ?? signal.reason) });
            const timer = setTimeout(() => {
              if (child.jobs.has(id)) {
                child.jobs.delete(id);
                hold(child);
                kill(child, `trace ${trace.id} ran out of time`);
                job.finish(stopped());
              }
            }, graceMs);
            timer.unref();
          },
          { once: true },
        );
        send(child, { t: 'run', job: id, trace, input, ...(recordings && options.local ? { answers: recordedAnswers(recordings) } : {}) });
      });
    },
    /** Attempts made while no trace of their process was in flight (strays), or outside any trace. */
    runLevel(): RunLevelAttempt[] {
      return [...runLevel];
    },
    /**
     * Ends the pool: each child is told there is no more work and may let its event loop end
     * (its `beforeExit` handlers run, and what they send is recorded as a stray); one that
     * still has activity after a moment is killed, not waited for.
     */
    async close(): Promise<void> {
      closed = true;
      await Promise.all(
        children.map(async (child) => {
          child.waits++;
          hold(child);
          send(child, { t: 'drain' });
          const timer = setTimeout(() => kill(child, 'the run is over'), graceMs);
          await child.exited;
          clearTimeout(timer);
        }),
      );
      process.off('exit', removeScratch);
      process.off('exit', killAll);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      removeScratch();
    },
  };
}

export type CandidatePool = ReturnType<typeof createCandidatePool>;

/**
 * Node's permission model for a child: every read, writes only to the given folders, and no
 * subprocess, worker thread or native addon unless the suite allows it. `--permission` from
 * Node 22 on, `--experimental-permission` before; one flag per writable folder (a comma-separated
 * list is not split on Node 20.20).
 */
export function permissionFlags(writable: string[], allow: Omit<SandboxAllowances, 'fsWrite'>, major = Number(process.versions.node.split('.')[0])): string[] {
  return [
    major >= 22 ? '--permission' : '--experimental-permission',
    '--allow-fs-read=*',
    ...writable.map((dir) => `--allow-fs-write=${dir}`),
    ...(allow.childProcess ? ['--allow-child-process'] : []),
    ...(allow.worker ? ['--allow-worker'] : []),
    // Without the loosening, native addons are off by Node's own switch as well, whatever this Node version's permission model covers.
    ...(allow.addons ? ['--allow-addons'] : ['--no-addons']),
    '--disable-warning=ExperimentalWarning',
  ];
}

/** The child's entry point: next to this file in the build; from the source (tests), in the build beside it. */
function childEntry(): string {
  const here = fileURLToPath(import.meta.url);
  const entry = here.endsWith('.ts') ? resolve(dirname(here), '../../../dist/replay/pool/child.js') : join(dirname(here), 'child.js');
  if (!existsSync(entry)) throw new InternalError(`the candidate process entry point ${entry} is missing; run \`npm run build\``);
  return entry;
}

/** The raw pipe under a child's IPC channel (Node keeps it under a symbol); undefined if this Node version keeps it elsewhere. */
function channelHandle(proc: ChildProcess): { onread?: unknown } | undefined {
  const key = Object.getOwnPropertySymbols(proc).find((s) => s.description === 'kChannelHandle');
  const handle = key ? (proc as unknown as Record<symbol, unknown>)[key] : undefined;
  return typeof handle === 'object' && handle !== null ? (handle as { onread?: unknown }) : undefined;
}

/** SIGKILL to a child's process group (what it started, where the suite allows subprocesses, goes with it). */
export function killGroup(proc: ChildProcess): void {
  signalGroup(proc, 'SIGKILL');
}

/** A signal to a process's group (each child is its own group), or to the process alone where groups cannot be signalled. */
export function signalGroup(proc: ChildProcess, signal: NodeJS.Signals): void {
  if (proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return;
  try {
    if (process.platform === 'win32') proc.kill(signal);
    else process.kill(-proc.pid, signal);
  } catch {
    proc.kill(signal);
  }
}

/** Closes a handle (a socket, a server) a child passed along with a message: shadowgate takes none. */
function closeHandle(handle: unknown): void {
  const h = handle as { close?: () => void; destroy?: () => void } | null | undefined;
  try {
    if (typeof h?.destroy === 'function') h.destroy();
    else if (typeof h?.close === 'function') h.close();
  } catch {
    // already closed
  }
}

/** A thrown error as the child described it; only its own fields, as strings, are kept. */
function resultError(error: unknown): ResultError {
  const e = isRecord(error) ? error : {};
  const out: ResultError = { code: typeof e.code === 'string' ? e.code : 'CANDIDATE_THREW', message: typeof e.message === 'string' ? e.message : String(error) };
  if (typeof e.name === 'string') out.name = e.name;
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
