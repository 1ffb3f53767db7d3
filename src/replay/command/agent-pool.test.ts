import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../errors.js';
import type { ModuleExecutor } from '../module-candidate.js';
import type { JobEnd, JobHost, RunLevelAttempt } from '../pool/pool.js';
import { createCommandPool, type AgentListener, type CommandGateway, type CommandPool, type CommandPoolOptions } from './agent-pool.js';
import { GATEWAY_KEY, gatewayEnv } from './gateway.js';
import { networkLoosening, probeNamespace, requireNamespace, type CommandNetwork } from './sandbox.js';

/*
 * The agents below are written for these tests; the gateway is a stand-in for gateway.ts's server (an
 * HTTP server per listener that records each request with the trace bound to the listener, and
 * answers with that trace's id), so that what the pool does is checked on its own.
 */

/** A made-up key, put in the harness's own environment: no agent may see it. */
const HARNESS_KEY = 'sk-test-harness-0000000000000000';


interface Seen {
  listener: number;
  trace: string | null;
  method: string;
  url: string;
  authorization: string | undefined;
}

function standInGateway() {
  const seen: Seen[] = [];
  const servers: Server[] = [];
  const folders: string[] = [];
  const gateway: CommandGateway & { seen: Seen[]; close(): Promise<void> } = {
    seen,
    async listen(kind): Promise<AgentListener> {
      const index = servers.length;
      let bound: string | null = null;
      const server = createHttpServer((req: IncomingMessage, res) => {
        req.resume();
        req.on('end', () => {
          // A client that honours the proxy variables sends the absolute URL (as to the real gateway): one to this loopback
          // server is recorded by its path, as the gateway routes it; one to anywhere else as it came.
          const absolute = /^https?:\/\//.test(req.url ?? '') ? new URL(req.url!) : undefined;
          const url = absolute && ['127.0.0.1', 'localhost'].includes(absolute.hostname) ? `${absolute.pathname}${absolute.search}` : (req.url ?? '');
          seen.push({ listener: index, trace: bound, method: req.method ?? '', url, authorization: req.headers.authorization });
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ trace: bound, listener: index }));
        });
      });
      servers.push(server);
      let address: AgentListener['address'];
      if (kind === 'unix') {
        const folder = mkdtempSync(join(tmpdir(), 'gateway-test-'));
        chmodSync(folder, 0o700);
        folders.push(folder);
        const socket = join(folder, 'gateway.sock');
        await new Promise<void>((resolve) => server.listen(socket, resolve));
        address = { socket };
      } else {
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        address = { origin: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
      }
      return {
        address,
        bind(_host: JobHost, trace: { id: string }) {
          bound = trace.id;
          return () => (bound = null);
        },
        close: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    },
    runLevel(): RunLevelAttempt[] {
      return seen.filter((s) => s.trace === null).map((s) => ({ attempt: { kind: 'blocked', method: s.method, target: s.url, why: 'no trace bound' }, startedBy: null }));
    },
    async close() {
      for (const server of servers) server.closeAllConnections();
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      for (const folder of folders) rmSync(folder, { recursive: true, force: true });
    },
  };
  return gateway;
}

const host: JobHost = {
  callTool: () => Promise.reject(new Error('not used: the stand-in gateway answers by itself')),
  replayTool: () => {
    throw new Error('not used');
  },
  request: () => Promise.reject(new Error('not used')),
  attempt: () => {},
};

/** What every test agent does with a trace, by `input.mode`; written once, served over jsonl or http. */
const HANDLE = `
import { connect } from 'node:net';
import { readdirSync, writeFileSync } from 'node:fs';
const me = Math.random().toString(36).slice(2);
function tryConnect(host, port) {
  return new Promise((resolve) => {
    const s = port === undefined ? connect(host) : connect(port, host);
    const timer = setTimeout(() => (s.destroy(), resolve({ ok: false, error: 'timeout' })), 2000);
    s.once('connect', () => (clearTimeout(timer), s.destroy(), resolve({ ok: true })));
    s.once('error', (e) => (clearTimeout(timer), resolve({ ok: false, error: e.code })));
  });
}
function tryWrite(path) {
  try { writeFileSync(path, 'x'); return { ok: true }; } catch (e) { return { ok: false, error: e.code }; }
}
export async function handle({ traceId, input }) {
  switch (input.mode) {
    case 'echo': return { decision: { n: input.n }, output: { me } };
    case 'sleep': await new Promise((r) => setTimeout(r, input.ms)); return { decision: { n: input.n }, output: { me } };
    case 'gateway': {
      const r = await fetch(process.env.OPENAI_BASE_URL + '/chat/completions', { method: 'POST', body: '{}', headers: { authorization: 'Bearer ' + process.env.OPENAI_API_KEY } });
      return { decision: await r.json(), output: { me } };
    }
    case 'malformed': return 'malformed';
    case 'no-decision': return { output: { me } };
    case 'other-trace': return { traceId: 'not-' + traceId, decision: 1 };
    case 'exit': process.stderr.write('agent gave up on ' + traceId + '\\n'); process.exit(3);
    case 'hang': setInterval(() => writeFileSync(process.env.HOME + '/beat', String(Date.now())), 20); return new Promise(() => {});
    case 'connect': return { decision: await tryConnect(input.host, input.port) };
    case 'list': return { decision: readdirSync(input.path) };
    case 'write': return { decision: { outside: tryWrite(input.path), scratch: tryWrite(process.env.HOME + '/note'), tmp: tryWrite('/tmp/note') } };
    case 'env': return { decision: process.env };
  }
}
`;

