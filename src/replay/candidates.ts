import { pathToFileURL } from 'node:url';
import Handlebars from 'handlebars';
import { readFile } from 'node:fs/promises';
import { BudgetExceededError, ConfigError, ReplayStop, ShadowgateError } from '../errors.js';
import { priceOf, costOf, type Price } from '../providers/pricing.js';
import type { ChatMessage, ModelProvider, ToolSpec } from '../providers/types.js';
import { OutcomeStatusSchema, type LlmStep, type Trace } from '../trace/schema.js';
import type { ToolCatalog } from '../trace/catalog.js';
import type { ReplaySession } from './session.js';
import type { CandidateStep, ResultError, ResultStatus } from './types.js';

/** What a candidate did on one trace, before it is compared with anything. */
export interface CandidateOutcome {
  status: ResultStatus;
  decision: unknown;
  output?: unknown;
  steps: CandidateStep[];
  error: ResultError | null;
  latencyMs: number | null;
}

/** Runs a candidate on one trace inside a replay session. */
export type CandidateRunner = (session: ReplaySession, trial: number) => Promise<CandidateOutcome>;

/** The context a module candidate's `run(input, ctx)` receives. */
export interface ModuleContext {
  /** Every catalog tool, mocked: `await ctx.tools.get_order({ order_id })`. */
  tools: Record<string, (args: Record<string, unknown>) => Promise<unknown>>;
  trace: { id: string; caseId: string; workflow: string; trial: number };
  /** Aborted when a budget stops the run. */
  signal: AbortSignal;
  log: (...args: unknown[]) => void;
}

export type ModuleCandidate = (input: unknown, ctx: ModuleContext) => unknown;

export const FINAL_DECISION_TOOL = 'final_decision';

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

/**
 * Runs `body` under the session's wall-clock budget and turns how it ended into
 * a status: a stop (off-trace, budget) wins over anything the candidate did after it.
 */
async function supervise(
  session: ReplaySession,
  maxWallMs: number | undefined,
  body: (signal: AbortSignal) => Promise<Omit<CandidateOutcome, 'steps' | 'latencyMs' | 'error'> & { error?: ResultError | null }>,
): Promise<CandidateOutcome> {
  const controller = new AbortController();
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    if (maxWallMs === undefined) return;
    timer = setTimeout(() => {
      const stop = session.halt(new BudgetExceededError('maxWallMs', `wall-clock budget of ${maxWallMs} ms exhausted`));
      controller.abort(stop);
      reject(stop);
    }, maxWallMs);
  });
  let outcome: Omit<CandidateOutcome, 'steps' | 'latencyMs' | 'error'> & { error?: ResultError | null };
  try {
    outcome = await Promise.race([body(controller.signal), deadline]);
  } catch (error) {
    // A stop raised outside a mocked tool (a replay model with no more recorded steps) ends the run the same way.
    if (error instanceof ReplayStop) session.halt(error);
    outcome = { status: 'error', decision: undefined, error: errorData(error, 'CANDIDATE_THREW') };
  } finally {
    clearTimeout(timer);
  }
  const latencyMs = performance.now() - started;
  const steps = [...session.steps];
  if (session.stop) {
    const status = session.stop instanceof BudgetExceededError ? 'budget_exceeded' : 'diverged';
    return { status, decision: undefined, steps, error: errorData(session.stop, session.stop.code), latencyMs };
  }
  return { ...outcome, error: outcome.error ?? null, steps, latencyMs };
}

export function errorData(error: unknown, fallbackCode: string): ResultError {
  if (error instanceof ShadowgateError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: fallbackCode, message: error.message, name: error.name };
  return { code: fallbackCode, message: String(error) };
}

/** A module candidate: the user's agent code, with every tool mocked. */
export function moduleRunner(run: ModuleCandidate, catalog: ToolCatalog, maxWallMs?: number): CandidateRunner {
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
        trace: { id: trace.id, caseId: trace.caseId ?? trace.id, workflow: trace.workflow, trial },
        signal,
        log: () => {},
      };
      const value = await run(structuredClone(trace.input), ctx);
      return parseModuleOutcome(value);
    });
}

