import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, MessageChannel, parentPort, receiveMessageOnPort, Worker, workerData, type MessagePort } from 'node:worker_threads';
import { DuplicateResultError, InternalError, LeaseLostError, StoreError } from '../errors.js';
import { sqliteRowAppender, type ResultRow } from './sqlite.js';
import type { AppendOutcome } from './types.js';

/**
 * A SQLite store's background writer: groups of results committed by a connection of its own on
 * a worker thread, so that the run's thread (which reads traces, replays them and builds their
 * results) does not wait for SQLite. Groups are committed one at a time, in the order given, each
 * in one transaction under the run's lease, exactly as `appendResults` commits them; each
 * promise resolves once its group is durable.
 */
export interface BackgroundWriter {
  append(runId: string, rows: readonly (ResultRow | Error)[], lease: string | undefined): Promise<AppendOutcome[]>;
  /** Stops the thread once it has answered every group handed to it (within the busy timeout and a second; a group still unanswered then rejects). */
  close(): void;
}

/** A row's outcome, as it crosses threads. */
type WireOutcome = null | { duplicate: true } | { message: string };
/** What failed a whole group, as it crosses threads. */
type WireFailure = { lease: { runId: string; holder: string } } | { store: { message: string; hint?: string } } | { other: { message: string } };
type Reply = { id: number; outcomes: WireOutcome[] } | { id: number; failure: WireFailure };

export function backgroundWriter(file: string, busyTimeoutMs: number): BackgroundWriter {
  // Set by the thread once its connection is closed: close() waits for it (a connection left open keeps the WAL file).
  const closed = new Int32Array(new SharedArrayBuffer(4));
  // The thread answers on a port of its own, so that close() can take the last answers without the event loop.
  const { port1: replies, port2: replyPort } = new MessageChannel();
  const worker = new Worker(writerEntry(), { workerData: { sqliteWriter: { file, busyTimeoutMs, closed, replies: replyPort } }, transferList: [replyPort] });
  const pending = new Map<number, { resolve: (outcomes: WireOutcome[]) => void; reject: (error: Error) => void }>();
  let next = 0;
  let broken: Error | undefined;
  let exited = false;
  // An idle writer does not keep the process alive; one with a group to commit does.
  const hold = (busy: boolean) => {
    for (const handle of [worker, replies]) {
      if (busy) handle.ref();
      else handle.unref();
    }
  };
  const settle = (error: Error) => {
    broken ??= error;
    for (const p of pending.values()) p.reject(broken);
    pending.clear();
  };
  const answer = (reply: Reply) => {
    const p = pending.get(reply.id);
    pending.delete(reply.id);
    if (pending.size === 0) hold(false);
    if (!p) return;
    if ('outcomes' in reply) p.resolve(reply.outcomes);
    else p.reject(revive(reply.failure));
  };
  replies.on('message', answer);
  hold(false);
  worker.on('error', (error) => settle(new StoreError(`the background writer of ${file} failed: ${error.message}`, { cause: error })));
  worker.on('exit', () => ((exited = true), settle(new StoreError(`the background writer of ${file} stopped before it committed every group`))));

  return {
    append(runId, rows, lease) {
      if (broken) return Promise.reject(broken);
      const id = next++;
      const ok = rows.filter((r): r is ResultRow => !(r instanceof Error));
      return new Promise<WireOutcome[]>((resolveGroup, reject) => {
        pending.set(id, { resolve: resolveGroup, reject });
        hold(true);
        worker.postMessage({ id, runId, rows: ok, lease });
      }).then((outcomes) => {
        // The rows that could not be written as JSON never left: their outcome is their error, in place.
        let at = 0;
        return rows.map((row): AppendOutcome => {
          if (row instanceof Error) return row;
          const outcome = outcomes[at++];
          if (outcome === undefined) throw new InternalError(`the background writer answered ${outcomes.length} outcomes for ${ok.length} results`);
          if (outcome === null) return null;
          return 'duplicate' in outcome ? new DuplicateResultError(runId, row.key) : new StoreError(outcome.message);
        });
      });
    },
    close() {
      if (!exited) {
        // After the groups handed to it (each committed, or refused as a whole): the thread closes its connection, and says so.
        worker.postMessage({ close: true });
        Atomics.wait(closed, 0, 0, busyTimeoutMs + 1000);
        for (let reply = receiveMessageOnPort(replies); reply; reply = receiveMessageOnPort(replies)) answer(reply.message as Reply);
      }
      settle(new StoreError(`the store ${file} was closed before its background writer committed every group`));
      replies.close();
      void worker.terminate();
    },
  };
}

function revive(failure: WireFailure): Error {
  if ('lease' in failure) return new LeaseLostError(failure.lease.runId, failure.lease.holder);
  if ('store' in failure) return new StoreError(failure.store.message, failure.store.hint === undefined ? {} : { hint: failure.store.hint });
  return new Error(failure.other.message);
}

function wireFailure(error: unknown): WireFailure {
  if (error instanceof LeaseLostError) return { lease: { runId: error.runId, holder: error.holder } };
  if (error instanceof StoreError) return { store: { message: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) } };
  return { other: { message: error instanceof Error ? error.message : String(error) } };
}

/** This file in the build: from the source (tests), the build beside it. */
function writerEntry(): string {
  const here = fileURLToPath(import.meta.url);
  const entry = here.endsWith('.ts') ? resolve(dirname(here), '../../dist/store/sqlite-writer.js') : here;
  if (!existsSync(entry)) throw new InternalError(`the store's writer ${entry} is missing; run \`npm run build\``);
  return join(entry);
}

// On the writer's thread: one connection, each group committed as it comes.
const setup = (workerData as { sqliteWriter?: { file: string; busyTimeoutMs: number; closed: Int32Array; replies: MessagePort } } | null)?.sqliteWriter;
if (!isMainThread && setup && parentPort) {
  const port = parentPort;
  const replies = setup.replies;
  // Opened by the first group (and again by the next, if opening failed: a lock held by another process passes).
  let appender: ReturnType<typeof sqliteRowAppender> | undefined;
  port.on('message', (message: { id: number; runId: string; rows: ResultRow[]; lease: string | undefined } | { close: true }) => {
    if ('close' in message) {
      try {
        appender?.close();
      } finally {
        Atomics.store(setup.closed, 0, 1);
        Atomics.notify(setup.closed, 0);
      }
      return;
    }
    const { id, runId, rows, lease } = message;
    let reply: Reply;
    try {
      appender ??= sqliteRowAppender(setup.file, { busyTimeoutMs: setup.busyTimeoutMs });
      const outcomes = appender.append(runId, rows, lease).map((o): WireOutcome => (o === null ? null : o instanceof DuplicateResultError ? { duplicate: true } : { message: o.message }));
      reply = { id, outcomes };
    } catch (error) {
      reply = { id, failure: wireFailure(error) };
    }
    replies.postMessage(reply);
  });
}