const JSONL_AGENT = `
import { createInterface } from 'node:readline';
import { handle } from './handle.mjs';
createInterface({ input: process.stdin }).on('line', async (line) => {
  const message = JSON.parse(line);
  const out = await handle(message);
  process.stdout.write(out === 'malformed' ? 'this is not json\\n' : JSON.stringify({ traceId: message.traceId, ...out }) + '\\n');
});
`;

const HTTP_AGENT = `
import { createServer } from 'node:http';
import { handle } from './handle.mjs';
createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', async () => {
    const message = JSON.parse(body);
    const out = await handle(message);
    res.end(out === 'malformed' ? 'this is not json' : JSON.stringify({ traceId: message.traceId, ...out }));
  });
}).listen(Number(process.env.SHADOWGATE_AGENT_PORT), '127.0.0.1');
`;

/** A Python agent on the standard library alone: one model call through the gateway per trace. */
const PYTHON_AGENT = `
import json, os, sys, urllib.request
for line in sys.stdin:
    message = json.loads(line)
    request = urllib.request.Request(os.environ["OPENAI_BASE_URL"] + "/chat/completions", data=b"{}", method="POST",
                                      headers={"authorization": "Bearer " + os.environ["OPENAI_API_KEY"], "content-type": "application/json"})
    with urllib.request.urlopen(request) as response:
        answer = json.load(response)
    print(json.dumps({"traceId": message["traceId"], "decision": answer, "output": {"python": sys.version_info[0]}}), flush=True)
`;

let agentDir: string;
beforeAll(() => {
  agentDir = mkdtempSync(join(tmpdir(), 'command-agents-'));
  writeFileSync(join(agentDir, 'handle.mjs'), HANDLE);
  writeFileSync(join(agentDir, 'jsonl.mjs'), JSONL_AGENT);
  writeFileSync(join(agentDir, 'http.mjs'), HTTP_AGENT);
  writeFileSync(join(agentDir, 'agent.py'), PYTHON_AGENT);
  // Says hello on stdout before any trace: a line outside any trace.
  writeFileSync(join(agentDir, 'banner.mjs'), "process.stdout.write('agent starting\\n');\nawait import('./jsonl.mjs');\n");
  // Never listens on its port.
  writeFileSync(join(agentDir, 'deaf.mjs'), 'setInterval(() => {}, 1000);\n');
  process.env.OPENAI_API_KEY = HARNESS_KEY;
  process.env.SHADOWGATE_TEST_SECRET = HARNESS_KEY;
});
afterAll(() => {
  rmSync(agentDir, { recursive: true, force: true });
  delete process.env.SHADOWGATE_TEST_SECRET;
});

/** Namespace tests need Bubblewrap: where it is missing they fail, saying so, rather than skip. */
function needNamespace(network: CommandNetwork): void {
  if (network !== 'namespace') return;
  const probe = probeNamespace();
  if (!probe.ok) throw new Error(`this test runs the agent in a network namespace and none can be made here: ${probe.why}. Install the bubblewrap package (and allow unprivileged user namespaces).`);
}

async function withPool(
  options: Partial<CommandPoolOptions> & Pick<CommandPoolOptions, 'network' | 'protocol'>,
  body: (pool: CommandPool, gateway: ReturnType<typeof standInGateway>) => Promise<void>,
): Promise<void> {
  needNamespace(options.network);
  const gateway = standInGateway();
  const pool = createCommandPool({
    command: ['node', join(agentDir, options.protocol === 'jsonl' ? 'jsonl.mjs' : 'http.mjs')],
    cwd: agentDir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
    workers: 1,
    gateway,
    gatewayEnv,
    startTimeoutMs: 10_000,
    graceMs: 200,
    ...options,
  });
  try {
    await body(pool, gateway);
  } finally {
    await pool.close();
    await gateway.close();
  }
}