function parseModuleOutcome(value: unknown): Omit<CandidateOutcome, 'steps' | 'latencyMs'> {
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

export interface ToolLoopOptions {
  provider: ModelProvider;
  /** Model name without the provider prefix. */
  model: string;
  catalog: ToolCatalog;
  decisionSchema?: Record<string, unknown>;
  /** Renders the system prompt for one trace; absent when the candidate has no prompt. */
  renderPrompt?: (trace: Trace) => string;
  promptVersion?: string;
  pricing: Record<string, Price>;
  maxWallMs?: number;
}

/**
 * A tool-calling loop run by the harness: the model answers, its tool calls go
 * through the mocks, their results go back, until it calls `final_decision`
 * (whose arguments are the decision) or answers without tool calls.
 */
export function toolLoopRunner(options: ToolLoopOptions): CandidateRunner {
  const tools: ToolSpec[] = [
    ...options.catalog.tools.map((t) => ({
      name: t.name,
      description: t.description,
      parameters: t.parameters ?? { type: 'object', properties: {} },
    })),
    {
      name: FINAL_DECISION_TOOL,
      description: 'Call once, last, with your decision.',
      parameters: options.decisionSchema ?? { type: 'object' },
    },
  ];
  return (session, trial) =>
    supervise(session, options.maxWallMs, async (signal) => {
      const { trace } = session;
      const messages: ChatMessage[] = [];
      if (options.renderPrompt) messages.push({ role: 'system', content: options.renderPrompt(trace) });
      messages.push({ role: 'user', content: typeof trace.input === 'string' ? trace.input : JSON.stringify(trace.input) });
      for (let callIndex = 0; ; callIndex++) {
        session.beforeModelCall();
        const response = await options.provider.complete(
          { model: options.model, messages, tools, trial },
          { trace, callIndex, signal },
        );
        const step: LlmStep = {
          type: 'llm',
          model: response.model,
          ...(options.promptVersion ? { promptVersion: options.promptVersion } : {}),
          output: { ...(response.text !== undefined ? { text: response.text } : {}), toolCalls: response.toolCalls },
          ...(response.usage ? { usage: response.usage } : {}),
          ...(response.latencyMs !== undefined ? { latencyMs: response.latencyMs } : {}),
        };
        const cost = stepCost(step, response.costUsd, options.pricing);
        if (cost !== null) step.costUsd = cost;
        session.recordModelStep(step, cost);
        messages.push({ role: 'assistant', content: response.text, toolCalls: response.toolCalls });
        const final = response.toolCalls.find((c) => c.name === FINAL_DECISION_TOOL);
        for (const call of response.toolCalls) {
          if (call === final) continue;
          const content = await session.callTool(call.name, call.args).then(
            (result) => JSON.stringify(result),
            (error: unknown) => {
              if (error instanceof ReplayStop) throw error;
              return JSON.stringify({ error: (error as Error).message });
            },
          );
          messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content });
        }
        if (final) return { status: 'completed', decision: final.args };
        if (response.toolCalls.length === 0) {
          return { status: 'completed', decision: parseTextDecision(response.text, options.decisionSchema !== undefined), output: response.text };
        }
      }
    });
}

function parseTextDecision(text: string | undefined, structured: boolean): unknown {
  if (!structured || text === undefined) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The cost of one model step: the provider's own figure, else its usage priced; null when unknown. */
export function stepCost(step: LlmStep, reported: number | undefined, pricing: Record<string, Price>): number | null {
  if (reported !== undefined) return reported;
  if (!step.usage) return null;
  const price = priceOf(step.model, pricing);
  return price ? costOf(step.usage, price) : null;
}

/** Compiles a Handlebars prompt template in strict mode: a missing variable is an error naming it. */
export async function loadPromptTemplate(file: string): Promise<(trace: Trace) => string> {
  const source = await readFile(file, 'utf8');
  const template = Handlebars.compile(source, { strict: true, noEscape: true });
  return (trace) => {
    try {
      return template({ input: trace.input, workflow: trace.workflow });
    } catch (cause) {
      throw new ShadowgateError('SG_INPUT_INVALID', `prompt template ${file}: ${(cause as Error).message}`, { cause });
    }
  };
}
