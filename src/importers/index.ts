import type { Importer } from './types.js';
import { importOtelTraces } from './otel.js';
import { importOpenAITraces } from './openai.js';
import { importAnthropicTraces } from './anthropic.js';
import { importTauBenchTraces } from './tau-bench.js';
import { importTau2Traces } from './tau2.js';

/** The formats `shadowgate import <format>` reads, each with a one-line description. */
export const IMPORTERS: Record<string, { describe: string; importer: Importer }> = {
  otel: { describe: 'OTLP JSON spans (Collector file exporter or OTLP/HTTP JSON) with GenAI or OpenInference attributes', importer: importOtelTraces },
  openai: { describe: 'OpenAI Chat Completions message logs (messages with tool_calls, or request/response logs), JSON or JSON Lines', importer: importOpenAITraces },
  anthropic: { describe: 'Anthropic Messages logs (tool_use / tool_result blocks, or request/response logs), JSON or JSON Lines', importer: importAnthropicTraces },
  'tau-bench': { describe: 'tau-bench historical trajectories (<model>-<domain>.json): ground-truth actions as human.actions, trials, rewards', importer: importTauBenchTraces },
  tau2: { describe: 'tau2-bench results (what `tau2 run` saves): one trace per simulation, expected assistant actions as human.actions, the user simulator\'s tool calls in metadata', importer: importTau2Traces },
};
