import { readFile } from 'node:fs/promises';
import Handlebars from 'handlebars';
import { ConfigError, ReplayStop, ShadowgateError } from '../errors.js';
import { costOf, priceOf, type Price } from '../providers/pricing.js';
import type { ChatMessage, ModelParams, ModelProvider, ModelResponse, ToolSpec } from '../providers/types.js';
import type { ToolCatalog } from '../trace/catalog.js';
import type { LlmStep, Trace } from '../trace/schema.js';
import { createDecisionValidator } from './decision.js';
import type { ReplaySession } from './session.js';
import { supervise, type CandidateEnd, type CandidateRunner } from './supervise.js';
import type { CandidateStep } from './types.js';

export const FINAL_DECISION_TOOL = 'final_decision';

export interface ToolLoopOptions {
  provider: ModelProvider;
  /** Model name without the provider prefix. */
  model: string;
  catalog: ToolCatalog;
  decisionSchema?: Record<string, unknown>;
  params?: ModelParams;
  /** Renders the system prompt for one trace; absent when the candidate has no prompt. */
  renderPrompt?: (trace: Trace) => string;
  promptVersion?: string;
  pricing: Record<string, Price>;
  maxWallMs?: number;
}

/**
 * A tool-calling loop run by the harness: the model answers, its tool calls go
 * through the mocks, their results go back, until it calls `final_decision`
 * (whose arguments are the decision) or answers without tool calls (its text,
 * JSON when there is a decision schema, is the decision).
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
  const validateDecision = createDecisionValidator(options.decisionSchema);

  return (session, trial) =>
    supervise(session, options.maxWallMs, async (signal) => {
      const { trace } = session;
      const messages: ChatMessage[] = [];
      if (options.renderPrompt) messages.push({ role: 'system', content: options.renderPrompt(trace) });
      messages.push({ role: 'user', content: typeof trace.input === 'string' ? trace.input : JSON.stringify(trace.input) });
      for (let callIndex = 0; ; callIndex++) {
        session.beforeModelCall();
        const started = performance.now();
        const response = await options.provider.complete(
          { model: options.model, messages, tools, params: options.params, trial },
          { trace, callIndex, signal },
        );
        session.modelWaitMs += performance.now() - started;
        recordResponse(session, response, options.pricing, options.promptVersion);
        messages.push({ role: 'assistant', content: response.text, toolCalls: response.toolCalls.map(({ id, name, args }) => ({ id, name, args })) });

        const final = response.toolCalls.find((c) => c.name === FINAL_DECISION_TOOL);
        for (const call of response.toolCalls) {
          if (call === final) continue;
          let content: string;
          if (call.invalidArguments !== undefined) {
            // Recorded as a failed step and told to the model, which may try again.
            session.recordInvalidToolCall(call.name, call.invalidArguments);
            content = JSON.stringify({ error: 'arguments are not a valid JSON object' });
          } else {
            content = await session.callTool(call.name, call.args).then(
              (result) => JSON.stringify(result ?? null),
              (error: unknown) => {
                if (error instanceof ReplayStop) throw error;
                return JSON.stringify({ error: (error as Error).message });
              },
            );
          }
          messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content });
        }
        if (final) {
          if (final.invalidArguments !== undefined) return invalid(final.invalidArguments, 'final_decision arguments are not a JSON object');
          return decide(final.args, undefined, validateDecision);
        }
        if (response.toolCalls.length === 0) {
          if (!options.decisionSchema) return { status: 'completed', decision: response.text, output: response.text };
          let parsed: unknown;
          try {
            parsed = JSON.parse(response.text ?? '');
          } catch {
            return invalid(response.text, 'the answer is neither a final_decision call nor JSON');
          }
          return decide(parsed, response.text, validateDecision);
        }
      }
    });
}

function decide(decision: unknown, output: unknown, validate: (d: unknown) => string | null): CandidateEnd {
  const problem = validate(decision);
  if (problem) return invalid(decision, `the decision does not match decisionSchema: ${problem}`);
  return { status: 'completed', decision, ...(output !== undefined ? { output } : {}) };
}

function invalid(decision: unknown, message: string): CandidateEnd {
  return { status: 'invalid_output', decision, error: { code: 'INVALID_OUTPUT', message } };
}

/** Records one model answer as a step, priced, and charged against the budgets. */
export function recordResponse(session: ReplaySession, response: ModelResponse, pricing: Record<string, Price>, promptVersion?: string): void {
  const step: CandidateStep & LlmStep = {
    type: 'llm',
    model: response.model,
    ...(promptVersion ? { promptVersion } : {}),
    output: {
      ...(response.text !== undefined ? { text: response.text } : {}),
      toolCalls: response.toolCalls.map(({ id, name, args }) => ({ id, name, args })),
    },
    ...(response.usage ? { usage: response.usage } : {}),
    ...(response.latencyMs !== undefined ? { latencyMs: response.latencyMs } : {}),
    ...(response.servedFrom ? { servedFrom: response.servedFrom } : {}),
  };
  const cost = stepCost(step, response.costUsd, pricing);
  if (cost !== null) step.costUsd = cost;
  session.recordModelStep(step, cost);
}

/** The cost of one model step: the provider's own figure, else its usage priced; null when unknown. */
export function stepCost(step: LlmStep, reported: number | undefined, pricing: Record<string, Price>): number | null {
  if (reported !== undefined) return reported;
  if (!step.usage) return null;
  const price = priceOf(step.model, pricing);
  return price ? costOf(step.usage, price) : null;
}

/** Compiles a Handlebars prompt template in strict mode: a missing variable is an error naming it and the template. */
export async function loadPromptTemplate(file: string): Promise<(trace: Trace) => string> {
  const source = await readFile(file, 'utf8');
  try {
    Handlebars.parse(source); // compile() parses lazily, on first render; a syntax error is the template's, not a trace's
  } catch (error) {
    throw new ConfigError([{ file, message: `invalid Handlebars template: ${(error as Error).message.split('\n')[0]}` }]);
  }
  const template = Handlebars.compile(source, { strict: true, noEscape: true });
  return (trace) => {
    try {
      return template({ input: trace.input, workflow: trace.workflow });
    } catch (cause) {
      throw new ShadowgateError('SG_INPUT_INVALID', `prompt template ${file}: ${(cause as Error).message}`, { cause });
    }
  };
}
