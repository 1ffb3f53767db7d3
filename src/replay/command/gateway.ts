import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { InternalError, ReplayStop, ShadowgateError } from '../../errors.js';
import { redactUrl } from '../../providers/transport.js';
import type { ToolCatalog } from '../../trace/catalog.js';
import { SandboxBlockedError, type LlmAccess } from '../module-candidate.js';
import type { JobHost, RunLevelAttempt } from '../pool/pool.js';
import type { Attempt } from '../pool/protocol.js';
import { createMcpSessions, mcpTools } from './mcp.js';

export interface GatewayOptions {
  catalog: ToolCatalog;
  /** The run's model endpoints: the first openai and the first anthropic endpoint's baseURL are where /openai/v1/... and /anthropic/... requests are sent through host.request. */
  llm: LlmAccess;
}

/** One agent process's own listener: every request arriving on it belongs to the trace bound to it (one trace at a time per process). */
export interface AgentListener {
  /** Where the process's side connects: a Unix socket path (namespaced agents, via the relay) or a loopback origin `http://127.0.0.1:<port>` (trust-env). */
  readonly address: { socket: string } | { origin: string };
  /** From now on requests on this listener go to `host` (the trace's); the returned function unbinds (and ends the trace's MCP sessions). */
  bind(host: JobHost, trace: { id: string }): () => void;
  close(): Promise<void>;
}

export interface Gateway {
  /** A new listener for one agent process: 'unix' in a fresh temporary folder (mode 0700), 'tcp' on 127.0.0.1 port 0. */
  listen(kind: 'unix' | 'tcp'): Promise<AgentListener>;
  /** Requests that arrived on a listener with no trace bound (after a trace ended, before the next): run-level strays. */
  runLevel(): RunLevelAttempt[];
  close(): Promise<void>;
}

/** The API key an agent is given: never a real one; the gateway's requests carry the run's. */
export const GATEWAY_KEY = 'shadowgate-gateway';

/**
 * The environment an agent gets to reach the gateway at `origin` (as the agent sees it):
 * the model APIs' base URLs, dummy keys, the MCP and tool URLs, and the proxy variables, so
 * that a client that honours them sends every other request to the gateway, which records it.
 */
export function gatewayEnv(origin: string): Record<string, string> {
  return {
    OPENAI_BASE_URL: `${origin}/openai/v1`,
    ANTHROPIC_BASE_URL: `${origin}/anthropic`,
    OPENAI_API_KEY: GATEWAY_KEY,
    ANTHROPIC_API_KEY: GATEWAY_KEY,
    SHADOWGATE_MCP_URL: `${origin}/mcp`,
    SHADOWGATE_TOOLS_URL: `${origin}/tools`,
    HTTP_PROXY: origin,
    http_proxy: origin,
    HTTPS_PROXY: origin,
    https_proxy: origin,
    NO_PROXY: '',
    no_proxy: '',
  };
}

/** What a refused request that is neither a model endpoint nor a catalog route is recorded with. */
const NOT_ALLOWED = 'not a model endpoint or a catalog http route';

