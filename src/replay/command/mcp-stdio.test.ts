import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { aCatalog } from '../../testing/builders.js';
import type { JobHost } from '../pool/pool.js';
import { createGateway, gatewayEnv, type Gateway } from './gateway.js';

// `shadowgate mcp-stdio` (the built CLI, so `npm run build` first) spawned by the official MCP
// client as an agent spawns its tool servers, forwarding to a gateway listener in this process.

const BIN = join(import.meta.dirname, '../../../bin/shadowgate.js');
const catalog = aCatalog({
  get_order: { effect: 'read', description: 'Look up an order.', parameters: { type: 'object', properties: { order_id: { type: 'string' } }, required: ['order_id'] } },
});

/** A trace's host that answers every get_order call with the trace's name (and the order's id, with a non-ASCII name). */
function hostOf(trace: string, calls: string[]): JobHost {
  return {
    callTool: async (name, args) => {
      calls.push(`${trace}:${name}`);
      return { trace, order_id: args.order_id, note: 'déjà vu ✓' };
    },
    replayTool: () => 'result',
    request: async () => new Response(null, { status: 404 }),
    attempt: () => {},
  };
}

let gateway: Gateway | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.close();
  await gateway?.close();
});

describe('shadowgate mcp-stdio', () => {
  it("serves the catalog's tools over stdio, answered by the trace bound to the agent's listener, across traces", async () => {
    gateway = createGateway({ catalog, llm: { endpoints: [], pricing: {} } });
    const listener = await gateway.listen('tcp');
    const origin = (listener.address as { origin: string }).origin;
    const calls: string[] = [];
    // The agent starts its tool server before any trace runs.
    client = new Client({ name: 'stdio-agent', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp-stdio'], env: { PATH: process.env.PATH ?? '', ...gatewayEnv(origin) }, stderr: 'pipe' }));
    expect((await client.listTools()).tools).toEqual([{ name: 'get_order', description: 'Look up an order.', inputSchema: catalog.tools[0]!.parameters }]);

    let unbind = listener.bind(hostOf('first', calls), { id: 'first' });
    const first = await client.callTool({ name: 'get_order', arguments: { order_id: 'A1' } });
    expect(first.structuredContent).toEqual({ trace: 'first', order_id: 'A1', note: 'déjà vu ✓' });

    // The next trace on the same agent process: the bridge opens a new MCP session for it, unseen by the agent.
    unbind();
    unbind = listener.bind(hostOf('second', calls), { id: 'second' });
    const second = await client.callTool({ name: 'get_order', arguments: { order_id: 'B2' } });
    expect(second.structuredContent).toEqual({ trace: 'second', order_id: 'B2', note: 'déjà vu ✓' });
    expect(calls).toEqual(['first:get_order', 'second:get_order']);

    // No trace bound: the gateway refuses the call and records a stray; the agent's call fails rather than hangs.
    unbind();
    await expect(client.callTool({ name: 'get_order', arguments: { order_id: 'C3' } })).rejects.toThrow(/no trace is running/);
    expect(gateway.runLevel().map((s) => [s.attempt.why, s.startedBy])).toEqual([[expect.stringContaining('tools/call get_order'), 'second']]);
    expect(calls).toHaveLength(2);
  });
});
