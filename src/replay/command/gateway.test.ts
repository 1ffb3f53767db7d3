import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createFakeApis } from '../../../test/providers/fake-apis.js';
import { loadToolCatalog } from '../../suite/load.js';
import { TraceSchema, type Trace } from '../../trace/schema.js';
import type { ToolCatalog } from '../../trace/catalog.js';
import { createMockToolbox } from '../mock-tools.js';
import { moduleRunner, type LlmAccess, type ModuleExecutor } from '../module-candidate.js';
import { ReplaySession, type Budgets } from '../session.js';
import { createToolGuard } from '../guard.js';
import { createGateway, gatewayEnv, GATEWAY_KEY, type AgentListener, type Gateway } from './gateway.js';

// The gateway driven by the official clients (OpenAI, Anthropic, MCP), against the bundled
// example's catalog and its first recorded trace; the model APIs are emulated with msw in
// their real response shapes (test/providers/fake-apis.ts); an unhandled request fails the test.
// The agent's side is another process, where msw is not: its clients use the fetch of before
// msw patched it (`agentFetch`), so that only the gateway's own requests meet the fake APIs.

const ROOT = join(import.meta.dirname, '../../..');
const catalog: ToolCatalog = await loadToolCatalog(join(ROOT, 'fixtures/refund-triage/tools.yaml'));
const trace: Trace = TraceSchema.parse(JSON.parse(readFileSync(join(ROOT, 'traces/refund-triage/2026-w44.jsonl'), 'utf8').split('\n')[0]!));
const input = trace.input as { customer_id: string; order_id: string; amount: number };
/** The trace's recorded tool calls, by tool. */
const recorded = (name: string) => trace.steps.find((s) => s.type === 'tool' && s.name === name) as { args: Record<string, unknown>; result: unknown };

const agentFetch: typeof fetch = globalThis.fetch;
const apis = createFakeApis();
beforeAll(() => apis.server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => apis.reset());
afterAll(() => apis.server.close());

const RUN_KEYS = { openai: 'sk-run-openai-7f3a', anthropic: 'sk-ant-run-2b9c' };
// msw patches the global fetch when it listens: look it up at each call.
const viaGlobalFetch: typeof fetch = (input, init) => globalThis.fetch(input, init);
const llm: LlmAccess = {
  endpoints: [
    { provider: 'openai', baseURL: 'https://api.openai.com/v1', fetch: viaGlobalFetch, apiKey: RUN_KEYS.openai },
    { provider: 'anthropic', baseURL: 'https://api.anthropic.com', fetch: viaGlobalFetch, apiKey: RUN_KEYS.anthropic },
  ],
  pricing: {},
};

let gateway: Gateway;
afterEach(async () => gateway?.close());

/**
 * Replays the trace with a candidate whose "agent" is `script`, run while a listener of the
 * gateway is bound to the trace's host (as the command pool does for each agent process).
 */
async function replay<T>(script: (origin: string, listener: AgentListener) => Promise<T>, budgets: Budgets = {}) {
  gateway = createGateway({ catalog, llm });
  const listener = await gateway.listen('tcp');
  const origin = (listener.address as { origin: string }).origin;
  let agent: Promise<T> | undefined;
  const executor: ModuleExecutor = {
    async run(t, _input, host) {
      const unbind = listener.bind(host, t);
      agent = script(origin, listener).finally(unbind);
      await agent;
      return { kind: 'done', value: { decision: { action: 'escalate' } } };
    },
  };
  const session = new ReplaySession(trace, createMockToolbox(trace, catalog, { match: 'exact', ignoreArgs: [] }), budgets, undefined, createToolGuard(catalog));
  const outcome = await moduleRunner(executor, catalog, 20_000, llm)(session, 0);
  // A stop (off-trace) ends the trace at once: what the agent saw is complete when its script is.
  return { outcome, seen: await agent!, listener, origin };
}

const user = () => [{ role: 'user' as const, content: JSON.stringify(trace.input) }];

/** An MCP client at the URL the agent is given in SHADOWGATE_MCP_URL. */
async function mcpClient(origin: string): Promise<Client> {
  const client = new Client({ name: 'gateway-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gatewayEnv(origin).SHADOWGATE_MCP_URL!), { fetch: agentFetch }));
  return client;
}

/** A raw request line on a new connection, as a client sends it through HTTP_PROXY: the status line back. */
function rawRequest(origin: string, head: string): Promise<string> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(head));
    let text = '';
    socket.on('data', (chunk) => (text += String(chunk)));
    socket.on('end', () => resolve(text.split('\r\n')[0]!));
    socket.on('error', reject);
  });
}

