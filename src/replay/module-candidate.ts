import { pathToFileURL } from 'node:url';
import { ConfigError, ShadowgateError } from '../errors.js';
import { fromAnthropicResponse } from '../providers/anthropic.js';
import { fromOpenAIResponse } from '../providers/openai.js';
import { answerSource, createAnthropicClient, createOpenAIClient } from '../providers/sdk.js';
import type { Price } from '../providers/pricing.js';
import { TRIAL_HEADER } from '../providers/transport.js';
import type { ModelResponse } from '../providers/types.js';
import { OutcomeStatusSchema } from '../trace/schema.js';
import type { ToolCatalog } from '../trace/catalog.js';
import type { ReplaySession } from './session.js';
import { supervise, type CandidateEnd, type CandidateRunner } from './supervise.js';
import { recordResponse } from './tool-loop.js';

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

/** What `ctx.llm` is built from: the run's transports, keys and pricing. */
export interface LlmAccess {
  openai: { fetch: typeof fetch; apiKey: string; baseURL?: string };
  anthropic: { fetch: typeof fetch; apiKey: string; baseURL?: string };
  pricing: Record<string, Price>;
}



/** Imports a module candidate once; a module without a `run` function is a config error. */
export async function loadModuleCandidate(file: string): Promise<ModuleCandidate> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (cause) {
    throw new ShadowgateError('SG_CONFIG_INVALID', `cannot import candidate module ${file}: ${(cause as Error).message}`, { cause });
  }
  const run = mod.run ?? (mod.default as Record<string, unknown> | undefined)?.run;
  if (typeof run !== 'function') {
    throw new ConfigError([{ file, message: 'a module candidate must export `run(input, ctx)`' }]);
  }
  return run as ModuleCandidate;
}

/** A module candidate: the user's agent code, with every tool mocked and its model clients instrumented. */
export function moduleRunner(run: ModuleCandidate, catalog: ToolCatalog, maxWallMs?: number, llm?: LlmAccess): CandidateRunner {
  return (session, trial) =>
    supervise(session, maxWallMs, async (signal) => {
      const { trace } = session;
      const tools = new Proxy({} as ModuleContext['tools'], {
        get: (_, name) => (typeof name === 'string' ? (args: Record<string, unknown>) => session.callTool(name, args ?? {}) : undefined),
        has: (_, name) => catalog.tools.some((t) => t.name === name),
        ownKeys: () => catalog.tools.map((t) => t.name),
        getOwnPropertyDescriptor: () => ({ enumerable: true, configurable: true }),
      });
      const ctx: ModuleContext = {
        tools,
        llm: llmClients(session, trial, llm),
        trace: { id: trace.id, caseId: trace.caseId ?? trace.id, workflow: trace.workflow, trial },
        signal,
        log: () => {},
      };
      return parseModuleOutcome(await run(structuredClone(trace.input), ctx));
    });
}

function llmClients(session: ReplaySession, trial: number, access: LlmAccess | undefined): ModuleContext['llm'] {
  let openai: OpenAIClient | undefined;
  let anthropic: AnthropicClient | undefined;
  const missing = () => new ShadowgateError('SG_INTERNAL', 'ctx.llm is not available in this run');
  return {
    get openai() {
      if (!access) throw missing();
      const { fetch, apiKey, baseURL } = access.openai;
      return (openai ??= createOpenAIClient({ apiKey, baseURL, fetch: recordingFetch(session, trial, fetch, access.pricing) }));
    },
    get anthropic() {
      if (!access) throw missing();
      const { fetch, apiKey, baseURL } = access.anthropic;
      return (anthropic ??= createAnthropicClient({ apiKey, baseURL, fetch: recordingFetch(session, trial, fetch, access.pricing) }));
    },
  };
}

/** Wraps a transport's fetch so that each model call is budgeted, keyed by trial and recorded as a model step. */
function recordingFetch(session: ReplaySession, trial: number, transport: typeof fetch, pricing: Record<string, Price>): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    session.beforeModelCall();
    const headers = new Headers(init.headers);
    headers.set(TRIAL_HEADER, String(trial));
    const started = performance.now();
    const response = await transport(input, { ...init, headers });
    const waited = performance.now() - started;
    session.modelWaitMs += waited;
    if (!response.ok) return response;
    const text = await response.text();
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    recordResponse(session, { ...parseAnswer(url, JSON.parse(text)), ...answerSource(response, waited) }, pricing);
    return new Response(text, { status: response.status, headers: response.headers });
  }) as typeof fetch;
}

/**
 * A model answer from any endpoint the SDKs call: Chat Completions and Messages in
 * full; any other (Responses, embeddings) for its model and usage, so that it is
 * priced and budgeted like the rest.
 */
function parseAnswer(url: string, body: unknown): Omit<ModelResponse, 'latencyMs' | 'servedFrom'> {
  const path = new URL(url).pathname;
  if (path.endsWith('/chat/completions')) return fromOpenAIResponse(body);
  if (path.endsWith('/messages')) return fromAnthropicResponse(body);
  const { model, usage } = (body ?? {}) as { model?: unknown; usage?: Record<string, unknown> };
  const count = (...names: string[]) => names.map((n) => usage?.[n]).find((v): v is number => typeof v === 'number');
  const input = count('prompt_tokens', 'input_tokens');
  const output = count('completion_tokens', 'output_tokens') ?? 0;
  const cached = (usage?.input_tokens_details as { cached_tokens?: unknown } | undefined)?.cached_tokens;
  return {
    model: typeof model === 'string' ? model : 'unknown',
    toolCalls: [],
    ...(input !== undefined ? { usage: { inputTokens: input, outputTokens: output, ...(typeof cached === 'number' && cached > 0 ? { cachedInputTokens: cached } : {}) } } : {}),
  };
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
