import { ShadowgateError, ToolCallError } from '../errors.js';
import { readModelAnswer } from '../providers/answer.js';
import { answerSource } from '../providers/sdk.js';
import type { Price } from '../providers/pricing.js';
import { redactUrl, TRIAL_HEADER } from '../providers/transport.js';
import { OutcomeStatusSchema } from '../trace/schema.js';
import type { ToolCatalog } from '../trace/catalog.js';
import type { ReplaySession } from './session.js';
import { errorData, supervise, type CandidateEnd, type CandidateRunner } from './supervise.js';
import { noOutcomeCause, type ResultError } from './types.js';
import { recordResponse } from './tool-loop.js';
import { createRouteMatcher } from './http-routes.js';
import type { JobEnd, JobHost } from './pool/pool.js';
import type { RunJob } from './pool/protocol.js';
import type { Recording } from './mock-tools.js';

type OpenAIClient = import('openai').OpenAI;
type AnthropicClient = import('@anthropic-ai/sdk').Anthropic;

/** The context a module candidate's `run(input, ctx)` receives. */
export interface ModuleContext {
  /** Every catalog tool, mocked: `await ctx.tools.get_order({ order_id })`. */
  tools: Record<string, (args: Record<string, unknown>) => Promise<unknown>>;
  /**
   * Official SDK clients whose calls are cached, rate-limited, budgeted, priced
   * and recorded as model steps, exactly like a tool loop's.
   */
  llm: { readonly openai: OpenAIClient; readonly anthropic: AnthropicClient };
  trace: { id: string; caseId: string; workflow: string; trial: number };
  /** Aborted when a budget stops the run. */
  signal: AbortSignal;
  /** The one folder the candidate may write to: made for the run, removed after it. */
  scratchDir: string;
  log: (...args: unknown[]) => void;
}

export type ModuleCandidate = (input: unknown, ctx: ModuleContext) => unknown;

/**
 * A model API a module candidate may reach: requests under `baseURL` go through the
 * provider layer (cache, cassette, rate limits, budgets) with the run's key for it,
 * whatever key or client the candidate used.
 */
export interface ModelEndpoint {
  provider: 'openai' | 'anthropic';
  baseURL: string;
  fetch: typeof fetch;
  apiKey: string;
}

/** What `ctx.llm` and the sandbox's model routes are built from. The first endpoint of each provider backs `ctx.llm`. */
export interface LlmAccess {
  endpoints: ModelEndpoint[];
  pricing: Record<string, Price>;
}

/**
 * Where a module candidate's code runs: in the pool's child processes (see pool/pool.ts), or,
 * in the library's own unit tests, a function in this process. Either way the harness side
 * (`host`) answers its tool calls and requests and records what it attempted.
 */
export interface ModuleExecutor {
  /** Resolves once a process is ready for the next trace: starting one is not the candidate's time. */
  ready?(): Promise<void>;
  /**
   * `input` is the trace's own: the executor gives the candidate a copy, so that what it does with it
   * cannot change the trace. `recordings`: the trace's recorded tool calls, for an executor that
   * answers tool calls where the candidate runs.
   */
  run(trace: RunJob['trace'], input: unknown, host: JobHost, signal: AbortSignal, recordings?: readonly Recording[]): Promise<JobEnd>;
}

/**
 * A module candidate: the user's agent code, run by `executor`. Its tools are mocked
 * (`ctx.tools`, or HTTP requests to a catalog tool's `http` route), its model calls
 * (`ctx.llm`, or its own SDK clients and requests to a model API) go through the provider
 * layer, and any other outbound request is refused and recorded as a `blocked_request`
 * violation; a capability the permission model refuses, as a `denied_capability` one.
 */
