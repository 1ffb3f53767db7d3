import childProcess from 'node:child_process';
import fs from 'node:fs';
import nodeModule, { syncBuiltinESMExports } from 'node:module';
import inspector from 'node:inspector';
import v8 from 'node:v8';
import wasi from 'node:wasi';
import os from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import traceEvents from 'node:trace_events';
import workerThreads from 'node:worker_threads';

// Taken when this module loads, before any candidate code: candidate code can replace
// `Function.prototype.apply` and `call`, and so get hold of the functions the wrappers call.
const apply = Reflect.apply;

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
  guardDescriptors();
  guardOtherProcesses();
  // Write streams whose refusal was recorded when they were made: the refusal their open then meets is the same one.
  const streams = new Map<string, number>();
  const check = (group: string, args: unknown[], label?: string) => (error: unknown) => {
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
    // What the call names where it says (`inspector.open`, rather than the permission model's word for it, `StartIoThread`); else the path refused.
    sink(capability, label ?? (typeof e.resource === 'string' && e.resource !== '' ? e.resource : describe(args[0])));
  };
  wrapAll(fs as unknown as Record<string, unknown>, 'fs-write', check);
  wrapAll(fs.promises as unknown as Record<string, unknown>, 'fs-write', check);
  wrapAll(childProcess as unknown as Record<string, unknown>, 'child-process', check);
  // A write stream opens its file later and reports a refusal as an 'error' event: asked first.
  const createWriteStream = fs.createWriteStream;
  fs.createWriteStream = ((path: fs.PathLike, options?: unknown) => {
    // A stream on a descriptor opens nothing: the descriptor's guard decides.
    if (typeof (options as { fd?: unknown } | null | undefined)?.fd === 'number') {
      try {
        return createWriteStream(path, options as Parameters<typeof fs.createWriteStream>[1]);
      } catch (error) {
        check('fs-write', [path])(error);
        throw error;
      }
    }
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

  // A class whose construction the permission model refuses: a subclass that records the refusal, then throws it on.
  const recordedClass = <C extends abstract new (...args: never[]) => object>(Base: C, group: string, label?: string): C =>
    class extends (Base as unknown as new (...args: unknown[]) => object) {
      constructor(...args: unknown[]) {
        try {
          super(...args);
        } catch (error) {
          check(group, args, label)(error);
          throw error;
        }
      }
    } as unknown as C;
  (workerThreads as { Worker: unknown }).Worker = recordedClass(workerThreads.Worker, 'worker');
  // What else the permission model refuses, recorded as it is refused: the inspector (a debugger
  // session or port), a heap snapshot or diagnostic report written to a file, a module loader
  // (run in a worker), WASI.
  // `label`: what the record names where the refusal's resource is no path (the permission model's own word for it, `StartIoThread`, says less).
  const recorded = (target: Record<string, unknown> | undefined, name: string, group: string, label?: string) => {
    const original = target?.[name];
    if (typeof original !== 'function') return;
    target![name] = function (this: unknown, ...args: unknown[]) {
      try {
        return apply(original as (...a: unknown[]) => unknown, this, args);
      } catch (error) {
        check(group, args, label)(error);
        throw error;
      }
    };
  };
  recorded(inspector.Session.prototype as unknown as Record<string, unknown>, 'connect', 'inspector', 'inspector.Session.connect');
  recorded(inspector.Session.prototype as unknown as Record<string, unknown>, 'connectToMainThread', 'inspector', 'inspector.Session.connectToMainThread');
  recorded(inspector as unknown as Record<string, unknown>, 'open', 'inspector', 'inspector.open');
  recorded(v8 as unknown as Record<string, unknown>, 'writeHeapSnapshot', 'fs-write');
  recorded(process.report as unknown as Record<string, unknown> | undefined, 'writeReport', 'fs-write');
  recorded(nodeModule as unknown as Record<string, unknown>, 'register', 'worker', 'module.register');
  (wasi as { WASI: unknown }).WASI = recordedClass(wasi.WASI, 'wasi', 'new WASI');
  const proc = process as unknown as Record<string, unknown>;
  for (const name of ['dlopen', 'binding', '_linkedBinding']) {
    const original = proc[name] as ((...a: unknown[]) => unknown) | undefined;
    if (typeof original !== 'function') continue;
    proc[name] = function (this: unknown, ...args: unknown[]) {
      try {
        return apply(original, this, args);
      } catch (error) {
        check(name === 'dlopen' ? 'addons' : 'binding', [name === 'dlopen' ? (args[1] ?? args[0]) : `process.${name}(${describe(args[0])})`])(error);
        throw error;
      }
    };
  }
  // This process's id as it is now: `process.pid` can be redefined, and a pid given as an object
  // could read as one number when checked and another when used. Only a number or a numeric
  // string, read once, and passed on as that number.
  const ownPid = process.pid;
  const pidOf = (pid: unknown): number => (typeof pid === 'number' || typeof pid === 'string' ? Number(pid) : Number.NaN);
  const refuseSignal = (target: string) => {
    sink('signal', target);
    return Object.assign(new Error(`Access to this API has been restricted: ${target}`), { code: 'ERR_ACCESS_DENIED', permission: 'Signal' });
  };
  for (const name of ['kill', '_kill']) {
    const original = proc[name] as ((...a: unknown[]) => unknown) | undefined;
    if (typeof original !== 'function') continue;
    proc[name] = function (this: unknown, pid: unknown, ...rest: unknown[]) {
      const target = pidOf(pid);
      if (target !== ownPid) throw refuseSignal(`process ${typeof pid === 'object' ? '(an object)' : String(pid)}`);
      return apply(original, this, [target, ...rest]);
    };
  }
  // Opens the inspector's port of a process (this one's included): never.
  if (typeof proc._debugProcess === 'function') {
    proc._debugProcess = (pid: unknown) => {
      throw refuseSignal(`the inspector of process ${typeof pid === 'object' ? '(an object)' : String(pid)}`);
    };
  }
  const setPriority = os.setPriority;
  (os as { setPriority: unknown }).setPriority = (...args: unknown[]) => {
    // setPriority(priority) is this process's; setPriority(pid, priority) any process's.
    if (args.length >= 2 && pidOf(args[0]) !== 0 && pidOf(args[0]) !== ownPid) throw refuseSignal(`the priority of process ${String(args[0])}`);
    return (setPriority as (...a: unknown[]) => void)(...(args.length >= 2 ? [pidOf(args[0]), args[1]] : args));
  };
  // Write a file where the process's working folder is (trace_events), or move that folder: neither checked by Node 20's permission model.
  (traceEvents as { createTracing: unknown }).createTracing = (options: unknown) => {
    sink('fs-write', `trace_events ${describe((options as { categories?: unknown } | null)?.categories)}`);
    throw Object.assign(new Error('Access to this API has been restricted: trace_events writes a file in the working folder'), { code: 'ERR_ACCESS_DENIED', permission: 'FileSystemWrite' });
  };
  // Writes a heap snapshot into the working folder when the heap fills: not checked by Node 20's permission model.
  (v8 as { setHeapSnapshotNearHeapLimit: unknown }).setHeapSnapshotNearHeapLimit = () => {
    sink('fs-write', 'v8.setHeapSnapshotNearHeapLimit');
    throw Object.assign(new Error('Access to this API has been restricted: a heap snapshot written in the working folder'), { code: 'ERR_ACCESS_DENIED', permission: 'FileSystemWrite' });
  };
  proc.chdir = (dir: unknown) => {
    sink('fs-write', `chdir ${describe(dir)}`);
    throw Object.assign(new Error('Access to this API has been restricted: process.chdir'), { code: 'ERR_ACCESS_DENIED', permission: 'FileSystemWrite' });
  };
  syncBuiltinESMExports();
}

/**
 * Reads of another process's `/proc/<pid>` entries are refused: shadowgate's process holds the
 * run's keys in the environment it was started with (`/proc/<ppid>/environ`), and its command
 * line names the suite. The permission model allows reads everywhere; a path is checked where
 * it lands (a link through `/proc/self/root`, or one made in the scratch folder, followed). What
 * Node reads on its own (an `import` or `require` of such a path) is not seen here: see the
 * threat model.
 */
function guardOtherProcesses(): void {
  const ownPid = process.pid;
  const realpath = fs.realpathSync.native;
  const other = (value: unknown): string | null => {
    const path = pathOf(value);
    if (path === null) return null;
    let where = resolvePath(path);
    if (!where.startsWith('/proc/') && !where.startsWith('/dev/') && !isLink(where)) return null;
    try {
      where = realpath(where);
    } catch {
      // Not there (yet): the path as written.
    }
    const pid = /^\/proc\/(\d+)(\/|$)/.exec(where)?.[1];
    return pid !== undefined && Number(pid) !== ownPid ? where : null;
  };
  const isLink = (path: string) => {
    try {
      return fs.lstatSync(path).isSymbolicLink();
    } catch {
      return false;
    }
  };
  for (const target of [fs as unknown as Record<string, unknown>, fs.promises as unknown as Record<string, unknown>]) {
    for (const name of Object.keys(target)) {
      const original = target[name];
      if (typeof original !== 'function' || /^[A-Z]/.test(name) || name === 'promises' || name === 'lstatSync') continue;
      const fn = original as (...a: unknown[]) => unknown;
      const guarded = function (this: unknown, ...args: unknown[]) {
        const blocked = other(args[0]);
        if (blocked !== null) {
          const error = Object.assign(new Error(`Access to this API has been restricted: ${blocked} is another process's`), { code: 'ERR_ACCESS_DENIED', permission: 'FileSystemRead', resource: blocked });
          return refuseCall(name, args, error, target === fs.promises);
        }
        return apply(fn, this, args);
      };
      replaceWith(target, name, fn, guarded);
    }
  }
}

/**
 * The file a path argument of `fs` names, in every form `fs` takes: a string, bytes (a Buffer or
 * any typed array), a `file:` URL or an object shaped like one (percent-escapes decoded, as `fs`
 * decodes them). Null for anything else (a descriptor, a FileHandle).
 */
function pathOf(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString();
  const url = value as { href?: unknown; protocol?: unknown } | null;
  if (url !== null && typeof url === 'object' && url.href !== undefined && url.protocol !== undefined) {
    // As `fs` reads it: the object's own hostname and pathname, not its href.
    try {
      return fileURLToPath(url as URL);
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * Writes to a file descriptor the candidate did not open are refused: the permission model
 * checks a path when a file is opened, not a write to a descriptor, and this process holds
 * descriptors it did not open for writing (shadowgate's channel, any inherited from the shell).
 * Standard output and error stay writable, and so does whatever the candidate opens (fs.open,
 * which write streams use too), until it closes it. Installed under `recordDenials`'s wrapping,
 * which records each refusal.
 */
function guardDescriptors(): void {
  const mine = new Set<number>([1, 2]);
  const target = fs as unknown as Record<string, (...a: unknown[]) => unknown>;
  const openSync = target.openSync!;
  const open = target.open!;
  const closeSync = target.closeSync!;
  const close = target.close!;
  target.openSync = function (this: unknown, ...args: unknown[]) {
    const fd = apply(openSync, this, args);
    if (typeof fd === 'number') mine.add(fd);
    return fd;
  };
  target.open = function (this: unknown, ...args: unknown[]) {
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (error: unknown, fd: unknown) => {
        if (!error && typeof fd === 'number') mine.add(fd);
        (callback as (e: unknown, fd: unknown) => void)(error, fd);
      };
    }
    return apply(open, this, args);
  };
  target.closeSync = function (this: unknown, fd: unknown, ...rest: unknown[]) {
    const result = apply(closeSync, this, [fd, ...rest]);
    if (typeof fd === 'number' && fd > 2) mine.delete(fd);
    return result;
  };
  target.close = function (this: unknown, fd: unknown, ...rest: unknown[]) {
    if (typeof fd === 'number' && fd > 2) mine.delete(fd);
    return apply(close, this, [fd, ...rest]);
  };
  // Recorded where it is met, as the permission model's own refusals are (recordDenials' wrapping).
  const refusal = (fd: number) => {
    return Object.assign(new Error(`Access to this API has been restricted: a write to file descriptor ${fd}, which the candidate did not open`), { code: 'ERR_ACCESS_DENIED', permission: 'FileSystemWrite', resource: `fd ${fd}` });
  };
  for (const name of ['write', 'writev', 'ftruncate', 'fchmod', 'fchown', 'futimes', 'writeFile', 'appendFile', 'writeSync', 'writevSync', 'ftruncateSync', 'fchmodSync', 'fchownSync', 'futimesSync', 'writeFileSync', 'appendFileSync']) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    target[name] = function (this: unknown, ...args: unknown[]) {
      const fd = args[0];
      if (typeof fd === 'number' && !mine.has(fd)) return refuseCall(name, args, refusal(fd), false);
      return apply(original, this, args);
    };
  }
  const createWriteStream = fs.createWriteStream;
  fs.createWriteStream = ((path: fs.PathLike, options?: unknown) => {
    const fd = (options as { fd?: unknown } | null | undefined)?.fd;
    if (typeof fd === 'number' && !mine.has(fd)) throw refusal(fd);
    return createWriteStream(path, options as Parameters<typeof fs.createWriteStream>[1]);
  }) as typeof fs.createWriteStream;
}

const PERMISSIONS: Record<string, string> = {
  FileSystemWrite: 'fs-write',
  FileSystemRead: 'fs-read',
  ChildProcess: 'child-process',
  WorkerThreads: 'worker',
  Inspector: 'inspector',
  WASI: 'wasi',
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
          return apply(callback, this, [error, ...rest]);
        };
      }
      let result: unknown;
      try {
        result = apply(fn, this, args);
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
    replaceWith(target, name, fn, wrapped);
  }
}

/** A refused call of `fs` function `name`, as that function fails: a rejected promise, an error to its callback, or thrown. */
function refuseCall(name: string, args: unknown[], error: Error, promises: boolean): unknown {
  if (promises) return Promise.reject(error);
  const callback = args.at(-1);
  if (!name.endsWith('Sync') && typeof callback === 'function') return void process.nextTick(callback as (e: Error) => void, error);
  throw error;
}

/** Puts `wrapped` at `target[name]` in place of `fn`, with its name and what hangs on it (`realpath.native`, `promisify.custom`). */
function replaceWith(target: Record<string, unknown>, name: string, fn: (...a: unknown[]) => unknown, wrapped: (...a: unknown[]) => unknown): void {
  for (const key of Reflect.ownKeys(fn)) {
    if (key === 'length' || key === 'name' || key === 'prototype') continue;
    const descriptor = Object.getOwnPropertyDescriptor(fn, key);
    if (descriptor) Object.defineProperty(wrapped, key, descriptor);
  }
  Object.defineProperty(wrapped, 'name', { value: fn.name });
  target[name] = wrapped;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof URL) return value.href;
  if (Buffer.isBuffer(value)) return value.toString();
  if (typeof value === 'function') return value.name || '(function)';
  return value === undefined ? '(unknown)' : String(value);
}