describe('the model gateway', () => {
  it('serves OpenAI chat completions (plain and streamed) and the Responses API through the provider layer, recorded with usage, with the run key', async () => {
    const { outcome, seen } = await replay(async (origin) => {
      const env = gatewayEnv(origin);
      const openai = new OpenAI({ baseURL: env.OPENAI_BASE_URL, apiKey: env.OPENAI_API_KEY, maxRetries: 0, fetch: agentFetch });
      const plain = await openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: user() });
      const stream = await openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: user(), stream: true, stream_options: { include_usage: true } });
      const streamed: string[] = [];
      let contentType = '';
      for await (const chunk of stream) for (const call of chunk.choices[0]?.delta.tool_calls ?? []) if (call.function?.name) streamed.push(call.function.name);
      const raw = await openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: user(), stream: true, stream_options: { include_usage: true } }).asResponse();
      contentType = raw.headers.get('content-type') ?? '';
      await raw.text();
      const response = await openai.responses.create({ model: 'gpt-4.1-mini', input: JSON.stringify(trace.input) });
      return {
        plain: plain.choices[0]?.message.tool_calls?.map((c) => (c.type === 'function' ? c.function.name : c.type)),
        streamed,
        contentType,
        responses: response.output.map((o) => (o.type === 'function_call' ? o.name : o.type)),
      };
    });
    // The scripted model's first turn looks up the customer and the order, whatever the API.
    expect(seen).toEqual({ plain: ['get_customer', 'get_order'], streamed: ['get_customer', 'get_order'], contentType: expect.stringContaining('text/event-stream'), responses: ['get_customer', 'get_order'] });
    const models = outcome.steps.filter((s) => s.type === 'llm');
    expect(models).toHaveLength(4);
    for (const step of models) expect(step.usage?.inputTokens).toBeGreaterThan(0);
    expect(apis.seen.map((r) => r.url)).toEqual([
      'https://api.openai.com/v1/chat/completions',
      'https://api.openai.com/v1/chat/completions',
      'https://api.openai.com/v1/chat/completions',
      'https://api.openai.com/v1/responses',
    ]);
    // The run's key goes out, never the agent's dummy.
    for (const r of apis.seen) expect(r.headers.authorization).toBe(`Bearer ${RUN_KEYS.openai}`);
    expect(JSON.stringify(apis.seen)).not.toContain(GATEWAY_KEY);
    expect(outcome.violations).toBeUndefined();
  });

  it('serves Anthropic messages, plain and streamed, with the run key', async () => {
    const { outcome, seen } = await replay(async (origin) => {
      const env = gatewayEnv(origin);
      const anthropic = new Anthropic({ baseURL: env.ANTHROPIC_BASE_URL, apiKey: env.ANTHROPIC_API_KEY, maxRetries: 0, fetch: agentFetch });
      const message = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 512, messages: user() });
      const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 512, messages: user() });
      const final = await stream.finalMessage();
      const names = (m: Anthropic.Message) => m.content.map((b) => (b.type === 'tool_use' ? b.name : b.type));
      return { plain: names(message), streamed: names(final) };
    });
    expect(seen).toEqual({ plain: ['get_customer', 'get_order'], streamed: ['get_customer', 'get_order'] });
    const models = outcome.steps.filter((s) => s.type === 'llm');
    expect(models).toHaveLength(2);
    for (const step of models) expect(step.usage?.outputTokens).toBeGreaterThan(0);
    expect(apis.seen.map((r) => [r.url, r.headers['x-api-key']])).toEqual([
      ['https://api.anthropic.com/v1/messages', RUN_KEYS.anthropic],
      ['https://api.anthropic.com/v1/messages', RUN_KEYS.anthropic],
    ]);
  });

  it('answers a model call past a budget with 410, which the client does not retry: the trace is over', async () => {
    const { outcome, seen } = await replay(
      async (origin) => {
        const openai = new OpenAI({ baseURL: `${origin}/openai/v1`, apiKey: GATEWAY_KEY, fetch: agentFetch }); // the SDK's default retries
        await openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: user() });
        return openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: user() }).then(
          () => 'answered',
          (error: unknown) => (error as { status?: number }).status,
        );
      },
      { maxSteps: 1 },
    );
    expect(seen).toBe(410);
    expect(apis.seen).toHaveLength(1);
    expect(outcome.status).toBe('budget_exceeded');
  });

  it('refuses a model API path that is not inference (403), recorded as a blocked request', async () => {
    const { outcome, seen } = await replay(async (origin) => {
      const openai = new OpenAI({ baseURL: `${origin}/openai/v1`, apiKey: GATEWAY_KEY, maxRetries: 0, fetch: agentFetch });
      return openai.models.list().then(
        () => 'listed',
        (error: unknown) => (error as { status?: number }).status,
      );
    });
    expect(seen).toBe(403);
    expect(apis.seen).toEqual([]);
    expect(outcome.violations).toEqual([expect.objectContaining({ kind: 'blocked_request', request: { method: 'GET', url: 'https://api.openai.com/v1/models' } })]);
  });
});

