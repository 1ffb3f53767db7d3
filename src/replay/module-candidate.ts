import { pathToFileURL } from 'node:url';
import { ConfigError, ShadowgateError, ToolCallError } from '../errors.js';
import { readModelAnswer } from '../providers/answer.js';
import { answerSource, createAnthropicClient, createOpenAIClient } from '../providers/sdk.js';
import type { Price } from '../providers/pricing.js';
import { redactUrl, TRIAL_HEADER } from '../providers/transport.js';
import { OutcomeStatusSchema } from '../trace/schema.js';
import type { ToolCatalog } from '../trace/catalog.js';
import type { ReplaySession } from './session.js';
import { supervise, type CandidateEnd, type CandidateRunner } from './supervise.js';
import { recordResponse } from './tool-loop.js';
import { createRouteMatcher } from './http-routes.js';
import { holdInterception, SandboxBlockedError, sandboxed, unsandboxed, type RequestHandler } from './intercept.js';

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

/** Imports a module candidate once; a module without a `run` function is a config error. */
export async function loadModuleCandidate(file: string): Promise<ModuleCandidate> {
  let mod: Record<string, unknown>;
  try {
    // Imported inside a sandbox, so that a client it creates at load time (capturing `fetch`) is sandboxed too.
    const release = holdInterception();
    try {
      mod = (await sandboxed(refuseAll, () => import(pathToFileURL(file).href))) as Record<string, unknown>;
    } finally {
      release();
    }
  } catch (cause) {
    throw new ShadowgateError('SG_CONFIG_INVALID', `cannot import candidate module ${file}: ${(cause as Error).message}`, { cause });
  }
  const run = mod.run ?? (mod.default as Record<string, unknown> | undefined)?.run;
  if (typeof run !== 'function') {
    throw new ConfigError([{ file, message: 'a module candidate must export `run(input, ctx)`' }]);
  }
  return run as ModuleCandidate;
}

/** Loading a module reaches nothing: a request made at import time fails. */
const refuseAll: RequestHandler = {
  request: async (request) => {
    throw new SandboxBlockedError(`${request.method} ${redactUrl(request.url)} (at import)`);
  },
  blocked: (method, target) => new SandboxBlockedError(`${method} ${target} (at import)`),
};

/**
 * A module candidate: the user's agent code, run in the sandbox. Its tools are
 * mocked (`ctx.tools`, or HTTP requests to a catalog tool's `http` route), its
 * model calls (`ctx.llm`, or its own SDK clients and requests to a model API) go
 * through the provider layer, and any other outbound request is blocked and
 * recorded as a `blocked_request` violation.
 */
export function moduleRunner(run: ModuleCandidate, catalog: ToolCatalog, maxWallMs?: number, llm: LlmAccess = { endpoints: [], pricing: {} }): CandidateRunner {
  const route = createRouteMatcher(catalog);
  return (session, trial) =>
    supervise(session, maxWallMs, async (signal) => {
      const { trace } = session;
      const handler = sandboxHandler(session, trial, route, llm);
      const tools = new Proxy({} as ModuleContext['tools'], {
        get: (_, name) => (typeof name === 'string' ? (args: Record<string, unknown>) => session.callTool(name, args ?? {}) : undefined),
        has: (_, name) => catalog.tools.some((t) => t.name === name),
        ownKeys: () => catalog.tools.map((t) => t.name),
        getOwnPropertyDescriptor: () => ({ enumerable: true, configurable: true }),
      });
      const ctx: ModuleContext = {
        tools,
        llm: llmClients(handler, llm),
        trace: { id: trace.id, caseId: trace.caseId ?? trace.id, workflow: trace.workflow, trial },
        signal,
        log: () => {},
      };
      const release = holdInterception();
      try {
        return parseModuleOutcome(await sandboxed(handler, () => run(structuredClone(trace.input), ctx)));
      } finally {
        release();
      }
    });
}

/** SDK clients on the first endpoint of each provider; their requests take the sandbox's model route like any other. */
function llmClients(handler: RequestHandler, access: LlmAccess): ModuleContext['llm'] {
  let openai: OpenAIClient | undefined;
  let anthropic: AnthropicClient | undefined;
  const endpoint = (provider: ModelEndpoint['provider']) => {
    const found = access.endpoints.find((e) => e.provider === provider);
    if (!found) throw new ShadowgateError('SG_INTERNAL', `ctx.llm.${provider} is not available in this run`);
    return found;
  };
  const viaSandbox = ((input: string | URL | Request, init?: RequestInit) => handler.request(new Request(input, init))) as typeof fetch;
  return {
    get openai() {
      return (openai ??= createOpenAIClient({ baseURL: endpoint('openai').baseURL, fetch: viaSandbox }));
    },
    get anthropic() {
      return (anthropic ??= createAnthropicClient({ baseURL: endpoint('anthropic').baseURL, fetch: viaSandbox }));
    },
  };
}

/** How the sandbox answers one session's requests: model APIs, catalog http routes, and nothing else. */
function sandboxHandler(session: ReplaySession, trial: number, route: ReturnType<typeof createRouteMatcher>, access: LlmAccess): RequestHandler {
  return {
    async request(request) {
      const url = new URL(request.url);
      const endpoint = access.endpoints.find((e) => isUnder(url, e.baseURL));
      if (endpoint && !isInference(endpoint, url, request.method)) throw this.blocked(request.method, redactUrl(request.url), 'not an inference endpoint');
      if (endpoint) return modelRequest(session, trial, endpoint, request, access.pricing);
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

/** A model request, with the run's credentials in place of the candidate's, through the provider layer. */
async function modelRequest(session: ReplaySession, trial: number, endpoint: ModelEndpoint, request: Request, pricing: Record<string, Price>): Promise<Response> {
  const headers = new Headers(request.headers);
  for (const name of ['authorization', 'x-api-key', 'api-key', 'cookie']) headers.delete(name);
  if (endpoint.provider === 'anthropic') headers.set('x-api-key', endpoint.apiKey);
  else headers.set('authorization', `Bearer ${endpoint.apiKey}`);
  const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.text();
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
    // The transport's own request (to the network, when the cache and cassette have no answer) is the harness's.
    const response = await unsandboxed(() => transport(input, { ...init, headers }));
    const waited = performance.now() - started;
    session.modelWaitMs += waited;
    if (!response.ok) return response;
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
