import dgram from 'node:dgram';
import dns from 'node:dns';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import { ClientRequestInterceptor } from '@mswjs/interceptors/ClientRequest';
import { redactUrl } from '../../providers/transport.js';

/** The error a refused request or connection fails with: a network error, as the client would see a refused connection. */
export class SandboxBlockedError extends TypeError {
  readonly code = 'ECONNREFUSED';
  constructor(readonly target: string) {
    super(`shadowgate sandbox: ${target} is blocked`);
    this.name = 'SandboxBlockedError';
  }
}

export interface Outbound {
  /** Answers an HTTP request (forwarded to the parent), or fails it. */
  request(request: Request): Promise<Response>;
  /** Records an attempt that never became an HTTP request and returns the error to fail it with. */
  refuse(method: string, target: string, why: string): Error;
}

/**
 * Installs, for the child's whole life and before any candidate code is imported, the
 * interception of every way out: global `fetch`; node:http and node:https (so axios and the
 * SDKs that use them); raw TCP and TLS sockets, HTTP/2 sessions, UDP sends and every DNS
 * lookup or resolver query, which are refused and never sent. Nothing here lets a request
 * through: HTTP requests go to the parent, which answers them (model APIs, catalog routes) or refuses them.
 */
export function interceptEverything(out: Outbound): void {
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    let request: Request;
    try {
      request = new Request(input, init);
    } catch {
      // A request fetch itself refuses (credentials in the URL): still an attempt, recorded without fetch's message, which quotes the URL.
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      throw out.refuse((init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase(), redactUrl(url), 'fetch refuses this request as written');
    }
    return out.request(request);
  };

  const clientRequests = new ClientRequestInterceptor();
  clientRequests.apply();
  clientRequests.on('request', async ({ request, controller }) => {
    try {
      controller.respondWith(await out.request(request));
    } catch (error) {
      controller.errorWith(error as Error);
    }
  });

  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    const { host, port } = connectTarget(args);
    const error = out.refuse('CONNECT', `${host}:${port}`, 'a raw connection, which the sandbox never lets out');
    process.nextTick(() => this.destroy(error));
    return this;
  } as typeof net.Socket.prototype.connect;

  http2.connect = ((authority: string | URL) => {
    throw out.refuse('HTTP2', redactUrl(String(authority)), 'an HTTP/2 session, which the sandbox never opens');
  }) as typeof http2.connect;

  const failUdp = (socket: dgram.Socket, args: unknown[], target: string) => {
    const error = out.refuse('UDP', target, 'a UDP datagram, which the sandbox never sends');
    const callback = args.findLast((a) => typeof a === 'function') as ((e: Error) => void) | undefined;
    if (callback) process.nextTick(callback, error);
    else if (socket.listenerCount('error') > 0) process.nextTick(() => socket.emit('error', error));
  };
  dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
    const numbers = args.filter((a) => typeof a === 'number');
    const port = args.length > 3 && typeof args[1] === 'number' && typeof args[2] === 'number' ? args[3] : numbers[0];
    const address = args.find((a, i) => i > 0 && typeof a === 'string');
    failUdp(this, args, `${String(address ?? 'localhost')}:${String(port ?? '?')}`);
  } as typeof dgram.Socket.prototype.send;
  dgram.Socket.prototype.connect = function (this: dgram.Socket, ...args: unknown[]) {
    failUdp(this, args, `${String(typeof args[1] === 'string' ? args[1] : 'localhost')}:${String(args[0])}`);
  } as typeof dgram.Socket.prototype.connect;

  refuseDns(out);
  refuseHandles(out);
}

/**
 * The native handles under every socket, refused at the source: a handle's constructor
 * (`server._handle.constructor`), a handle's own `connect`, `send` or `open`, or a socket built
 * on such a handle or on a file descriptor (`new net.Socket({ fd })`) gets nowhere. Their
 * prototypes are taken from throwaway handles (`process.binding` is denied); each refusal
 * returns the error code the native call would, and is recorded.
 */
