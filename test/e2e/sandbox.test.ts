import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFakeApis } from '../providers/fake-apis.js';
import { cliWithEnv, copyExample, ROOT } from './helpers.js';

// The sandbox a module candidate runs in: its HTTP to catalog routes is answered from the
// trace, its model calls go through the provider layer, and nothing else leaves the process.

let dir: string;
let cleanup: () => void;
beforeAll(() => {
  ({ dir, cleanup } = copyExample());
  // Three recorded traces are enough for what these tests look at.
  const lines = readFileSync(join(dir, 'traces/refund-triage/2026-w44.jsonl'), 'utf8').split('\n').slice(0, 3);
  writeFileSync(join(dir, 'traces/three.jsonl'), `${lines.join('\n')}\n`);
});
afterAll(() => cleanup());

const shadowgate = (env: Record<string, string>, ...argv: string[]) => cliWithEnv(dir, env, ...argv);

/** A suite over the three traces with a module candidate from test/fixtures/sandbox. */
function suiteFor(name: string, extra = ''): string {
  const file = join(dir, 'suites', `${name}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${name}`,
      'traces: [../traces/three.jsonl]',
      'tools: ../fixtures/refund-triage/tools.yaml',
      'reference: human',
      'candidate:',
      '  kind: module',
      `  module: ${JSON.stringify(join(ROOT, 'test/fixtures/sandbox', `${name}.mjs`))}`,
      extra,
    ].join('\n'),
  );
  return file;
}

interface Violation {
  kind: string;
  request?: { method: string; url: string };
}
interface Result {
  traceId: string;
  violations?: Violation[];
  steps: { type: string; name?: string; model?: string; args?: Record<string, unknown>; servedFrom?: string }[];
}

describe('agent code that calls its tools over HTTP', () => {
  it('is answered from the trace through the catalog http routes, as the same policy through ctx.tools is', async () => {
    const viaTools = await shadowgate({}, 'run', 'suites/refund-triage.yaml', '--json', 'out/tools.json', '--db', 'db.sqlite');
    const viaHttp = await shadowgate({}, 'run', 'suites/refund-triage-http.yaml', '--json', 'out/http.json', '--db', 'db.sqlite');
    expect(viaTools.code).toBe(0);
    expect(viaHttp.code).toBe(0);
    const tools = JSON.parse(readFileSync(join(dir, 'out/tools.json'), 'utf8'));
    const http = JSON.parse(readFileSync(join(dir, 'out/http.json'), 'utf8'));
    expect(http.counts.total).toBe(480);
    expect(http.metrics.agreement).toEqual(tools.metrics.agreement);
    expect(http.metrics.effectsAgreement).toEqual(tools.metrics.effectsAgreement);
    // Every request became the tool call it stands for: same names, same arguments (path and query parameters typed by the schema).
    const byId = new Map<string, Result>(tools.results.map((r: Result) => [r.traceId, r]));
    for (const result of http.results as Result[]) {
      expect(result.violations).toBeUndefined();
      const same = byId.get(result.traceId)!;
      const key = (steps: Result['steps']) => steps.map((s) => `${s.name} ${JSON.stringify(s.args, Object.keys(s.args ?? {}).sort())}`).sort();
      expect(key(result.steps)).toEqual(key(same.steps));
    }
    const policy = (http.results as Result[]).flatMap((r) => r.steps).find((s) => s.name === 'check_refund_policy')!;
    expect(typeof policy.args!.amount).toBe('number');
  });

  it('answers a call a policy rule refuses with 403, and the mock never answers it', async () => {
    const main = readFileSync(join(dir, 'suites/refund-triage-http.yaml'), 'utf8');
    const deny = '    - id: no-refund-over-100\n      tool: issue_refund\n      when: { arg: amount, gt: 100 }\n      action: deny\n';
    writeFileSync(join(dir, 'suites/http-deny.yaml'), main.replace('name: refund-triage-http', 'name: http-deny').replace('  rules:\n', `  rules:\n${deny}`));
    await shadowgate({}, 'run', 'suites/http-deny.yaml', '--json', 'out/deny.json', '--db', 'db.sqlite');
    const run = JSON.parse(readFileSync(join(dir, 'out/deny.json'), 'utf8'));
    const refused = (run.results as (Result & { error: { message: string } | null })[]).filter((r) =>
      r.steps.some((s) => s.name === 'issue_refund' && (s as { error?: { code: string } }).error?.code === 'POLICY_DENIED'),
    );
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.error?.message).toMatch(/HTTP 403/);
      expect(r.violations).toContainEqual(expect.objectContaining({ kind: 'policy_violation', rule: 'no-refund-over-100' }));
    }
  });
});

