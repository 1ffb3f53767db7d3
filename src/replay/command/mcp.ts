import { randomUUID } from 'node:crypto';
import { Writable, type Readable } from 'node:stream';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolRequestSchema, ErrorCode, ListToolsRequestSchema, isJSONRPCRequest, type CallToolResult, type JSONRPCMessage, type JSONRPCRequest, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { ShadowgateError, ToolCallError } from '../../errors.js';
import type { ToolCatalog } from '../../trace/catalog.js';
import type { JobHost } from '../pool/pool.js';

/** The MCP server's name and version, as `initialize` reports them. */
const SERVER_INFO = { name: 'shadowgate', version: '0.1.0' };

/** The catalog as MCP tools: name, description, and the tool's `parameters` schema (an empty object schema where it has none). */
export function mcpTools(catalog: ToolCatalog): Tool[] {
  return catalog.tools.map((tool) => ({
    name: tool.name,
    ...(tool.description ? { description: tool.description } : {}),
    inputSchema: { type: 'object', ...(tool.parameters ?? {}) } as Tool['inputSchema'],
  }));
}

/** Whose tool calls the sessions answer: the trace in flight on the agent's process, if any. */
export type McpOwner = () => { host: JobHost; traceId: string } | null;

/**
 * The MCP sessions of one trace, served over streamable HTTP: every session initialized
 * while the trace runs, or in the idle time before it (an agent that connects when it
 * starts), is that trace's, and its `tools/call`s go to the trace's host by the same mock
 * rules as `ctx.tools`. `close()` (the trace ended) ends them all; a request naming one
 * afterwards is refused (404, which tells an MCP client to initialize a new session). A
 * `tools/call` while no trace runs fails with an MCP error, reported to `stray`; the
 * lifecycle and `tools/list` need no trace, and are answered.
 */
export function createMcpSessions(tools: readonly Tool[], owner: McpOwner, stray: (tool: string) => void) {
  const sessions = new Map<string, WebStandardStreamableHTTPServerTransport>();
  let closed = false;

  function server(): McpServer {
    const mcp = new McpServer(SERVER_INFO, { capabilities: { tools: {} } });
    // The low-level handlers: the catalog's JSON Schemas are served as they are (McpServer's own tools want zod schemas).
    mcp.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [...tools] }));
    mcp.server.setRequestHandler(CallToolRequestSchema, (request) => {
      const { name } = request.params;
      const trace = owner();
      if (trace) return callTool(trace.host, name, request.params.arguments ?? {});
      stray(name);
      throw Object.assign(new Error(`no trace is running on this agent process: tools/call ${name} is recorded as a stray`), { code: ErrorCode.InternalError });
    });
    return mcp;
  }

  return {
    async handle(request: Request): Promise<Response> {
      // No stream for server-initiated messages (the server sends none): a client then opens none, and none
      // reconnects between traces.
      if (request.method === 'GET') return new Response(null, { status: 405, headers: { allow: 'POST, DELETE' } });
      const id = request.headers.get('mcp-session-id');
      if (id !== null) {
        const transport = closed ? undefined : sessions.get(id);
        if (!transport) return sessionGone(`MCP session ${id} has ended (a session lasts one trace): initialize a new one`);
        return transport.handleRequest(request);
      }
      const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        enableJsonResponse: true,
        onsessioninitialized: (sessionId) => void sessions.set(sessionId, transport),
        onsessionclosed: (sessionId) => void sessions.delete(sessionId),
      });
      const mcp = server();
      await mcp.connect(transport);
      const response = await transport.handleRequest(request);
      // Not an initialize request (the transport refused it): no session was opened.
      if (transport.sessionId === undefined) await mcp.close();
      return response;
    },
    /** Ends every session. */
    async close(): Promise<void> {
      closed = true;
      const open = [...sessions.values()];
      sessions.clear();
      await Promise.all(open.map((transport) => transport.close()));
    },
  };
}

/**
 * One `tools/call`: the mock's result as JSON text (and as `structuredContent` where it is an
 * object), a failed call (a schema violation, a policy refusal, a recorded failure) as a tool
 * error the agent sees, and a stop (off-trace, a budget) as an MCP error: the trace is over.
 */