function refuseHandles(out: Outbound): void {
  const server = net.createServer();
  server.listen(0); // creates its TCP handle synchronously
  const tcp = handleOf(server);
  server.close();
  const socket = dgram.createSocket('udp4');
  const warn = process.noDeprecation;
  process.noDeprecation = true; // dgram's `_handle` is deprecated, and this is no use of it
  const udp = handleOf(socket);
  process.noDeprecation = warn;
  socket.close();
  // stderr is a pipe to the parent: its stream is made now, before Pipe's `open` is refused.
  const pipe = handleOf(process.stderr);
  const refused = -(os.constants.errno.ECONNREFUSED ?? 111);
  const denied = -(os.constants.errno.EPERM ?? 1);
  const refuse = (proto: object | undefined, name: string, target: (args: unknown[]) => string, method: string, why: string, code: number) => {
    if (!proto || typeof (proto as Record<string, unknown>)[name] !== 'function') return;
    Object.defineProperty(proto, name, {
      value: function (...args: unknown[]) {
        out.refuse(method, target(args), why);
        return code;
      },
      writable: false,
      configurable: false,
    });
  };
  const hostPort = (host: number, port: number) => (args: unknown[]) => `${String(args[host])}:${String(args[port])}`;
  for (const name of ['connect', 'connect6']) refuse(tcp, name, hostPort(1, 2), 'CONNECT', 'a raw connection on a socket handle, which the sandbox never lets out', refused);
  for (const name of ['send', 'send6']) refuse(udp, name, hostPort(4, 3), 'UDP', 'a UDP datagram on a socket handle, which the sandbox never sends', refused);
  for (const name of ['connect', 'connect6']) refuse(udp, name, hostPort(0, 1), 'UDP', 'a UDP connection on a socket handle, which the sandbox never makes', refused);
  refuse(pipe, 'connect', (args) => String(args[1]), 'CONNECT', 'a connection to a local socket, which the sandbox never lets out', refused);
  // A socket on a file descriptor: the standard streams were opened already; any other (the IPC channel's) is refused.
  for (const proto of [tcp, udp, pipe]) refuse(proto, 'open', (args) => `fd ${String(args[0])}`, 'OPEN', 'a socket on a file descriptor, which the sandbox never opens', denied);
}

/** The prototype of the native handle under a server, socket or stream, if it has one. */
function handleOf(owner: object): object | undefined {
  const handle = (owner as { _handle?: object | null })._handle;
  return handle ? Object.getPrototypeOf(handle) : undefined;
}

/** Every lookup and resolver query fails: a replay needs no name resolution, and a query is a way out. */
function refuseDns(out: Outbound): void {
  const refuse = (name: string, args: unknown[]) => out.refuse('DNS', `${name} ${(args.find((a) => typeof a === 'string') as string | undefined) ?? '?'}`, 'a DNS query, which the sandbox never sends');
  const callbackStyle = (name: string) =>
    function (...args: unknown[]) {
      const error = refuse(name, args);
      const callback = args.findLast((a) => typeof a === 'function') as ((e: Error) => void) | undefined;
      if (callback) process.nextTick(callback, error);
      else throw error;
    };
  const promiseStyle = (name: string) =>
    async function (...args: unknown[]) {
      throw refuse(name, args);
    };
  const queries = (target: object) => Object.getOwnPropertyNames(target).filter((k) => /^(lookup|lookupService|resolve\w*|reverse)$/.test(k));
  const mutable = dns as unknown as Record<string, unknown>;
  for (const name of queries(dns)) mutable[name] = callbackStyle(name);
  const resolver = dns.Resolver.prototype as unknown as Record<string, unknown>;
  for (const name of queries(dns.Resolver.prototype)) resolver[name] = callbackStyle(name);
  const promises = dns.promises as unknown as Record<string, unknown>;
  for (const name of queries(dns.promises)) promises[name] = promiseStyle(name);
  const promiseResolver = dns.promises.Resolver.prototype as unknown as Record<string, unknown>;
  for (const name of queries(dns.promises.Resolver.prototype)) promiseResolver[name] = promiseStyle(name);
  // Under every resolver, c-ares's own channel (`resolver._handle`), which opens its own sockets:
  // its queries (`queryA`, `queryTxt`, …, `getHostByAddr`) refused at the native prototype, which
  // every resolver shares; its settings (servers, local address) send nothing, and stay.
  const channel = Object.getPrototypeOf((new dns.Resolver() as unknown as { _handle: object })._handle) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(channel)) {
    if (typeof channel[name] !== 'function' || !/^(query|getHostBy)/.test(name)) continue;
    Object.defineProperty(channel, name, {
      value: function (...args: unknown[]) {
        throw refuse(name, args);
      },
      writable: false,
      configurable: false,
    });
  }
  Object.freeze(channel);
}

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