/** The pool is what moduleRunner runs a command candidate through (checked by the type-checker). */
export const poolIsAnExecutor: (pool: CommandPool) => ModuleExecutor = (pool) => pool;

let traceNo = 0;
function run(pool: CommandPool, input: Record<string, unknown>, signal = new AbortController().signal): Promise<JobEnd> {
  const id = `t${++traceNo}`;
  return pool.run({ id, caseId: id, workflow: 'refund', trial: 0 }, input, host, signal);
}

function value(end: JobEnd): Record<string, unknown> {
  if (end.kind !== 'done') throw new Error(`expected an answer, got ${JSON.stringify(end)}`);
  return end.value as Record<string, unknown>;
}

const cases: [CommandNetwork, 'jsonl' | 'http'][] = [
  ['namespace', 'jsonl'],
  ['namespace', 'http'],
  ['trust-env', 'jsonl'],
  ['trust-env', 'http'],
];

describe.each(cases)('command pool (%s, %s)', (network, protocol) => {
  it('answers each trace, its gateway requests attributed to it, in order under two workers', async () => {
    await withPool({ network, protocol, workers: 2 }, async (pool, gateway) => {
      await pool.start();
      const ends = await Promise.all([0, 1, 2, 3].map((n) => run(pool, { mode: 'gateway', n })));
      const ids = ends.map((end) => (value(end).decision as { trace: string }).trace);
      // Each answer is its own trace's (the stand-in gateway answers with the trace bound to the listener).
      expect(ids).toEqual(ids.map((_, i) => `t${traceNo - 3 + i}`));
      expect(gateway.seen.map((s) => s.trace).sort()).toEqual([...ids].sort());
      expect(gateway.seen.every((s) => s.url === '/openai/v1/chat/completions' && s.authorization === `Bearer ${GATEWAY_KEY}`)).toBe(true);
      // Two processes, each with its own listener.
      expect(new Set(ends.map((end) => (value(end).output as { me: string }).me)).size).toBe(2);
      expect(new Set(gateway.seen.map((s) => s.listener)).size).toBe(2);
      // Traces that end out of order come back to their own callers.
      const sleeps = await Promise.all([300, 0, 200, 0].map((ms, n) => run(pool, { mode: 'sleep', ms, n })));
      expect(sleeps.map((end) => (value(end).decision as { n: number }).n)).toEqual([0, 1, 2, 3]);
      expect(pool.runLevel()).toEqual([]);
    });
  });

  it('a malformed answer is a located error on its trace, and a fresh process takes the next', async () => {
    await withPool({ network, protocol }, async (pool) => {
      const first = value(await run(pool, { mode: 'echo', n: 1 }));
      const bad = await run(pool, { mode: 'malformed' });
      expect(bad).toEqual({ kind: 'threw', error: { code: 'CANDIDATE_OUTPUT_INVALID', message: protocol === 'jsonl' ? 'stdout line 2: not JSON: "this is not json"' : 'HTTP status 200: not JSON: "this is not json"' } });
      const next = value(await run(pool, { mode: 'echo', n: 2 }));
      expect(next.decision).toEqual({ n: 2 });
      expect((next.output as { me: string }).me).not.toBe((first.output as { me: string }).me);
      const noDecision = await run(pool, { mode: 'no-decision' });
      expect(noDecision.kind === 'threw' && noDecision.error.message).toBe(`${protocol === 'jsonl' ? 'stdout line 2' : 'HTTP status 200'}: no "decision" key`);
      const other = await run(pool, { mode: 'other-trace' });
      expect(other.kind === 'threw' && other.error.message).toMatch(/traceId "not-t\d+" is not the trace in flight \(t\d+\)$/);
    });
  });

  it('a process that exits mid-trace ends it CANDIDATE_CRASHED with its stderr, and the next trace runs on a fresh one', async () => {
    await withPool({ network, protocol }, async (pool) => {
      const first = value(await run(pool, { mode: 'echo', n: 1 }));
      const crashed = await run(pool, { mode: 'exit' });
      expect(crashed.kind).toBe('crashed');
      const error = crashed.kind === 'crashed' ? crashed.error : null;
      expect(error?.code).toBe('CANDIDATE_CRASHED');
      expect(error?.message).toContain('exit code 3');
      expect(error?.message).toContain(`agent gave up on t${traceNo}`);
      const next = value(await run(pool, { mode: 'echo', n: 2 }));
      expect((next.output as { me: string }).me).not.toBe((first.output as { me: string }).me);
    });
  });

  it('an agent that hangs is killed when its trace is aborted', async () => {
    await withPool({ network, protocol }, async (pool) => {
      const controller = new AbortController();
      const hung = run(pool, { mode: 'hang' }, controller.signal);
      const beat = join(pool.scratchDir, 'beat');
      await until(() => exists(beat));
      controller.abort(new Error('maxWallMs'));
      const end = await hung;
      expect(end.kind).toBe('crashed');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = readFileSync(beat, 'utf8');
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The agent wrote every 20 ms while alive.
      expect(readFileSync(beat, 'utf8')).toBe(before);
      expect(value(await run(pool, { mode: 'echo', n: 1 })).decision).toEqual({ n: 1 });
    });
  });

  it('the agent sees only the environment it is given: the dummy key, never the harness\'s', async () => {
    await withPool({ network, protocol }, async (pool) => {
      const env = value(await run(pool, { mode: 'env' })).decision as Record<string, string>;
      expect(process.env.OPENAI_API_KEY).toBe(HARNESS_KEY);
      expect(env.OPENAI_API_KEY).toBe(GATEWAY_KEY);
      expect(env.SHADOWGATE_TEST_SECRET).toBeUndefined();
      expect(Object.values(env)).not.toContain(HARNESS_KEY);
      expect(env.HOME).toBe(pool.scratchDir);
      expect(env.LANG).toBe('C.UTF-8');
      expect(env.OPENAI_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/openai\/v1$/);
      if (protocol === 'http') expect(env.SHADOWGATE_AGENT_PORT).toMatch(/^\d+$/);
    });
  });
});

