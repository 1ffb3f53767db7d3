import { AsyncLocalStorage } from 'node:async_hooks';
import net from 'node:net';
import { ClientRequestInterceptor } from '@mswjs/interceptors/ClientRequest';
import { redactUrl } from '../providers/transport.js';

/**
 * What answers the outbound requests of code running in a sandbox: a response, or
 * an error that the caller's client sees as a failed connection. It never lets a
 * request through.
 */
export interface RequestHandler {
  request(request: Request): Promise<Response>;
  /**
   * Records an attempt that never became a request the handler could answer (a raw TCP
   * connection as `CONNECT host:port`, a URL fetch refuses) and returns the error to fail it with.
   */
  blocked(method: string, target: string, why: string): Error;
}

const scope = new AsyncLocalStorage<RequestHandler>();

/** The error a blocked request fails with: a network error, as the client would see a refused connection. */
export class SandboxBlockedError extends TypeError {
  constructor(readonly target: string) {
    super(`shadowgate sandbox: ${target} is blocked`);
    this.name = 'SandboxBlockedError';
  }
}

/**
 * Runs `fn` with every outbound request it makes, directly or from any promise,
 * timer or callback it starts, answered by `handler`: global `fetch`, node:http and
 * node:https (so axios and the vendor SDKs), and raw sockets. Code outside the
 * sandbox (the harness's own calls to a provider) is untouched, however many
 * sandboxes run at once.
 */
export function sandboxed<T>(handler: RequestHandler, fn: () => T): T {
  installFetch();
  return scope.run(handler, fn);
}

/** Runs `fn` outside any sandbox: for the harness's own calls made on a sandboxed candidate's behalf. */
export function unsandboxed<T>(fn: () => T): T {
  return scope.exit(fn);
}

/**
 * Installs the interception for node:http(s) and raw sockets while at least one
 * caller holds it; the release function undoes it when the last one lets go.
 */
export function holdInterception(): () => void {
  installFetch();
  if (holders++ === 0) {
    clientRequests = new ClientRequestInterceptor();
    clientRequests.apply();
    clientRequests.on('request', async ({ request, controller }) => {
      const handler = scope.getStore();
      if (!handler) return; // the harness's own request: let it through
      try {
        controller.respondWith(await handler.request(request));
      } catch (error) {
        controller.errorWith(error as Error);
      }
    });
    originalConnect = net.Socket.prototype.connect;
    const connect = originalConnect;
    net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
      const handler = scope.getStore();
      if (!handler) return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
      const { host, port } = connectTarget(args);
      const error = handler.blocked('CONNECT', `${host}:${port}`, 'a raw connection, which the sandbox never lets out');
      process.nextTick(() => this.destroy(error));
      return this;
    } as typeof net.Socket.prototype.connect;
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders > 0) return;
    clientRequests?.dispose();
    clientRequests = undefined;
    if (originalConnect) net.Socket.prototype.connect = originalConnect;
    originalConnect = undefined;
  };
}

let holders = 0;
let clientRequests: ClientRequestInterceptor | undefined;
let originalConnect: typeof net.Socket.prototype.connect | undefined;

/**
 * Global `fetch` is wrapped once and the wrapper stays: outside a sandbox it calls
 * whatever `fetch` was there before (the platform's, or a test's interceptor), so
 * a client that captured `fetch` when a candidate module was imported is still
 * sandboxed later. A `fetch` installed over it afterwards gets wrapped again.
 */
function installFetch(): void {
  if ((globalThis.fetch as Partial<typeof sandboxFetch>)[WRAPPED]) return;
  const previous = globalThis.fetch;
  const sandboxFetch = Object.assign(
    async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const handler = scope.getStore();
      if (!handler) return previous(input, init);
      let request: Request;
      try {
        request = new Request(input, init);
      } catch {
        // A request fetch itself refuses (credentials in the URL, a bad method): still an attempt, and
        // recorded as one. Not with fetch's message, which quotes the URL, credentials and all.
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        throw handler.blocked((init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase(), redactUrl(url), 'fetch refuses this request as written');
      }
      return handler.request(request);
    },
    { [WRAPPED]: true },
  );
  globalThis.fetch = sandboxFetch as typeof fetch;
}

const WRAPPED = Symbol.for('shadowgate.sandbox.fetch');

/** Host and port from the many shapes of `socket.connect(...)`. */
function connectTarget(args: unknown[]): { host: string; port: number } {
  const [first, second] = args;
  const options = (Array.isArray(first) ? first[0] : first) as { host?: string; port?: number | string; path?: string } | number | string;
  if (typeof options === 'object' && options !== null) {
    if (options.path) return { host: options.path, port: 0 };
    return { host: options.host ?? 'localhost', port: Number(options.port ?? 0) };
  }
  if (typeof options === 'string' && Number.isNaN(Number(options))) return { host: options, port: 0 }; // an IPC path
  return { host: typeof second === 'string' ? second : 'localhost', port: Number(options) };
}