async function callTool(host: JobHost, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  try {
    const result: unknown = (await host.callTool(name, args)) ?? null;
    const structured = typeof result === 'object' && result !== null && !Array.isArray(result);
    return { content: [{ type: 'text', text: JSON.stringify(result) }], ...(structured ? { structuredContent: result as Record<string, unknown> } : {}) };
  } catch (error) {
    if (error instanceof ToolCallError) {
      const recorded = error.recordedError;
      return { isError: true, content: [{ type: 'text', text: typeof recorded === 'string' ? recorded : JSON.stringify(recorded) }] };
    }
    // The SDK answers a handler's error with its `code` and `data` (an McpError would prefix its message twice).
    const code = error instanceof ShadowgateError ? error.code : 'SG_INTERNAL';
    throw Object.assign(new Error(error instanceof Error ? error.message : String(error)), { code: ErrorCode.InternalError, data: { code } });
  }
}

function sessionGone(message: string): Response {
  return Response.json({ jsonrpc: '2.0', error: { code: -32001, message }, id: null }, { status: 404 });
}

/**
 * `shadowgate mcp-stdio`: MCP on stdin/stdout for an agent that spawns its tool servers,
 * every message forwarded to the gateway's streamable HTTP endpoint at `url` and every
 * answer back. An MCP session lasts one trace, and such an agent initializes once: when the
 * gateway says the session is gone (404), the bridge opens a new one with the agent's own
 * `initialize` and sends the message again. A request the gateway refuses otherwise (no
 * trace bound) gets a JSON-RPC error, so that the agent's client does not wait forever.
 * Resolves when stdin ends.
 */
export async function bridgeStdio(url: URL, input: Readable, output: { write(text: string): unknown }): Promise<void> {
  const agent = new StdioServerTransport(
    input,
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        output.write(String(chunk));
        done();
      },
    }),
  );
  /** The agent's `initialize`, sent again to open the next trace's session. */
  let initialize: JSONRPCRequest | undefined;
  let gateway: StreamableHTTPClientTransport | undefined;

  async function open(replayInitialize: boolean): Promise<StreamableHTTPClientTransport> {
    await gateway?.close();
    const transport = new StreamableHTTPClientTransport(url);
    // A GET stream of an ended session fails: the next request finds out and opens a new session.
    transport.onerror = () => {};
    await transport.start();
    if (replayInitialize && initialize) {
      // Its answer is dropped: the agent has had one (JSON responses arrive before send() resolves).
      transport.onmessage = () => {};
      await transport.send({ ...initialize, id: 'shadowgate-bridge-initialize' });
      await transport.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    }
    transport.onmessage = (message) => void agent.send(message);
    gateway = transport;
    return transport;
  }

  async function forward(message: JSONRPCMessage): Promise<void> {
    const isInitialize = isJSONRPCRequest(message) && message.method === 'initialize';
    if (isInitialize) initialize = message;
    try {
      const transport = !gateway || (isInitialize && gateway.sessionId !== undefined) ? await open(false) : gateway;
      try {
        await transport.send(message);
      } catch (error) {
        if (!(error instanceof StreamableHTTPError && error.code === 404) || isInitialize || !initialize) throw error;
        await (await open(true)).send(message);
      }
    } catch (error) {
      if (isJSONRPCRequest(message)) {
        await agent.send({ jsonrpc: '2.0', id: message.id, error: { code: ErrorCode.ConnectionClosed, message: `shadowgate gateway: ${(error as Error).message}` } });
      }
    }
  }

  const ended = new Promise<void>((resolve) => {
    agent.onclose = resolve;
    input.once('end', resolve);
    input.once('close', resolve);
  });
  // Messages go out one after another, in the order the agent wrote them.
  let queue = Promise.resolve();
  agent.onmessage = (message) => {
    queue = queue.then(() => forward(message));
  };
  await agent.start();
  await ended;
  await queue;
  await gateway?.close();
  await agent.close();
}