describe('the MCP tool server', () => {
  it('lists the catalog, answers a recorded call, reports a schema violation as a tool error, and stops the trace on an off-trace call', async () => {
    const { outcome, seen } = await replay(async (origin) => {
      const client = await mcpClient(origin);
      const { tools } = await client.listTools();
      const customer = await client.callTool({ name: 'get_customer', arguments: recorded('get_customer').args });
      const invalid = await client.callTool({ name: 'get_order', arguments: { order_id: 2040008 } });
      const offTrace = await client.callTool({ name: 'get_order', arguments: { order_id: 'ORD-0000000' } }).then(
        () => null,
        (error: unknown) => (error as Error).message,
      );
      await client.close();
      return { tools, customer, invalid, offTrace };
    });
    expect(seen.tools.map((t) => t.name)).toEqual(catalog.tools.map((t) => t.name));
    const getOrder = catalog.tools.find((t) => t.name === 'get_order')!;
    expect(seen.tools.find((t) => t.name === 'get_order')).toEqual({ name: 'get_order', description: getOrder.description, inputSchema: getOrder.parameters });
    expect(seen.customer).toEqual({ content: [{ type: 'text', text: JSON.stringify(recorded('get_customer').result) }], structuredContent: recorded('get_customer').result });
    expect(seen.invalid.isError).toBe(true);
    expect(JSON.stringify(seen.invalid.content)).toContain('SCHEMA_VIOLATION');
    expect(seen.offTrace).toMatch(/off-trace call of get_order/);
    expect(outcome.status).toBe('diverged');
    expect(outcome.steps).toEqual([
      expect.objectContaining({ type: 'tool', name: 'get_customer', mock: 'recording' }),
      expect.objectContaining({ type: 'tool', name: 'get_order', error: expect.objectContaining({ code: 'SCHEMA_VIOLATION' }) }),
      expect.objectContaining({ type: 'tool', name: 'get_order', mock: 'off-trace' }),
    ]);
    expect(outcome.violations).toEqual([expect.objectContaining({ kind: 'schema_violation', tool: 'get_order' })]);
  });

  it('lets an agent connect before its first trace: the session is that trace\'s, and a tool call while none runs is a stray', async () => {
    gateway = createGateway({ catalog, llm });
    const listener = await gateway.listen('tcp');
    const origin = (listener.address as { origin: string }).origin;
    const early = await mcpClient(origin);
    expect((await early.listTools()).tools).toHaveLength(catalog.tools.length);
    await expect(early.callTool({ name: 'get_customer', arguments: recorded('get_customer').args })).rejects.toThrow(/no trace is running/);
    expect(gateway.runLevel()).toEqual([{ attempt: expect.objectContaining({ method: 'POST', target: 'http://gateway/mcp', why: expect.stringContaining('tools/call get_customer') }), startedBy: null }]);
    const executor: ModuleExecutor = {
      async run(t, _input, host) {
        const unbind = listener.bind(host, t);
        const answer = await early.callTool({ name: 'get_customer', arguments: recorded('get_customer').args });
        unbind();
        return { kind: 'done', value: { decision: answer.structuredContent } };
      },
    };
    const session = new ReplaySession(trace, createMockToolbox(trace, catalog, { match: 'exact', ignoreArgs: [] }), {}, undefined, createToolGuard(catalog));
    const outcome = await moduleRunner(executor, catalog, 20_000, llm)(session, 0);
    expect(outcome.decision).toEqual(recorded('get_customer').result);
    expect(outcome.steps).toEqual([expect.objectContaining({ type: 'tool', name: 'get_customer', mock: 'recording' })]);
    await early.close();
  });

  it('ends the trace\'s MCP sessions when it ends: a later request on one is refused', async () => {
    let client: Client | undefined;
    const { listener, origin } = await replay(async (o) => {
      client = await mcpClient(o);
      return (await client.listTools()).tools.length;
    });
    // Another trace on the same process: the old session is not its.
    const unbind = listener.bind({ callTool: async () => ({}), replayTool: () => 'result', request: async () => new Response(), attempt: () => {} }, { id: 'next' });
    await expect(client!.listTools()).rejects.toThrow(/404|has ended/);
    const fresh = await mcpClient(origin);
    expect((await fresh.listTools()).tools).toHaveLength(catalog.tools.length);
    unbind();
    await fresh.close().catch(() => {});
  });
});

