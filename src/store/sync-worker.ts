import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

/**
 * A synchronous call into an asynchronous worker (the technique of `synckit`): the caller
 * posts a request and blocks on `Atomics.wait` over a SharedArrayBuffer until the worker has
 * answered and flagged it, then takes the answer off the port with `receiveMessageOnPort`.
 * This lets an async client (node-postgres) stand behind the synchronous Store port.
 *
 * The worker runs `handlerSource`: the body of an `async (request) => answer` function in
 * CommonJS (`require` works; `workerData` is in scope). Its answer, or the message and code of
 * what it threw, cross back as data: the caller gets a `SyncWorkerError` it can turn into its own.
 */
export interface SyncWorker {
  /** Sends `request` and blocks until its answer; throws a SyncWorkerError when the handler threw, or the worker does not answer within `timeoutMs`. */
  call<T>(request: unknown): T;
  /** Stops the worker (after a last call, when one is given, such as closing a connection). */
  close(lastRequest?: unknown): void;
}

/** What the worker's handler threw, as data: its message and (a database's) code. */
export class SyncWorkerError extends Error {
  readonly code: string | undefined;
  constructor(message: string, code: string | undefined) {
    super(message);
    this.name = 'SyncWorkerError';
    this.code = code;
  }
}

type Answer = { id: number; ok: true; value: unknown } | { id: number; ok: false; message: string; code?: string };

/** The worker's side of the protocol: each request answered on the port, then the flag set and the caller woken. */
const PROTOCOL = `
const { workerData } = require('node:worker_threads');
const { port, signal } = workerData;
const flag = new Int32Array(signal);
const handle = async (request) => { %HANDLER% };
port.on('message', async ({ id, request }) => {
  let answer;
  try {
    answer = { id, ok: true, value: await handle(request) };
  } catch (error) {
    answer = { id, ok: false, message: error && error.message ? String(error.message) : String(error), code: error && error.code ? String(error.code) : undefined };
  }
  port.postMessage(answer);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

export function createSyncWorker(handlerSource: string, data: Record<string, unknown>, options: { timeoutMs?: number } = {}): SyncWorker {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const signal = new SharedArrayBuffer(4);
  const flag = new Int32Array(signal);
  const { port1: port, port2: workerPort } = new MessageChannel();
  const worker = new Worker(PROTOCOL.replace('%HANDLER%', () => handlerSource), {
    eval: true,
    // The handler is CommonJS whatever the parent runs with (`--input-type=module` would make it ESM, without `require`).
    execArgv: [],
    workerData: { ...data, port: workerPort, signal },
    transferList: [workerPort],
  });
  // A store left open must not keep the process alive.
  worker.unref();
  port.unref();
  let nextId = 0;
  let closed = false;

  const call = <T>(request: unknown): T => {
    if (closed) throw new SyncWorkerError('the connection is closed', undefined);
    const id = ++nextId;
    Atomics.store(flag, 0, 0);
    port.postMessage({ id, request });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new SyncWorkerError(`no answer within ${timeoutMs} ms`, undefined);
      Atomics.wait(flag, 0, 0, Math.min(left, 1000));
      const received = receive(port, id);
      if (received === undefined) {
        Atomics.store(flag, 0, 0);
        continue;
      }
      if (received.ok) return received.value as T;
      throw new SyncWorkerError(received.message, received.code);
    }
  };

  return {
    call,
    close(lastRequest) {
      if (closed) return;
      try {
        if (lastRequest !== undefined) call(lastRequest);
      } finally {
        closed = true;
        port.close();
        void worker.terminate();
      }
    },
  };
}

/** The answer to request `id`, when it has arrived (an answer to an older request that timed out is dropped). */
function receive(port: MessagePort, id: number): Answer | undefined {
  for (;;) {
    const message = receiveMessageOnPort(port);
    if (message === undefined) return undefined;
    const answer = message.message as Answer;
    if (answer.id === id) return answer;
  }
}