export function moduleRunner(executor: ModuleExecutor, catalog: ToolCatalog, maxWallMs?: number, llm: LlmAccess = { endpoints: [], pricing: {} }): CandidateRunner {
  const route = createRouteMatcher(catalog);
  return async (session, trial) => {
    await executor.ready?.();
    return supervise(session, maxWallMs, async (signal) => {
      const { trace } = session;
      const handler = sandboxHandler(session, trial, route, llm);
      const host: JobHost = {
        callTool: (name, args) => session.callTool(name, args),
        replayTool: (name, args) => session.replayTool(name, args),
        request: (request) => handler.request(request),
        attempt: (a) => (a.kind === 'denied' ? session.recordDenied(a.capability ?? 'unknown', a.target) : session.recordBlocked(a.method, a.target, a.why)),
      };
      // The input as it is: the executor gives the candidate its own copy (the pool's channel copies it).
      const end = await executor.run({ id: trace.id, caseId: trace.caseId ?? trace.id, workflow: trace.workflow, trial }, trace.input, host, signal, session.toolbox.recordings);
      switch (end.kind) {
        case 'done':
          return parseModuleOutcome(end.value);
        case 'threw':
        case 'crashed':
          return { status: 'error', decision: undefined, error: ownError(session, end.error) };
        case 'evicted':
          return { status: 'error', decision: undefined, error: { code: EVICTED, message: "the candidate's process was killed for another trace's time budget" } };
      }
    });
  };
}

/**
 * The error a candidate's failure ends its trace with. Code that fails because a model
 * request failed in the infrastructure (as the harness saw it) ends with that failure, which
 * is missing evidence; any other failure is the candidate's own, whatever code it claims: an
 * error it throws with a provider's `status`, or one it made up, cannot pass as the
 * infrastructure's and so leave the gated figures.
 */
function ownError(session: ReplaySession, error: ResultError): ResultError {
  const seen = session.infrastructureFailure;
  if (seen) return { ...seen, candidateError: error.message };
  return noOutcomeCause('error', error) === 'infrastructure' ? { ...error, code: 'CANDIDATE_THREW', claimedCode: error.code } : error;
}

/** The error code of a trace whose process was killed for another trace: it is run again. */
export const EVICTED = 'CANDIDATE_EVICTED';

/** Answers the outbound requests of one trace's candidate code: a response, or an error its client sees as a failed connection. */
interface RequestHandler {
  request(request: Request): Promise<Response>;
  /** Records an attempt the handler refuses and returns the error to fail it with. */
  blocked(method: string, target: string, why: string): Error;
}

/** The error a refused request fails with. */
export class SandboxBlockedError extends TypeError {
  constructor(readonly target: string) {
    super(`shadowgate sandbox: ${target} is blocked`);
    this.name = 'SandboxBlockedError';
  }
}

/** How the sandbox answers one session's requests: model APIs, catalog http routes, and nothing else. */
function sandboxHandler(session: ReplaySession, trial: number, route: ReturnType<typeof createRouteMatcher>, access: LlmAccess): RequestHandler {
  return {
    async request(request) {
      const url = new URL(request.url);
      const endpoint = access.endpoints.find((e) => isUnder(url, e.baseURL));
      if (endpoint && !isInference(endpoint, url, request.method)) throw this.blocked(request.method, redactUrl(request.url), 'not an inference endpoint');
      if (endpoint) {
        const body = await request.text();
        const outward = reachesOut(endpoint.provider, parseJson(body));
        if (outward) throw this.blocked(request.method, redactUrl(request.url), `a model request that asks the provider to reach the network for it (${outward})`);
        return modelRequest(session, trial, endpoint, request, body, access.pricing);
      }
      const body = request.method === 'GET' || request.method === 'HEAD' ? null : await request.text();
      const match = route(request.method, url, body ? parseJson(body) : null);
      if (match) return toolResponse(session, match.tool, match.args);
      throw this.blocked(request.method, redactUrl(request.url), 'not a model endpoint or a catalog http route');
    },
    blocked(method, target, why) {
      session.recordBlocked(method, target, why);
      return new SandboxBlockedError(`${method} ${target}`);
    },
  };
}