describe('the network namespace', () => {
  let hostServer: TcpServer;
  let hostPort: number;
  beforeAll(async () => {
    hostServer = createTcpServer((socket) => socket.end());
    await new Promise<void>((resolve) => hostServer.listen(0, '127.0.0.1', resolve));
    hostPort = (hostServer.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => hostServer.close(() => resolve())));

  it("hides the host's Unix sockets in /tmp and /run (a read-only mount does not stop a connect)", async () => {
    // /tmp itself, whatever TMPDIR says: the folder the namespace replaces with its own.
    const folder = mkdtempSync('/tmp/host-socket-');
    const socket = join(folder, 'host.sock');
    const server = createTcpServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      await withPool({ network: 'trust-env', protocol: 'jsonl' }, async (pool) => {
        expect(value(await run(pool, { mode: 'connect', host: socket })).decision).toEqual({ ok: true });
      });
      await withPool({ network: 'namespace', protocol: 'jsonl' }, async (pool) => {
        expect(value(await run(pool, { mode: 'connect', host: socket })).decision).toEqual({ ok: false, error: 'ENOENT' });
        expect(value(await run(pool, { mode: 'list', path: '/run' })).decision).toEqual([]);
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('reaches nothing but the gateway: not the internet, not a server on the host\'s loopback', async () => {
    await withPool({ network: 'namespace', protocol: 'jsonl' }, async (pool) => {
      const internet = value(await run(pool, { mode: 'connect', host: '1.1.1.1', port: 80 })).decision as { ok: boolean; error: string };
      expect(internet.ok).toBe(false);
      expect(internet.error).toBe('ENETUNREACH');
      const loopback = value(await run(pool, { mode: 'connect', host: '127.0.0.1', port: hostPort })).decision as { ok: boolean; error: string };
      expect(loopback).toEqual({ ok: false, error: 'ECONNREFUSED' });
    });
  });

  it('without a namespace (trust-env) the same server is reachable: what the namespace takes away', async () => {
    await withPool({ network: 'trust-env', protocol: 'jsonl' }, async (pool) => {
      expect(value(await run(pool, { mode: 'connect', host: '127.0.0.1', port: hostPort })).decision).toEqual({ ok: true });
    });
  });

  it('refuses writes outside the scratch folder (and a private /tmp)', async () => {
    await withPool({ network: 'namespace', protocol: 'jsonl' }, async (pool) => {
      const outside = join(agentDir, 'written-by-agent');
      const writes = value(await run(pool, { mode: 'write', path: outside })).decision as Record<string, { ok: boolean; error?: string }>;
      expect(writes.outside).toEqual({ ok: false, error: 'EROFS' });
      expect(exists(outside)).toBe(false);
      expect(writes.scratch).toEqual({ ok: true });
      expect(readFileSync(join(pool.scratchDir, 'note'), 'utf8')).toBe('x');
      expect(writes.tmp).toEqual({ ok: true });
      expect(exists('/tmp/note') && readFileSync('/tmp/note', 'utf8') === 'x').toBe(false);
    });
  });

  it('runs a Python agent on the standard library, its model call through the relay', async () => {
    await withPool({ network: 'namespace', protocol: 'jsonl', command: ['python3', join(agentDir, 'agent.py')] }, async (pool, gateway) => {
      const end = value(await run(pool, { mode: 'python' }));
      expect(end.decision).toEqual({ trace: `t${traceNo}`, listener: 0 });
      expect(end.output).toEqual({ python: 3 });
      expect(gateway.seen).toEqual([{ listener: 0, trace: `t${traceNo}`, method: 'POST', url: '/openai/v1/chat/completions', authorization: `Bearer ${GATEWAY_KEY}` }]);
    });
  });
});

describe.each(['namespace', 'trust-env'] as const)('starting agents (%s)', (network) => {
  it('a command that cannot start is a config error naming it', async () => {
    await withPool({ network, protocol: 'jsonl', command: ['no-such-agent-command'] }, async (pool) => {
      const error = await pool.start().then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain('no-such-agent-command');
    });
  });

  it('an http agent that never listens ends its traces CANDIDATE_START_TIMEOUT, and after three in a row no more are started', async () => {
    await withPool({ network, protocol: 'http', command: ['node', join(agentDir, 'deaf.mjs')], startTimeoutMs: 300 }, async (pool) => {
      // Not a config error: the command starts, it is the agent that fails.
      await pool.start();
      const ends = [await run(pool, { mode: 'echo' }), await run(pool, { mode: 'echo' })];
      for (const end of ends) {
        expect(end.kind === 'crashed' && end.error.code).toBe('CANDIDATE_START_TIMEOUT');
        expect(end.kind === 'crashed' && end.error.message).toContain('did not start and accept connections on its port within 300 ms');
      }
      const started = performance.now();
      const last = await run(pool, { mode: 'echo' });
      expect(performance.now() - started).toBeLessThan(300);
      expect(last.kind === 'crashed' && last.error.message).toMatch(/\(3 processes in a row; no more are started\)$/);
    });
  });

  it('a line before the first answer that is no JSON object is start-up output (a run-level attempt), whenever it comes, and the first trace still answers', async () => {
    await withPool({ network, protocol: 'jsonl', command: ['node', join(agentDir, 'banner.mjs')] }, async (pool) => {
      // no wait after start: the banner may come while the first trace is in flight
      expect(value(await run(pool, { mode: 'echo', n: 7 })).decision).toEqual({ n: 7 });
      expect(pool.runLevel()).toEqual([{ attempt: { kind: 'protocol', method: 'STDOUT', target: 'stdout line 1', why: 'start-up output, before the process\'s first answer: "agent starting"' }, startedBy: null }]);
    });
  });
});

describe('where no namespace can be made', () => {
  it('says what is missing', () => {
    const missing = probeNamespace(join(tmpdir(), 'no-such-folder', 'bwrap'));
    expect(missing).toEqual({ ok: false, why: expect.stringContaining('Bubblewrap is not installed') });
  });

  it('says when user namespaces are refused', () => {
    // A stand-in for a bwrap that the kernel refuses a user namespace, as Ubuntu 24.04's AppArmor does.
    const refusing = join(agentDir, 'refusing-bwrap');
    writeFileSync(refusing, '#!/bin/sh\necho "bwrap: setting up uid map: Permission denied" >&2\nexit 1\n', { mode: 0o755 });
    expect(probeNamespace(refusing)).toEqual({ ok: false, why: expect.stringMatching(/cannot create a network namespace here \(unprivileged user namespaces are disabled or restricted: bwrap: setting up uid map: Permission denied\)$/) });
  });

  it('refuses a namespaced candidate with a config error that names trust-env, which every report then prints', () => {
    let error: unknown;
    try {
      requireNamespace({ ok: false, why: 'Bubblewrap is not installed' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('sandbox.network: a command candidate runs in a network namespace, and none can be made here: Bubblewrap is not installed');
    expect((error as ConfigError).hint).toContain('sandbox: { network: trust-env }');
    expect(networkLoosening('trust-env')).toContain('without a network namespace');
    expect(networkLoosening('namespace')).toBeNull();
  });

  it('a cwd that does not exist is a config error', () => {
    expect(() => createCommandPool({ command: ['node'], cwd: join(agentDir, 'missing'), env: {}, protocol: 'jsonl', workers: 1, network: 'trust-env', gateway: standInGateway(), gatewayEnv })).toThrow(/candidate\.cwd: .*missing does not exist/);
  });
});

function exists(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
