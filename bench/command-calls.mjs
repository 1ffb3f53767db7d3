#!/usr/bin/env node
// What one model call and one tool call cost through the gateway and MCP, apart (bench/command.mjs
// measures them together, per trace, against the module). Micro-benchmark with the library: a
// gateway listener on loopback (as under `sandbox: { network: trust-env }`; the namespace's relay
// adds one more local hop, which command.mjs's namespace rows include) is bound to the first
// bundled refund-triage trace's host, exactly as the agent pool binds it for a trace, and the
// official clients call through it, one call at a time:
//
//   model: N chat completions with the OpenAI SDK through the gateway (the SDK → the gateway →
//          the trace's sandbox handler → the provider transport → the server), against the same
//          N sent by the same SDK straight to the server. The difference is what the gateway and
//          the recording add to a call. (A module candidate's call crosses the pool's channel
//          instead, which this does not subtract: an upper bound against a module.)
//   tool:  N `tools/call` with the MCP SDK's client through the gateway's MCP server, against the
//          same N as the harness answers them itself (`host.callTool`, what answers a module's
//          ctx.tools call once it reaches the harness). The difference is MCP's JSON-RPC over
//          HTTP and the gateway's routing.
//
//   npm run build && node bench/command-calls.mjs [--calls 300] [--latency 0]
//
// The server is fixtures/refund-triage/fake-openai-server.mjs (the scripted stand-in model) in this
// process, answering after --latency ms. Figures are medians and 90th percentiles of the timed
// calls, after 30 untimed ones.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startFakeOpenAIServer } from '../fixtures/refund-triage/fake-openai-server.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const { loadToolCatalog } = await import(join(DIST, 'suite/load.js'));
const { TraceSchema } = await import(join(DIST, 'trace/schema.js'));
const { ReplaySession } = await import(join(DIST, 'replay/session.js'));
const { createMockToolbox } = await import(join(DIST, 'replay/mock-tools.js'));
const { createToolGuard } = await import(join(DIST, 'replay/guard.js'));
const { moduleRunner } = await import(join(DIST, 'replay/module-candidate.js'));
const { createGateway, gatewayEnv } = await import(join(DIST, 'replay/command/gateway.js'));

const option = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const CALLS = option('--calls', 300);
const WARMUP = 30;
const server = await startFakeOpenAIServer({ latencyMs: option('--latency', 0) });
const baseURL = `http://127.0.0.1:${server.port}/v1`;

const catalog = await loadToolCatalog(join(ROOT, 'fixtures/refund-triage/tools.yaml'));
const trace = TraceSchema.parse(JSON.parse(readFileSync(join(ROOT, 'traces/refund-triage/2026-w44.jsonl'), 'utf8').split('\n')[0]));
const recorded = trace.steps.find((s) => s.type === 'tool' && s.name === 'get_customer');
const messages = [{ role: 'user', content: JSON.stringify(trace.input) }];
const llm = { endpoints: [{ provider: 'openai', baseURL, fetch: (input, init) => fetch(input, init), apiKey: 'sk-bench-run-key' }], pricing: {} };

/** Times `n` sequential calls of `call` after the warm-up: milliseconds each. */
async function timed(call, n = CALLS) {
  for (let i = 0; i < WARMUP; i++) await call();
  const ms = [];
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await call();
    ms.push(performance.now() - started);
  }
  return ms.sort((a, b) => a - b);
}
const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

/** Runs `script` while a gateway listener is bound to the trace's host, as the pool does for an agent process's trace. */
async function withBoundListener(script) {
  const gateway = createGateway({ catalog, llm });
  const listener = await gateway.listen('tcp');
  const origin = listener.address.origin;
  let result;
  const executor = {
    async run(t, _input, host) {
      const unbind = listener.bind(host, t);
      try {
        result = await script(origin, host);
      } finally {
        unbind();
      }
      return { kind: 'done', value: { decision: null } };
    },
  };
  const session = new ReplaySession(trace, createMockToolbox(trace, catalog, { match: 'exact', ignoreArgs: [] }), {}, undefined, createToolGuard(catalog));
  const outcome = await moduleRunner(executor, catalog, 600_000, llm)(session, 0);
  await gateway.close();
  if (outcome.error) throw new Error(`the bench's trace ended with ${JSON.stringify(outcome.error)}`);
  return { result, steps: outcome.steps };
}

const direct = new OpenAI({ baseURL, apiKey: 'sk-bench-run-key', maxRetries: 0 });
const modelDirect = await timed(() => direct.chat.completions.create({ model: 'gpt-4.1-mini', messages }));
const { result: modelGateway, steps: modelSteps } = await withBoundListener(async (origin) => {
  const env = gatewayEnv(origin);
  const client = new OpenAI({ baseURL: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY, maxRetries: 0 });
  return timed(() => client.chat.completions.create({ model: 'gpt-4.1-mini', messages }));
});
const { result: tools, steps: toolSteps } = await withBoundListener(async (origin, host) => {
  const hostMs = await timed(() => host.callTool('get_customer', recorded.args));
  const mcp = new Client({ name: 'bench', version: '1.0.0' });
  await mcp.connect(new StreamableHTTPClientTransport(new URL(gatewayEnv(origin).SHADOWGATE_MCP_URL)));
  const mcpMs = await timed(() => mcp.callTool({ name: 'get_customer', arguments: recorded.args }));
  await mcp.close();
  return { hostMs, mcpMs };
});
await server.close();

// Checks: every call through the gateway was recorded as the trace's step.
const llmSteps = modelSteps.filter((s) => s.type === 'llm').length;
const toolStepCount = toolSteps.filter((s) => s.type === 'tool').length;
if (llmSteps !== WARMUP + CALLS || toolStepCount !== 2 * (WARMUP + CALLS)) {
  console.error(`check failed: ${llmSteps} model steps and ${toolStepCount} tool steps recorded, expected ${WARMUP + CALLS} and ${2 * (WARMUP + CALLS)}`);
  process.exitCode = 1;
}

const row = (label, sorted) => `| ${label} | ${quantile(sorted, 0.5).toFixed(3)} | ${quantile(sorted, 0.9).toFixed(3)} |`;
const added = (a, b) => (quantile(a, 0.5) - quantile(b, 0.5)).toFixed(3);
console.log(`${CALLS} timed calls each (after ${WARMUP}), Node ${process.version}, load average ${loadavg()[0].toFixed(2)}\n`);
console.log('| call | median ms | p90 ms |\n|---|---:|---:|');
console.log(row('model call, OpenAI SDK straight to the server', modelDirect));
console.log(row('model call, OpenAI SDK through the gateway', modelGateway));
console.log(row('tool call, answered by the harness itself (host.callTool)', tools.hostMs));
console.log(row('tool call, MCP client through the gateway', tools.mcpMs));
console.log(`\nadded per model call (median): ${added(modelGateway, modelDirect)} ms; added per tool call (median): ${added(tools.mcpMs, tools.hostMs)} ms`);