function isUnder(url: URL, baseURL: string): boolean {
  const base = new URL(baseURL);
  const prefix = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  return url.origin === base.origin && (url.pathname === base.pathname || url.pathname.startsWith(prefix));
}

/**
 * The requests under a model API's base URL that go out with the run's key: inference,
 * which the provider layer records as model steps. Anything else (files, batches, stored
 * completions, model lists, token counts) could read or change the account, and is blocked.
 */
const INFERENCE_PATHS: Record<ModelEndpoint['provider'], readonly string[]> = {
  openai: ['/chat/completions', '/responses', '/embeddings', '/completions'],
  anthropic: ['/v1/messages'],
};

function isInference(endpoint: ModelEndpoint, url: URL, method: string): boolean {
  const base = new URL(endpoint.baseURL).pathname.replace(/\/$/, '');
  return method.toUpperCase() === 'POST' && INFERENCE_PATHS[endpoint.provider].some((path) => url.pathname === `${base}${path}`);
}

/**
 * What in a model request would have the provider reach the network on the candidate's behalf,
 * with the run's key paying: a server-side tool (OpenAI's remote `mcp`, `web_search`,
 * `file_search`, `code_interpreter`, …: any tool but a `function` or `custom` one the candidate
 * runs itself; Anthropic's `mcp_servers`, `web_search`, `web_fetch`, `code_execution`), or
 * Chat Completions' `web_search_options`. Null: nothing of the kind.
 */
export function reachesOut(provider: ModelEndpoint['provider'], body: unknown): string | null {
  // What cannot be read cannot be checked: an inference request is JSON.
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return 'a body that is not a JSON object';
  const b = body as { tools?: unknown; mcp_servers?: unknown; web_search_options?: unknown; model?: unknown; prompt?: unknown; container?: unknown };
  if (provider === 'anthropic' && b.mcp_servers !== undefined) return 'mcp_servers';
  if (provider === 'anthropic' && b.container !== undefined) return 'container';
  if (provider === 'openai' && b.web_search_options !== undefined) return 'web_search_options';
  // A stored prompt may carry tools of its own; a search model searches with no tool asked for.
  if (provider === 'openai' && b.prompt !== undefined && typeof b.prompt === 'object') return 'a stored prompt';
  if (provider === 'openai' && typeof b.model === 'string' && /(^|-)search(-|$)/i.test(b.model)) return `the model ${b.model}, which searches the web`;
  for (const tool of Array.isArray(b.tools) ? b.tools : []) {
    const type = (tool as { type?: unknown } | null)?.type;
    if (type === undefined) continue;
    const outward = provider === 'openai' ? !['function', 'custom'].includes(String(type)) : /^(web_search|web_fetch|code_execution|mcp)/.test(String(type));
    if (outward) return `a tool of type ${JSON.stringify(type)}`;
  }
  // Content the provider would fetch from a URL (an image, a file, a document), anywhere in the request.
  const fetched = urlFetched(body);
  return fetched ? `content the provider would fetch from ${fetched}` : null;
}

/** The first http(s) URL a request asks the provider to fetch: `image_url`, `file_url`, or a `{ type: 'url', url }` source; data URLs are inline. */
function urlFetched(value: unknown, depth = 0): string | null {
  if (depth > 32 || value === null || typeof value !== 'object') return null;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = urlFetched(item, depth + 1);
      if (found) return found;
    }
    return null;
  }
  const v = value as Record<string, unknown>;
  const candidates = [v.image_url, v.file_url, (v.image_url as { url?: unknown } | null)?.url, v.type === 'url' ? v.url : undefined];
  const url = candidates.find((c): c is string => typeof c === 'string' && /^https?:/i.test(c));
  if (url) return redactUrl(url);
  for (const key of Object.keys(v)) {
    const found = urlFetched(v[key], depth + 1);
    if (found) return found;
  }
  return null;
}