describe('catalog routes and everything else', () => {
  it('answers a catalog http route under /tools/<host>/ from the recording', async () => {
    const { outcome, seen } = await replay(async (origin) => {
      const response = await agentFetch(`${gatewayEnv(origin).SHADOWGATE_TOOLS_URL}/orders.internal/api/orders/${input.order_id}`);
      return { status: response.status, body: await response.json() };
    });
    expect(seen).toEqual({ status: 200, body: recorded('get_order').result });
    expect(outcome.steps).toEqual([expect.objectContaining({ type: 'tool', name: 'get_order', args: { order_id: input.order_id }, mock: 'recording' })]);
  });

  it('refuses and records a proxy-form request (403), a CONNECT (403), an unknown path and a host with no catalog route (404)', async () => {
    const { outcome, seen } = await replay(async (origin) => ({
      proxied: await rawRequest(origin, 'GET http://example.com/x HTTP/1.1\r\nhost: example.com\r\nconnection: close\r\n\r\n'),
      connect: await rawRequest(origin, 'CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n'),
      unknown: (await agentFetch(`${origin}/v1/chat/completions`, { method: 'POST', body: '{}' })).status,
      noRoute: (await agentFetch(`${origin}/tools/nowhere.internal/x%zz`)).status,
    }));
    expect(seen).toEqual({ proxied: 'HTTP/1.1 403 Forbidden', connect: 'HTTP/1.1 403 Forbidden', unknown: 404, noRoute: 404 });
    expect(outcome.violations?.map((v) => v.kind === 'blocked_request' && v.request)).toEqual([
      { method: 'GET', url: 'http://example.com/x' },
      { method: 'CONNECT', url: 'example.com:443' },
      { method: 'POST', url: 'http://gateway/v1/chat/completions' },
      { method: 'GET', url: 'http://gateway/tools/nowhere.internal/x%zz' },
    ]);
    expect(apis.seen).toEqual([]);
  });

  it('answers a proxy-form request to a catalog http route from the recording', async () => {
    const plain = { tools: catalog.tools.map((t) => (t.name === 'get_order' ? { ...t, http: { method: 'GET' as const, url: 'http://orders.internal/api/orders/:order_id' } } : t)) };
    gateway = createGateway({ catalog: plain, llm });
    const listener = await gateway.listen('tcp');
    const origin = (listener.address as { origin: string }).origin;
    const executor: ModuleExecutor = {
      async run(t, _input, host) {
        const unbind = listener.bind(host, t);
        const status = await rawRequest(origin, `GET http://orders.internal/api/orders/${input.order_id} HTTP/1.1\r\nhost: orders.internal\r\nconnection: close\r\n\r\n`);
        unbind();
        return { kind: 'done', value: { decision: status } };
      },
    };
    const session = new ReplaySession(trace, createMockToolbox(trace, plain, { match: 'exact', ignoreArgs: [] }), {});
    const outcome = await moduleRunner(executor, plain, 20_000, llm)(session, 0);
    expect(outcome.decision).toBe('HTTP/1.1 200 OK');
    expect(outcome.steps).toEqual([expect.objectContaining({ type: 'tool', name: 'get_order', mock: 'recording' })]);
  });

  it('records a request on a listener with no trace bound as a run-level stray of the last trace (503)', async () => {
    const { origin } = await replay(async () => null);
    const response = await agentFetch(`${origin}/openai/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(response.status).toBe(503);
    expect(gateway.runLevel()).toEqual([{ attempt: expect.objectContaining({ kind: 'blocked', method: 'POST', target: 'http://gateway/openai/v1/chat/completions' }), startedBy: trace.id }]);
    expect(apis.seen).toEqual([]);
  });

  it('listens on a Unix socket in a folder of its own', async () => {
    gateway = createGateway({ catalog, llm });
    const listener = await gateway.listen('unix');
    const { socket } = listener.address as { socket: string };
    const status = await new Promise<number | undefined>((resolve, reject) => {
      httpRequest({ socketPath: socket, path: '/anthropic/v1/messages', method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode);
      })
        .on('error', reject)
        .end('{}');
    });
    expect(status).toBe(503);
    expect(gateway.runLevel()).toEqual([{ attempt: expect.objectContaining({ method: 'POST', target: 'http://gateway/anthropic/v1/messages' }), startedBy: null }]);
  });
});