/** Request headers that belong to one connection (or to the gateway as a proxy), not to the request sent on. */
const HOP_HEADERS = new Set(['host', 'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'transfer-encoding', 'te', 'upgrade', 'content-length', 'expect', 'accept-encoding']);
/** Response headers that no longer describe the body written back (fetch has decoded it). */
const STALE_RESPONSE_HEADERS = ['content-encoding', 'content-length', 'transfer-encoding', 'connection', 'keep-alive'];

/**
 * The model gateway and MCP tool server the agent processes of a `command` candidate talk
 * to. Each process gets its own listener, bound to one trace at a time, so that every
 * request on it is that trace's: model API requests go through the trace's host (the
 * provider layer, the run's key, recorded as model steps), MCP tool calls and catalog
 * routes are answered from the trace's recording, and anything else is refused and recorded.
 */
export function createGateway(options: GatewayOptions): Gateway {
  const strays: RunLevelAttempt[] = [];
  const listeners = new Set<AgentListener>();
  const tools = mcpTools(options.catalog);
  const bases = {
    openai: options.llm.endpoints.find((e) => e.provider === 'openai')?.baseURL.replace(/\/$/, ''),
    anthropic: options.llm.endpoints.find((e) => e.provider === 'anthropic')?.baseURL.replace(/\/$/, ''),
  };
  // `/tools/<host>/...`: the origin of the catalog's http routes on that host.
  const toolOrigins = new Map<string, string>();
  for (const tool of options.catalog.tools) {
    if (!tool.http) continue;
    const url = new URL(tool.http.url);
    if (!toolOrigins.has(url.host)) toolOrigins.set(url.host, url.origin);
  }

  async function listen(kind: 'unix' | 'tcp'): Promise<AgentListener> {
    let bound: { host: JobHost; traceId: string } | null = null;
    let lastTrace: string | null = null;
    const refuse = (attempt: Attempt) => (bound ? bound.host.attempt(attempt) : strays.push({ attempt, startedBy: lastTrace }));
    // The MCP sessions of the trace in flight, or of the next one (opened while none runs).
    const sessions = () => createMcpSessions(tools, () => bound, (tool) => refuse({ kind: 'blocked', method: 'POST', target: 'http://gateway/mcp', why: `tools/call ${tool}: ${NO_TRACE}` }));
    let mcp = sessions();

    const server = createServer((req, res) => {
      serve(req, res).catch((error: unknown) => {
        if (!res.headersSent) writeError(res, 500, 'shadowgate_error', (error as Error).message);
        else res.destroy();
      });
    });
    // HTTPS through the proxy variables: never tunnelled.
    server.on('connect', (req: IncomingMessage, socket: Duplex) => {
      const target = req.url ?? '';
      refuse({ kind: 'blocked', method: 'CONNECT', target, why: bound ? NOT_ALLOWED : NO_TRACE });
      socket.end(`HTTP/1.1 ${bound ? '403 Forbidden' : '503 Service Unavailable'}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
    });

    async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const method = req.method ?? 'GET';
      const raw = req.url ?? '/';
      // A proxy-form request (`GET http://example.com/x`) names its target; one to loopback is to the gateway itself (the
      // agent's proxy variables point everything here, its base URLs included), as the agent sees no other loopback service.
      const absolute = raw.startsWith('/') ? null : parseUrl(raw);
      const local = !absolute || LOOPBACK.has(absolute.hostname);
      const url = local ? new URL(absolute ? absolute.pathname + absolute.search : raw, 'http://gateway') : absolute;
      const target = redactUrl(absolute ? absolute.href : `http://gateway${url.pathname}`);
      const path = url.pathname;
      const body = method === 'GET' || method === 'HEAD' ? null : await readBody(req);
      const headers = requestHeaders(req);
      // MCP answers what needs no trace (an agent connects when it starts), and refuses the rest itself.
      if (local && path === '/mcp') return writeResponse(res, await mcp.handle(new Request(`http://gateway${path}`, { method, headers, body })));
      const host = bound;
      if (!host) {
        refuse({ kind: 'blocked', method, target, why: NO_TRACE });
        return writeError(res, 503, 'shadowgate_no_trace', `no trace is running on this agent process: ${method} ${target} is recorded as a stray`);
      }
      const forward = (to: string) => relay(res, host.host, new Request(to, { method, headers, body, signal: abortOnClose(res) }));
      if (!local) return forward(absolute!.href);

      const model = modelTarget(path);
      if (model) {
        const base = bases[model.provider];
        if (base) return forward(`${base}${model.rest}${url.search}`);
        host.host.attempt({ kind: 'blocked', method, target, why: `the run has no ${model.provider} model endpoint` });
        return writeError(res, 403, 'shadowgate_blocked', `the run has no ${model.provider} model endpoint`);
      }
      const tool = /^\/tools\/([^/]+)(\/.*)?$/.exec(path);
      const toolHost = tool ? tool[1]!.toLowerCase() : undefined;
      const origin = toolHost ? toolOrigins.get(toolHost) : undefined;
      if (tool && origin) return forward(`${origin}${tool[2] ?? '/'}${url.search}`);
      host.host.attempt({ kind: 'blocked', method, target, why: toolHost ? `no catalog http route on ${toolHost}` : 'not a path the gateway serves' });
      return writeError(res, 404, 'shadowgate_not_found', `${method} ${url.pathname} is not served by the shadowgate gateway (recorded as a blocked request)`);
    }

    let cleanup = () => {};
    const address = await new Promise<AgentListener['address']>((resolve, reject) => {
      server.once('error', reject);
      if (kind === 'unix') {
        const dir = mkdtempSync(join(tmpdir(), 'shadowgate-gateway-')); // mode 0700: only this user reaches the socket
        cleanup = () => rmSync(dir, { recursive: true, force: true });
        const socket = join(dir, 'gateway.sock');
        server.listen(socket, () => resolve({ socket }));
      } else {
        server.listen(0, '127.0.0.1', () => {
          const { port } = server.address() as { port: number };
          resolve({ origin: `http://127.0.0.1:${port}` });
        });
      }
    });

    let closing: Promise<void> | undefined;
    const listener: AgentListener = {
      address,
      bind(host, trace) {
        if (bound) throw new InternalError(`the gateway listener is bound to trace ${bound.traceId}; trace ${trace.id} cannot start on it`);
        if (closing) throw new InternalError('the gateway listener is closed');
        const binding = { host, traceId: trace.id };
        bound = binding;
        lastTrace = trace.id;
        return () => {
          if (bound !== binding) return;
          bound = null;
          // The trace's sessions end with it; the next trace's start now.
          const ended = mcp;
          mcp = sessions();
          void ended.close().catch(() => {});
        };
      },
      close() {
        closing ??= (async () => {
          bound = null;
          await mcp.close().catch(() => {});
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
          cleanup();
          listeners.delete(listener);
        })();
        return closing;
      },
    };
    listeners.add(listener);
    return listener;
  }

  return {
    listen,
    runLevel: () => [...strays],
    async close() {
      await Promise.all([...listeners].map((l) => l.close()));
    },
  };
}

const NO_TRACE = 'no trace is running on this agent process';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** `/openai/v1/<rest>` → the OpenAI endpoint's base URL + `/<rest>`; `/anthropic/<rest>` → the Anthropic one's + `/<rest>`. */
function modelTarget(path: string): { provider: 'openai' | 'anthropic'; rest: string } | null {
  if (path === '/openai/v1' || path.startsWith('/openai/v1/')) return { provider: 'openai', rest: path.slice('/openai/v1'.length) };
  if (path === '/anthropic' || path.startsWith('/anthropic/')) return { provider: 'anthropic', rest: path.slice('/anthropic'.length) };
  return null;
}

/**
 * A request through the trace's host, its answer written back (a stream stays a stream).
 * The host refuses what is neither inference nor a catalog route, having recorded it (403);
 * a stop (off-trace, a budget) ends the trace, and the agent is told not to retry (410).
 */
async function relay(res: ServerResponse, host: JobHost, request: Request): Promise<void> {
  let response: Response;
  try {
    response = await host.request(request);
  } catch (error) {
    if (error instanceof SandboxBlockedError) return writeError(res, 403, 'shadowgate_blocked', error.message);
    if (error instanceof ReplayStop) return writeError(res, 410, 'shadowgate_stopped', error.message, error.code);
    const code = error instanceof ShadowgateError ? error.code : 'PROVIDER_CONNECTION';
    return writeError(res, 502, 'shadowgate_upstream_error', (error as Error).message, code);
  }
  await writeResponse(res, response);
}

async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers = new Headers(response.headers);
  for (const name of STALE_RESPONSE_HEADERS) headers.delete(name);
  if (!response.body) headers.set('content-length', '0');
  res.writeHead(response.status, response.statusText || undefined, Object.fromEntries(headers));
  if (!response.body) return void res.end();
  const reader = response.body.getReader();
  res.once('close', () => void reader.cancel().catch(() => {}));
  for (;;) {
    const { done, value } = await reader.read().catch(() => ({ done: true as const, value: undefined }));
    if (done || res.destroyed) break;
    if (!res.write(value)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
  }
  res.end();
}

/** A JSON error in the shape OpenAI's and Anthropic's clients read (`error.message`), marked not to be retried. */
function writeError(res: ServerResponse, status: number, type: string, message: string, code?: string): void {
  const body = JSON.stringify({ type: 'error', error: { type, message, ...(code ? { code } : {}) } });
  res.writeHead(status, { 'content-type': 'application/json', 'x-should-retry': 'false', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function requestHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (!HOP_HEADERS.has(name.toLowerCase())) headers.append(name, req.rawHeaders[i + 1]!);
  }
  return headers;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Aborted when the agent hangs up before its answer is written. */
function abortOnClose(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

function parseUrl(raw: string): URL | null {
  try {
    return new URL(raw);
  } catch {
    return null;
  }
}