/** A model request, with the run's credentials in place of the candidate's, through the provider layer. */
async function modelRequest(session: ReplaySession, trial: number, endpoint: ModelEndpoint, request: Request, body: string, pricing: Record<string, Price>): Promise<Response> {
  const headers = new Headers(request.headers);
  for (const name of ['authorization', 'x-api-key', 'api-key', 'cookie']) headers.delete(name);
  if (endpoint.provider === 'anthropic') headers.set('x-api-key', endpoint.apiKey);
  else headers.set('authorization', `Bearer ${endpoint.apiKey}`);
  return recordingFetch(session, trial, endpoint.fetch, pricing)(request.url, { method: request.method, headers, body, signal: request.signal });
}

/**
 * A catalog tool's answer as an HTTP response: the mock's result as JSON (200), or a
 * failed call as `{ error }` (400 for arguments the schema refuses, 403 for a call a
 * policy rule refuses, else 500). A stop
 * (off-trace, budget) fails the request, as the session has ended.
 */
async function toolResponse(session: ReplaySession, tool: string, args: Record<string, unknown>): Promise<Response> {
  try {
    return Response.json(structuredClone((await session.callTool(tool, args)) ?? null));
  } catch (error) {
    if (!(error instanceof ToolCallError)) throw error;
    const recorded = error.recordedError as { code?: unknown } | null;
    const status = recorded?.code === 'SCHEMA_VIOLATION' ? 400 : recorded?.code === 'POLICY_DENIED' ? 403 : 500;
    return Response.json({ error: error.recordedError }, { status });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Wraps a transport's fetch so that each model call is budgeted, keyed by trial and recorded as a model step. */
function recordingFetch(session: ReplaySession, trial: number, transport: typeof fetch, pricing: Record<string, Price>): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    session.beforeModelCall();
    const headers = new Headers(init.headers);
    headers.set(TRIAL_HEADER, String(trial));
    const started = performance.now();
    let response: Response;
    try {
      response = await transport(input, { ...init, headers });
    } catch (error) {
      // No answer at all (a cassette miss, no connection, a timeout past the retries).
      session.infrastructureFailure ??= errorData(error, 'PROVIDER_CONNECTION');
      throw error;
    }
    const waited = performance.now() - started;
    session.modelWaitMs += waited;
    if (!response.ok) {
      const failure = { code: `PROVIDER_HTTP_${response.status}`, message: `the model API answered ${response.status} ${response.statusText}`.trimEnd() };
      if (noOutcomeCause('error', failure) === 'infrastructure') session.infrastructureFailure ??= failure;
      return response;
    }
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const answer = readModelAnswer(url, typeof init.body === 'string' ? parseJson(init.body) : null, await response.text());
    recordResponse(session, { ...answer.parsed, ...answerSource(response, waited) }, pricing);
    const answerHeaders = new Headers(response.headers);
    answerHeaders.delete('content-length'); // the body may have lost a stream's usage chunk
    return new Response(answer.body, { status: response.status, headers: answerHeaders });
  }) as typeof fetch;
}

function parseModuleOutcome(value: unknown): CandidateEnd {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      status: 'error',
      decision: undefined,
      error: { code: 'CANDIDATE_OUTPUT_INVALID', message: 'run(input, ctx) must resolve to { decision, status?, output? }' },
    };
  }
  const { decision, status = 'completed', output } = value as Record<string, unknown>;
  const parsed = OutcomeStatusSchema.safeParse(status);
  if (!parsed.success) {
    return {
      status: 'error',
      decision,
      error: { code: 'CANDIDATE_OUTPUT_INVALID', message: `status must be one of ${OutcomeStatusSchema.options.join(', ')}; got ${JSON.stringify(status)}` },
    };
  }
  return { status: parsed.data, decision, output, error: null };
}
