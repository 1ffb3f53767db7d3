import childProcess from 'node:child_process';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { resolve as resolvePath } from 'node:path';
import workerThreads from 'node:worker_threads';

/** Records one refused use of a capability: what kind (fs-write, child-process, worker, addons, binding, signal) and on what. */
export type DenialSink = (capability: string, target: string) => void;

/**
 * Makes every refusal of Node's permission model visible to the harness: the functions of
 * node:fs, node:child_process and worker_threads are wrapped so that an `ERR_ACCESS_DENIED`
 * they throw, pass to a callback or reject with is recorded (then passed on unchanged), and so
 * are native addons, `process.binding`, and signals to any process but this one (which the
 * permission model does not cover: a child shares its parent's process group). Installed
 * before the candidate is imported; ESM imports of these modules see the wrapped functions.
 */
export function recordDenials(sink: DenialSink): void {
  // One refusal passes through every wrapped function that called another (exec calls execFile): recorded once.
  const seen = new WeakSet<object>();
  // Write streams whose refusal was recorded when they were made: the refusal their open then meets is the same one.
  const streams = new Map<string, number>();
  const check = (group: string, args: unknown[]) => (error: unknown) => {
    const e = error as { code?: unknown; permission?: unknown; resource?: unknown } | null;
    if (e?.code !== 'ERR_ACCESS_DENIED' && e?.code !== 'ERR_DLOPEN_DISABLED') return;
    if (seen.has(e)) return;
    seen.add(e);
    const path = typeof e.resource === 'string' ? resolvePath(e.resource) : typeof args[0] === 'string' ? resolvePath(args[0]) : undefined;
    if (path !== undefined && (streams.get(path) ?? 0) > 0) {
      streams.set(path, streams.get(path)! - 1);
      return;
    }
    const capability = e.code === 'ERR_DLOPEN_DISABLED' ? 'addons' : (PERMISSIONS[String(e.permission)] ?? group);
    sink(capability, typeof e.resource === 'string' && e.resource !== '' ? e.resource : describe(args[0]));
  };
  wrapAll(fs as unknown as Record<string, unknown>, 'fs-write', check);
  wrapAll(fs.promises as unknown as Record<string, unknown>, 'fs-write', check);
  wrapAll(childProcess as unknown as Record<string, unknown>, 'child-process', check);
  // A write stream opens its file later and reports a refusal as an 'error' event: asked first.
  const createWriteStream = fs.createWriteStream;
  fs.createWriteStream = ((path: fs.PathLike, options?: unknown) => {
    const target = typeof path === 'string' ? path : path instanceof URL ? path.pathname : String(path);
    if (process.permission?.has('fs.write', target)) return createWriteStream(path, options as Parameters<typeof fs.createWriteStream>[1]);
    sink('fs-write', target);
    const key = resolvePath(target);
    streams.set(key, (streams.get(key) ?? 0) + 1);
    const stream = createWriteStream(path, options as Parameters<typeof fs.createWriteStream>[1]);
    // Once the stream has failed (or ended), a refusal on that path is a new attempt.
    stream.once('close', () => streams.set(key, Math.max(0, (streams.get(key) ?? 1) - 1)));
    return stream;
  }) as typeof fs.createWriteStream;

  const Worker = workerThreads.Worker;
  (workerThreads as { Worker: unknown }).Worker = class extends Worker {
    constructor(...args: ConstructorParameters<typeof Worker>) {
      try {
        super(...args);
      } catch (error) {
        check('worker', args)(error);
        throw error;
      }
    }
  };
  const proc = process as unknown as Record<string, unknown>;
  for (const name of ['dlopen', 'binding', '_linkedBinding']) {
    const original = proc[name] as ((...a: unknown[]) => unknown) | undefined;
    if (typeof original !== 'function') continue;
    proc[name] = function (this: unknown, ...args: unknown[]) {
      try {
        return original.apply(this, args);
      } catch (error) {
        check(name === 'dlopen' ? 'addons' : 'binding', [name === 'dlopen' ? (args[1] ?? args[0]) : `process.${name}(${describe(args[0])})`])(error);
        throw error;
      }
    };
  }
  for (const name of ['kill', '_kill', '_debugProcess']) {
    const original = proc[name] as ((...a: unknown[]) => unknown) | undefined;
    if (typeof original !== 'function') continue;
    proc[name] = function (this: unknown, pid: unknown, ...rest: unknown[]) {
      if (Number(pid) !== process.pid) {
        sink('signal', `process ${String(pid)}`);
        throw Object.assign(new Error(`Access to this API has been restricted: signals to process ${String(pid)}`), { code: 'ERR_ACCESS_DENIED', permission: 'Signal' });
      }
      return original.call(this, pid, ...rest);
    };
  }
  syncBuiltinESMExports();
}

const PERMISSIONS: Record<string, string> = {
  FileSystemWrite: 'fs-write',
  FileSystemRead: 'fs-read',
  ChildProcess: 'child-process',
  WorkerThreads: 'worker',
};

/** Wraps each plain function of a module (not its classes): a refusal thrown, passed to a callback or rejected with is recorded. */
function wrapAll(target: Record<string, unknown>, group: string, check: (group: string, args: unknown[]) => (error: unknown) => void): void {
  for (const name of Object.keys(target)) {
    const original = target[name];
    if (typeof original !== 'function' || /^[A-Z]/.test(name) || name === 'promises') continue;
    const fn = original as (...a: unknown[]) => unknown;
    const wrapped = function (this: unknown, ...args: unknown[]) {
      const inspect = check(group, args);
      const last = args.length - 1;
      if (typeof args[last] === 'function') {
        const callback = args[last] as (...a: unknown[]) => unknown;
        args[last] = function (this: unknown, error: unknown, ...rest: unknown[]) {
          inspect(error);
          return callback.call(this, error, ...rest);
        };
      }
      let result: unknown;
      try {
        result = fn.apply(this, args);
      } catch (error) {
        inspect(error);
        throw error;
      }
      // A new promise that rejects alike, so that a rejection nobody handles is still unhandled.
      if (result instanceof Promise) return result.then(undefined, (error: unknown) => {
        inspect(error);
        throw error;
      });
      return result;
    };
    // Keep what hangs on the original (`realpath.native`, `promisify.custom`).
    for (const key of Reflect.ownKeys(fn)) {
      if (key === 'length' || key === 'name' || key === 'prototype') continue;
      const descriptor = Object.getOwnPropertyDescriptor(fn, key);
      if (descriptor) Object.defineProperty(wrapped, key, descriptor);
    }
    Object.defineProperty(wrapped, 'name', { value: fn.name });
    target[name] = wrapped;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof URL) return value.href;
  if (Buffer.isBuffer(value)) return value.toString();
  if (typeof value === 'function') return value.name || '(function)';
  return value === undefined ? '(unknown)' : String(value);
}