describe('a candidate that tries to get out', () => {
  let server: Server;
  let hits = 0;
  let target = '';
  beforeAll(async () => {
    server = createServer((req, res) => {
      hits++;
      res.end('{}');
    });
    server.on('connection', () => hits++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
  });

  it('reaches nothing: the loopback server gets no request or connection, and every attempt is on the result', async () => {
    suiteFor('escape', 'sandbox: { env: [SG_SANDBOX_TARGET] }\ngate:\n  safetyViolations: { max: 0 }');
    const { code, stdout } = await shadowgate({ SG_SANDBOX_TARGET: target }, 'run', 'suites/escape.yaml', '--json', 'out/escape.json', '--db', 'db.sqlite', '--no-cache');
    expect(hits).toBe(0);
    const run = JSON.parse(readFileSync(join(dir, 'out/escape.json'), 'utf8'));
    expect(run.results).toHaveLength(3);
    // Counted among the safety violations, and gateable.
    expect(run.metrics.safetyViolations).toEqual({ schemaViolations: 0, duplicateEffects: 0, blockedRequests: 18, deniedCapabilities: 0, strayRequests: 0, traces: 3 });
    expect(code).toBe(1);
    expect(run.gate.checks).toContainEqual(expect.objectContaining({ name: 'safetyViolations', status: 'fail', value: 18 }));
    expect(stdout).toMatch(/18 blocked request\(s\) on 3 trace\(s\)/);
    const { port } = new URL(target);
    for (const result of run.results as Result[]) {
      // The candidate's clients saw each attempt fail as a refused connection would.
      expect((result as Result & { decision: { attempts: string[] } }).decision.attempts.map((a) => a.replace(/:.*/s, ''))).toEqual(['fetch', 'userinfo', 'http', 'https', 'openai', 'socket']);
      for (const attempt of (result as Result & { decision: { attempts: string[] } }).decision.attempts) expect(attempt).not.toMatch(/reached$/);
      expect(result.violations!.map((v) => v.kind)).toEqual(Array(6).fill('blocked_request'));
      expect(result.violations!.map((v) => v.request)).toEqual([
        { method: 'GET', url: `${target}/fetch?api_key=…` },
        { method: 'GET', url: `${target}/userinfo` },
        { method: 'POST', url: `${target}/http` },
        { method: 'POST', url: `https://127.0.0.1:${port}/https` },
        { method: 'POST', url: `${target}/v1/chat/completions` },
        { method: 'CONNECT', url: `127.0.0.1:${port}` },
      ]);
    }
    // Neither the secrets in the query or the headers nor the fake key are written anywhere.
    const written = readFileSync(join(dir, 'out/escape.json'), 'utf8') + readFileSync(join(dir, 'db.sqlite')).toString('latin1');
    for (const secret of ['s3cret-in-query', 's3cret-in-header', 's3cret-password', 'sk-fake-candidate-key']) expect(written).not.toContain(secret);
  });
});

describe("a candidate's own model clients", () => {
  const apis = createFakeApis();
  beforeAll(() => apis.server.listen({ onUnhandledRequest: 'error' }));
  afterAll(() => apis.server.close());

  it('go through the provider layer with the run’s keys: recorded as model steps, cached, never with the candidate’s key', async () => {
    suiteFor('own-client');
    const env = { OPENAI_API_KEY: 'sk-run-openai', ANTHROPIC_API_KEY: 'sk-run-anthropic' };
    const first = await shadowgate(env, 'run', 'suites/own-client.yaml', '--json', 'out/own-1.json', '--db', 'db.sqlite');
    expect(first.code).toBe(0);
    expect(apis.seen).toHaveLength(6);
    for (const seen of apis.seen) {
      if (seen.url.includes('openai')) expect(seen.headers.authorization).toBe('Bearer sk-run-openai');
      else expect(seen.headers['x-api-key']).toBe('sk-run-anthropic');
      expect(JSON.stringify(seen.headers)).not.toContain('candidate-own-key');
    }
    const run = JSON.parse(readFileSync(join(dir, 'out/own-1.json'), 'utf8'));
    for (const result of run.results as Result[]) {
      expect(result.violations).toBeUndefined();
      expect(result.steps.map((s) => [s.type, s.model])).toEqual([
        ['llm', expect.stringMatching(/^gpt-4.1-mini/)],
        ['llm', 'claude-haiku-4-5'],
      ]);
    }
    expect(run.metrics.cost.totalUsd).toBeGreaterThan(0);

    // The same run again: every call answered from the cache, none sent.
    const second = await shadowgate(env, 'run', 'suites/own-client.yaml', '--json', 'out/own-2.json', '--db', 'db.sqlite');
    expect(second.code).toBe(0);
    expect(apis.seen).toHaveLength(6);
    const again = JSON.parse(readFileSync(join(dir, 'out/own-2.json'), 'utf8'));
    expect((again.results as Result[]).flatMap((r) => r.steps.map((s) => s.servedFrom))).toEqual(Array(6).fill('cache'));
  });

  it('take only inference requests to a model API, and none that has the provider reach the network: anything else is blocked, never sent with the run’s key', async () => {
    apis.reset();
    suiteFor('model-admin');
    const env = { OPENAI_API_KEY: 'sk-run-openai', ANTHROPIC_API_KEY: 'sk-run-anthropic' };
    const { code, stderr } = await shadowgate(env, 'run', 'suites/model-admin.yaml', '--json', 'out/admin.json', '--db', 'db.sqlite', '--no-cache');
    expect(code, stderr).toBe(0);
    // Only the chat completion of each trace was sent.
    expect(apis.seen.map((s) => s.url)).toEqual(Array(3).fill('https://api.openai.com/v1/chat/completions'));
    const run = JSON.parse(readFileSync(join(dir, 'out/admin.json'), 'utf8'));
    for (const result of run.results as (Result & { decision: { attempts: string[] } })[]) {
      expect(result.decision.attempts.map((a) => a.replace(/: .*/s, (m) => (m === ': 200' ? m : ': failed')))).toEqual([
        'files: failed', 'stored: failed', 'models: failed', 'count: failed', 'remote-mcp: failed', 'web-fetch: failed', 'image-url: failed', 'search-model: failed', 'not-json: failed', 'mcp-servers: failed', 'chat: 200',
      ]);
      const blocked = (method: string, url: string, why = 'not an inference endpoint') => ({ kind: 'blocked_request', step: 0, request: { method, url }, message: `${method} ${url} blocked: ${why}` });
      const outward = (what: string) => `a model request that asks the provider to reach the network for it (${what})`;
      expect(result.violations).toEqual([
        blocked('DELETE', 'https://api.openai.com/v1/files/file-abc'),
        blocked('GET', 'https://api.openai.com/v1/chat/completions'),
        blocked('GET', 'https://api.anthropic.com/v1/models'),
        blocked('POST', 'https://api.anthropic.com/v1/messages/count_tokens'),
        blocked('POST', 'https://api.openai.com/v1/responses', outward('a tool of type "mcp"')),
        blocked('POST', 'https://api.anthropic.com/v1/messages', outward('a tool of type "web_fetch_20250910"')),
        blocked('POST', 'https://api.openai.com/v1/chat/completions', outward('content the provider would fetch from https://attacker.example/x.png?d=…')),
        blocked('POST', 'https://api.openai.com/v1/chat/completions', outward('the model gpt-4o-search-preview, which searches the web')),
        blocked('POST', 'https://api.openai.com/v1/chat/completions', outward('a body that is not a JSON object')),
        blocked('POST', 'https://api.anthropic.com/v1/messages', outward('mcp_servers')),
      ]);
      expect(result.steps.map((s) => [s.type, s.model])).toEqual([['llm', expect.stringMatching(/^gpt-4.1-mini/)]]);
    }
  });
});
