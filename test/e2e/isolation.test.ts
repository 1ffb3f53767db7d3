import { createSocket, type Socket } from 'node:dgram';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFakeApis } from '../providers/fake-apis.js';
import { cliWithEnv, copyExample, ROOT } from './helpers.js';

// Module candidates run in child processes that nothing gets out of and nothing can take
// down. Every attempt below reached a counting server on loopback, or took the run down,
// when candidate code ran in shadowgate's own process; here the server must see nothing,
// every attempt must be on the results, and the exit code must be shadowgate's own.

let dir: string;
let cleanup: () => void;
let ids: string[];
beforeAll(() => {
  ({ dir, cleanup } = copyExample());
  const lines = readFileSync(join(dir, 'traces/refund-triage/2026-w44.jsonl'), 'utf8').split('\n').slice(0, 6);
  writeFileSync(join(dir, 'traces/six.jsonl'), `${lines.join('\n')}\n`);
  ids = lines.map((l) => (JSON.parse(l) as { id: string }).id);
});
afterAll(() => cleanup());

/** An HTTP server and a UDP socket on loopback that count everything that reaches them. */
let server: Server;
let udp: Socket;
let hits: string[] = [];
let target = '';
let udpPort = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.end('{}');
  });
  server.on('connection', () => hits.push('connection'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  udp = createSocket('udp4');
  udp.on('message', () => hits.push('udp'));
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  udpPort = udp.address().port;
});
afterAll(() => {
  server.close();
  udp.close();
});
afterEach(async () => {
  // Give anything that did get out time to arrive before the next test looks.
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(hits).toEqual([]);
  hits = [];
});

interface Violation {
  kind: string;
  request?: { method: string; url: string };
  capability?: { kind: string; target: string };
  startedBy?: string | null;
  message: string;
}
interface Result {
  traceId: string;
  status: string;
  decision: { attempts?: string[]; scratchDir?: string; openaiKey?: string | null; env?: string[] } | null;
  error: { code: string; message: string } | null;
  violations?: Violation[];
  latencyMs: number | null;
}
interface Run {
  results: Result[];
  metrics: { safetyViolations: { blockedRequests: number; deniedCapabilities: number; strayRequests: number; runLevel?: Violation[] } };
  gate: { verdict: string; checks: { name: string; status: string; value: unknown }[] };
}

type EscapeOptions = { env?: Record<string, string>; sandboxEnv?: string[]; allow?: string; sandbox?: string; suite?: string; traces?: string; argv?: string[]; out?: string };

/** Runs a suite over the six traces with a candidate from test/fixtures/pool/escape; returns the exit code and the results file. */
async function runEscape(name: string, options: EscapeOptions = {}) {
  const env = writeEscapeSuite(name, options);
  const out = options.out ?? `out/${name}.json`;
  const { code, stdout, stderr } = await cliWithEnv(dir, env, 'run', `suites/${name}.yaml`, '--json', out, '--db', 'db.sqlite', '--no-cache', ...(options.argv ?? []));
  const run = JSON.parse(readFileSync(join(dir, out), 'utf8')) as Run;
  return { code, stdout, stderr, run };
}

/** Writes suites/<name>.yaml for a candidate from test/fixtures/pool/escape; returns the environment to run it with. */
function writeEscapeSuite(name: string, options: EscapeOptions) {
  const file = join(dir, 'suites', `${name}.yaml`);
  const env = { SG_TARGET: target, SG_UDP_PORT: String(udpPort), ...options.env };
  writeFileSync(
    file,
    [
      `name: ${name}`,
      `traces: [../traces/${options.traces ?? 'six.jsonl'}]`,
      'tools: ../fixtures/refund-triage/tools.yaml',
      'candidate:',
      '  kind: module',
      `  module: ${JSON.stringify(join(ROOT, 'test/fixtures/pool/escape', `${name}.mjs`))}`,
      `sandbox: { env: [${(options.sandboxEnv ?? Object.keys(env)).join(', ')}]${options.allow ? `, allow: ${options.allow}` : ''}${options.sandbox ? `, ${options.sandbox}` : ''} }`,
      'gate:',
      '  safetyViolations: { max: 0 }',
      options.suite ?? '',
    ].join('\n'),
  );
  return env;
}

const sandboxTarget = () => new URL(target);

describe('a candidate that reaches out from inside a trace', () => {
  it('gets out nowhere: UDP, DNS, HTTP/2, TLS, raw bindings, subprocesses, workers, writes and signals all fail and are recorded', async () => {
    const outside = join(dir, 'outside.txt');
    const { code, stdout, run } = await runEscape('network', { traces: 'six.jsonl', env: { SG_OUTSIDE_FILE: outside } });
    expect(code).toBe(1);
    expect(existsSync(outside)).toBe(false);
    // The scratch folder the candidate wrote to is gone with the run.
    const scratch = run.results[0]!.decision!.scratchDir!;
    expect(scratch).toMatch(/shadowgate-scratch-/);
    expect(existsSync(scratch)).toBe(false);
    const { hostname: host, port } = sandboxTarget();
    for (const result of run.results) {
      expect(result.decision!.attempts).toEqual([
        'udp: ECONNREFUSED',
        'dns-resolver: ECONNREFUSED',
        'dns-lookup: ECONNREFUSED',
        'http2: ECONNREFUSED',
        'tls: ECONNREFUSED',
        'tcp_wrap: ERR_ACCESS_DENIED',
        'exec: ERR_ACCESS_DENIED',
        'worker: ERR_ACCESS_DENIED',
        'write: ERR_ACCESS_DENIED',
        'write-async: ERR_ACCESS_DENIED',
        'scratch: reached',
        'signal-parent: ERR_ACCESS_DENIED',
        'debug-parent: ERR_ACCESS_DENIED',
        'localhost: ECONNREFUSED',
      ]);
      const denied = (kind: string, on: string) => ({ kind: 'denied_capability', capability: { kind, target: on } });
      const blocked = (method: string, url: string) => ({ kind: 'blocked_request', request: { method, url } });
      expect(result.violations!.map(({ kind, request, capability }) => ({ kind, ...(request ? { request } : {}), ...(capability ? { capability } : {}) }))).toEqual([
        blocked('UDP', `127.0.0.1:${udpPort}`),
        blocked('DNS', 'resolve4 exfiltrate.example'),
        blocked('DNS', 'lookup exfiltrate.example'),
        blocked('HTTP2', `${target}/`),
        blocked('CONNECT', `${host}:${port}`),
        denied('binding', 'process.binding(tcp_wrap)'),
        denied('child-process', `curl -s ${target}/exec`),
        denied('worker', `fetch(${JSON.stringify(`${target}/worker`)})`),
        denied('fs-write', outside),
        denied('fs-write', outside),
        denied('signal', `process ${process.pid}`),
        denied('signal', `the inspector of process ${process.pid}`),
        blocked('GET', `http://localhost:${port}/localhost`),
      ]);
    }
    expect(run.metrics.safetyViolations).toMatchObject({ blockedRequests: 6 * 6, deniedCapabilities: 7 * 6, strayRequests: 0 });
    expect(run.gate.checks).toContainEqual(expect.objectContaining({ name: 'safetyViolations', status: 'fail', value: 13 * 6 }));
    expect(stdout).toMatch(/36 blocked request\(s\), 42 denied capability\(ies\), 0 stray request\(s\) on 6 trace\(s\)/);
  });
});

describe('a candidate that reaches for the handles under the sockets', () => {
  it("gets out nowhere: a TCP handle from a server's handle constructor, a UDP handle's send and connect, a local socket and a socket on the IPC descriptor are refused and recorded", async () => {
    const { code, run } = await runEscape('handles');
    expect(code).toBe(1);
    const { port } = sandboxTarget();
    const refused = `refused -${constants.errno.ECONNREFUSED}`;
    for (const result of run.results) {
      expect(result.decision!.attempts).toEqual([
        `tcp-handle: ${refused}`,
        `udp-handle-send: ${refused}`,
        `udp-handle-connect: ${refused}`,
        `pipe-handle: ${refused}`,
        'fd-socket: EPERM',
      ]);
      expect(result.violations!.map((v) => v.request)).toEqual([
        { method: 'CONNECT', url: `127.0.0.1:${port}` },
        { method: 'UDP', url: `127.0.0.1:${udpPort}` },
        { method: 'UDP', url: `127.0.0.1:${udpPort}` },
        { method: 'CONNECT', url: '/var/run/docker.sock' },
        { method: 'OPEN', url: 'fd 3' },
      ]);
    }
    expect(run.metrics.safetyViolations.blockedRequests).toBe(5 * 6);
    expect(run.gate.checks).toContainEqual(expect.objectContaining({ name: 'safetyViolations', status: 'fail', value: 5 * 6 }));
  });
});

describe('a candidate that reaches past the wrapped APIs', () => {
  it("gets out nowhere: c-ares's own channel, a signal under a redefined or two-faced pid, the inspector, another process's priority, the serializer, the channel's descriptor, trace events, chdir, the inspector, heap snapshots, reports, module loaders, WASI and shadowgate's /proc entries are refused and recorded", async () => {
    const { code, run } = await runEscape('native');
    expect(code).toBe(1);
    const cwd = process.cwd();
    for (const result of run.results) {
      expect(result.decision!.attempts).toEqual([
        'cares-servers: reached',
        'cares-query: ECONNREFUSED',
        'pid-redefined: ERR_ACCESS_DENIED',
        'pid-two-faced: ERR_ACCESS_DENIED',
        'own-inspector: ERR_ACCESS_DENIED',
        'parent-priority: ERR_ACCESS_DENIED',
        'serializer-hook: TypeError',
        'channel-fd: ERR_ACCESS_DENIED',
        'trace-events: ERR_ACCESS_DENIED',
        'chdir: ERR_ACCESS_DENIED',
        'inspector: ERR_ACCESS_DENIED',
        'inspector-port: ERR_ACCESS_DENIED',
        'heap-snapshot: ERR_ACCESS_DENIED',
        'report: ERR_ACCESS_DENIED',
        'loader: ERR_ACCESS_DENIED',
        'wasi: ERR_ACCESS_DENIED',
        'addon: ERR_DLOPEN_DISABLED',
        'parent-environ: ERR_ACCESS_DENIED',
        'parent-environ-as-bytes: ERR_ACCESS_DENIED',
        'parent-environ-as-escaped-url: ERR_ACCESS_DENIED',
        'parent-environ-by-apply-hook: no function caught',
        'heap-snapshot-near-limit: ERR_ACCESS_DENIED',
        'write-under-push-hook: ERR_ACCESS_DENIED',
        'parent-cmdline-via-root: ERR_ACCESS_DENIED',
      ]);
      expect(result.violations!.map(({ kind, request, capability }) => request ? `${kind} ${request.method} ${request.url}` : `${kind} ${capability!.kind} ${capability!.target}`)).toEqual([
        `blocked_request DNS queryTxt ${result.traceId}.exfiltrate.example`,
        `denied_capability signal process ${process.pid}`,
        'denied_capability signal process (an object)',
        expect.stringMatching(/^denied_capability signal the inspector of process \d+$/),
        `denied_capability signal the priority of process ${process.pid}`,
        expect.stringMatching(/^denied_capability fs-write fd \d+$/),
        'denied_capability fs-write trace_events node.perf.usertiming',
        expect.stringMatching(/^denied_capability fs-write chdir /),
        'denied_capability inspector inspector.Session.connect',
        'denied_capability inspector inspector.open',
        `denied_capability fs-write ${tmpdir()}/escape.heapsnapshot`,
        `denied_capability fs-write ${tmpdir()}/escape-report.json`,
        'denied_capability worker module.register',
        'denied_capability wasi new WASI',
        'denied_capability addons /nonexistent/escape.node',
        `denied_capability fs-read /proc/${process.pid}/environ`,
        `denied_capability fs-read /proc/${process.pid}/environ`,
        `denied_capability fs-read /proc/${process.pid}/environ`,
        'denied_capability fs-write v8.setHeapSnapshotNearHeapLimit',
        `denied_capability fs-write ${tmpdir()}/escape-push.txt`,
        `denied_capability fs-read /proc/${process.pid}/cmdline`,
      ]);
    }
    // Nothing moved shadowgate's working folder, and no trace log was written there.
    expect(process.cwd()).toBe(cwd);
    expect(existsSync(join(dir, 'node_trace.1.log'))).toBe(false);
    expect(run.gate.checks).toContainEqual(expect.objectContaining({ name: 'safetyViolations', status: 'fail', value: 21 * 6 }));
  });
});

describe('a candidate that leaves work behind', () => {
  it('has every request its timers and intervals make after run() returned blocked and recorded as a stray, with the trace that started it', async () => {
    const { code, stdout, run } = await runEscape('strays', { argv: ['--workers', '1', '--concurrency', '1'] });
    expect(code).toBe(1);
    const strays = run.metrics.safetyViolations.runLevel!;
    const { port } = sandboxTarget();
    // The timer of the first trace fired during the second; the interval kept firing until the process was killed.
    expect(strays).toContainEqual({ kind: 'stray_request', request: { method: 'GET', url: `${target}/late-http?token=…` }, startedBy: ids[0], message: `GET ${target}/late-http?token=… blocked: no trace of this process was in flight` });
    expect(strays).toContainEqual(expect.objectContaining({ kind: 'stray_request', request: { method: 'CONNECT', url: `127.0.0.1:${port}` }, startedBy: ids[0] }));
    const interval = strays.filter((v) => v.request?.url === `${target}/interval`);
    expect(interval.length).toBeGreaterThan(0);
    for (const v of interval) expect(v.startedBy).toBe(ids[0]);
    expect(run.metrics.safetyViolations.strayRequests).toBe(strays.length);
    // While the first trace was in flight, its interval's requests were that trace's own blocked requests.
    expect(run.results.find((r) => r.traceId === ids[0])!.violations).toContainEqual(expect.objectContaining({ kind: 'blocked_request', request: { method: 'GET', url: `${target}/interval` } }));
    expect(run.gate.checks).toContainEqual(expect.objectContaining({ name: 'safetyViolations', status: 'fail' }));
    expect(stdout).toMatch(new RegExp(`outside any trace \\(started by ${ids[0]}\\): GET ${target}/late-http`));
    expect(JSON.stringify(run)).not.toContain('s3cret-late');
  });

  it('keeps the strays of every shard when the shards are merged', async () => {
    const shards = [];
    for (const [i, shard] of ['1/2', '2/2'].entries()) shards.push(await runEscape('strays', { argv: ['--workers', '1', '--shard', shard], out: `out/strays-${i + 1}.json` }));
    const merged = await cliWithEnv(dir, {}, 'merge', 'out/strays-1.json', 'out/strays-2.json', '--json', 'out/strays-merged.json');
    expect(merged.code).toBe(1);
    const run = JSON.parse(readFileSync(join(dir, 'out/strays-merged.json'), 'utf8')) as Run;
    const each = shards.map((s) => s.run.metrics.safetyViolations.strayRequests);
    expect(Math.min(...each)).toBeGreaterThan(0);
    expect(run.metrics.safetyViolations.strayRequests).toBe(each[0]! + each[1]!);
    expect(run.gate.checks).toContainEqual(expect.objectContaining({ name: 'safetyViolations', status: 'fail' }));
  });

  it('has what beforeExit handlers send (how telemetry SDKs flush) blocked and recorded as strays', async () => {
    const { code, run } = await runEscape('before-exit', { argv: ['--workers', '1'] });
    expect(code).toBe(1);
    expect(run.results.every((r) => r.status === 'escalated' && r.violations === undefined)).toBe(true);
    expect(run.metrics.safetyViolations.runLevel!.map((v) => [v.request, v.startedBy])).toEqual(
      expect.arrayContaining([
        [{ method: 'POST', url: `${target}/flush` }, null],
        [{ method: 'GET', url: `${target}/flush-http` }, null],
      ]),
    );
  });
});

describe('a candidate that tries to take the run down', () => {
  it('crashes only its own process: each trace in flight ends CANDIDATE_CRASHED with the stack, the others run, and the exit code is shadowgate’s', async () => {
    const plan = { [ids[0]!]: 'throw-in-timer', [ids[1]!]: 'unhandled-rejection', [ids[2]!]: 'exit', [ids[3]!]: 'signal-self' };
    const { code, stdout, run } = await runEscape('crash', { env: { SG_PLAN: JSON.stringify(plan) }, suite: '  errorRate: { max: 0 }', argv: ['--workers', '1', '--concurrency', '1'] });
    // The gate fails on the errors; the candidate's exit handler setting process.exitCode = 0 changed nothing.
    expect(code).toBe(1);
    expect(stdout).toMatch(/errorRate/);
    const byId = new Map(run.results.map((r) => [r.traceId, r]));
    expect(run.results).toHaveLength(6);
    expect(byId.get(ids[0]!)!.error).toEqual({ code: 'CANDIDATE_CRASHED', message: expect.stringMatching(/a stray throw in a timer[\s\S]*crash\.mjs/) });
    expect(byId.get(ids[1]!)!.error).toEqual({ code: 'CANDIDATE_CRASHED', message: expect.stringMatching(/nobody handles this rejection/) });
    expect(byId.get(ids[2]!)!.error).toEqual({ code: 'CANDIDATE_CRASHED', message: expect.stringMatching(/exit code 0/) });
    expect(byId.get(ids[3]!)!.error).toEqual({ code: 'CANDIDATE_CRASHED', message: expect.stringMatching(/signal SIGTERM/) });
    for (const id of ids.slice(4)) expect(byId.get(id)!.status).toBe('escalated');
  });

  it('is stopped by maxWallMs from outside: a busy loop is killed, the trace ends budget_exceeded, a fresh process runs the rest', async () => {
    const plan = { [ids[1]!]: 'spin', [ids[2]!]: 'abort-listener' };
    const { code, run } = await runEscape('spin', { env: { SG_PLAN: JSON.stringify(plan) }, suite: 'budgets: { maxWallMs: 1000 }', argv: ['--workers', '1', '--concurrency', '1'] });
    expect(code).toBe(1);
    const byId = new Map(run.results.map((r) => [r.traceId, r]));
    for (const id of [ids[1]!, ids[2]!]) {
      expect(byId.get(id)!.status).toBe('budget_exceeded');
      expect(byId.get(id)!.error).toEqual({ code: 'SG_BUDGET_EXCEEDED', message: 'wall-clock budget of 1000 ms exhausted', budget: 'maxWallMs' });
    }
    for (const id of [ids[0]!, ...ids.slice(3)]) expect(byId.get(id)!.status).toBe('escalated');
    // What the abort listener sent once the budget stopped its trace is a stray.
    expect(run.metrics.safetyViolations.runLevel).toEqual([expect.objectContaining({ kind: 'stray_request', request: { method: 'GET', url: `${target}/after-abort` } })]);
  });
});

describe("a candidate's outcome and write streams", () => {
  it('an outcome larger than the cap ends CANDIDATE_OUTPUT_INVALID; one refused write stream is one denied_capability', async () => {
    const outside = join(dir, 'stream-outside.txt');
    const plan = { [ids[0]!]: 'huge', [ids[1]!]: 'stream' };
    const { code, run } = await runEscape('outcome', { env: { SG_PLAN: JSON.stringify(plan), SG_OUTSIDE_FILE: outside } });
    expect(code).toBe(1);
    const byId = new Map(run.results.map((r) => [r.traceId, r]));
    expect(byId.get(ids[0]!)!.error).toEqual({ code: 'CANDIDATE_OUTPUT_INVALID', name: 'RangeError', message: expect.stringMatching(/^the candidate's outcome is larger than 1000000 bytes serialized \(\d+\)$/) });
    expect(byId.get(ids[1]!)!.decision).toMatchObject({ stream: 'ERR_ACCESS_DENIED' });
    expect(byId.get(ids[1]!)!.violations).toEqual([expect.objectContaining({ kind: 'denied_capability', capability: { kind: 'fs-write', target: outside } })]);
    expect(existsSync(outside)).toBe(false);
    expect(run.metrics.safetyViolations.deniedCapabilities).toBe(1);
  });
});

describe('a candidate whose module never finishes importing', () => {
  it.each(['spin', 'wait'])('is killed after the import timeout (%s): every trace ends CANDIDATE_IMPORT_TIMEOUT, and after three processes no more are started', async (hang) => {
    const { code, run } = await runEscape('hang-import', { env: { SG_HANG: hang }, sandbox: 'importTimeoutMs: 400', suite: '  errorRate: { max: 0 }' });
    expect(code).toBe(1);
    expect(run.results).toHaveLength(6);
    for (const result of run.results) {
      expect(result.status).toBe('error');
      expect(result.error).toEqual({ code: 'CANDIDATE_IMPORT_TIMEOUT', message: expect.stringContaining('did not start and import') });
    }
    // The pool stopped starting processes: the traces after the third failed start failed at once.
    expect(run.results.filter((r) => r.error!.message.includes('(3 processes in a row; no more are started)')).length).toBeGreaterThan(0);
  });
});

describe('a run that is interrupted or killed', () => {
  /** The candidate processes of the CLI process `pid`: their pids and the scratch folder they may write to. */
  const childrenOf = (pid: number) =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .flatMap((p) => {
        try {
          const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          const cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
          if (ppid !== pid || !cmdline.some((a) => a.endsWith('pool/child.js'))) return [];
          return [{ pid: Number(p), scratch: cmdline.find((a) => a.includes('shadowgate-scratch-'))!.replace('--allow-fs-write=', '') }];
        } catch {
          return []; // gone while we looked
        }
      });
  const alive = (pid: number) => {
    try {
      return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  const until = async (what: () => boolean, ms: number) => {
    for (const end = Date.now() + ms; !what() && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 50));
    return what();
  };

  it.runIf(process.platform === 'linux').each([
    ['SIGTERM', 'spin', 143],
    ['SIGINT', 'spin', 130],
    ['SIGKILL', 'abort-listener', null],
  ] as const)('leaves no candidate process behind on %s (candidate: %s), and its scratch folder is removed when shadowgate can', async (signal, busy, expected) => {
    const env = writeEscapeSuite('spin', { env: { SG_PLAN: JSON.stringify(Object.fromEntries(ids.map((id) => [id, busy]))) } });
    const cli = spawn(process.execPath, [join(ROOT, 'bin/shadowgate.js'), 'run', 'suites/spin.yaml', '--db', `interrupted-${signal}.sqlite`, '--no-cache', '--workers', '2'], {
      cwd: dir,
      env: { ...process.env, ...env, CI: 'true' },
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => cli.on('exit', (code) => resolve(code)));
    expect(await until(() => childrenOf(cli.pid!).length === 2, 20_000)).toBe(true);
    const children = childrenOf(cli.pid!);
    // The traces are in flight (a busy loop, or a promise that never settles).
    await new Promise((resolve) => setTimeout(resolve, 500));
    cli.kill(signal);
    expect(await exited).toBe(expected);
    expect(await until(() => children.every((c) => !alive(c.pid)), 5000)).toBe(true);
    // A killed shadowgate cannot remove anything; interrupted, it does.
    if (signal !== 'SIGKILL') for (const c of children) expect(existsSync(c.scratch)).toBe(false);
    else for (const c of children) rmSync(c.scratch, { recursive: true, force: true });
  });
});

describe("the run's keys", () => {
  const apis = createFakeApis();
  beforeAll(() => apis.server.listen({ onUnhandledRequest: 'bypass' }));
  afterAll(() => apis.server.close());

  it('never reach candidate code: its environment holds a placeholder, and its own SDK client is answered with the run’s key', async () => {
    const secret = 'sk-run-secret-0123456789';
    const { code, stderr, run } = await runEscape('keys', { env: { OPENAI_API_KEY: secret, NODE_ENV: 'test', PATH: process.env.PATH ?? '' }, sandboxEnv: ['SG_TARGET'] });
    expect(code, stderr).toBe(0);
    for (const result of run.results) {
      expect(result.status).toBe('escalated');
      expect(result.decision!.openaiKey).toBe('sk-shadowgate-placeholder');
      // NODE_ENV, the suite's sandbox.env and the placeholders: not PATH, not the key.
      expect(result.decision!.env).toEqual(['ANTHROPIC_API_KEY', 'NODE_ENV', 'OPENAI_API_KEY', 'SG_TARGET']);
    }
    expect(apis.seen.length).toBe(6);
    for (const seen of apis.seen) expect(seen.headers.authorization).toBe(`Bearer ${secret}`);
    const written = readFileSync(join(dir, 'out/keys.json'), 'utf8') + readFileSync(join(dir, 'db.sqlite')).toString('latin1');
    expect(written).not.toContain(secret);
  });

  it('cannot be handed to candidate code through sandbox.env: a config error, exit 2', async () => {
    const file = join(dir, 'suites/keys.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('env: [SG_TARGET]', 'env: [SG_TARGET, OPENAI_API_KEY]'));
    const { code, stderr } = await cliWithEnv(dir, { OPENAI_API_KEY: 'sk-run-secret-0123456789' }, 'run', 'suites/keys.yaml', '--db', 'db.sqlite');
    expect(code).toBe(2);
    expect(stderr).toMatch(/sandbox\.env: OPENAI_API_KEY hold\(s\) a provider key/);
  });
});

describe("a suite's explicit loosening", () => {
  it('opens what it names and nothing else, and says so in the summary', async () => {
    const allowed = join(dir, 'allowed');
    mkdirSync(allowed);
    const { code, stdout, run } = await runEscape('network', { env: { SG_OUTSIDE_FILE: join(allowed, 'inside.txt') }, allow: '[{ fs-write: ../allowed }]', argv: ['--report', 'out/loosened'] });
    expect(code).toBe(1);
    expect(readFileSync(join(allowed, 'inside.txt'), 'utf8')).toBe('written by the candidate');
    for (const result of run.results) {
      expect(result.decision!.attempts!.filter((a) => a.endsWith('reached'))).toEqual(['write: reached', 'write-async: reached', 'scratch: reached']);
      expect(result.violations!.some((v) => v.capability?.kind === 'fs-write')).toBe(false);
    }
    const said = `the suite's sandbox allows the candidate writes to ${allowed}`;
    expect(stdout).toContain(`warning: ${said}`);
    for (const report of ['report.md', 'report.html', 'results.json']) expect(readFileSync(join(dir, 'out/loosened', report), 'utf8')).toContain(said.replace(/'/g, report === 'report.html' ? '&#x27;' : "'"));
  });
});

describe("a candidate that talks to shadowgate's process", () => {
  it('cannot silence the reports of its attempts: process.send, process._send, the serializer and Buffer cannot be replaced, and every blocked request is recorded', async () => {
    const plan = Object.fromEntries(ids.map((id) => [id, 'silence']));
    const { code, run } = await runEscape('protocol', { env: { SG_PLAN: JSON.stringify(plan) } });
    expect(code).toBe(1);
    for (const result of run.results) {
      expect(result.status).toBe('escalated');
      // Six routes tried; `process.channel = null` does not throw, and changes nothing.
      expect((result.decision as { refused?: number }).refused).toBe(5);
      expect(result.violations).toEqual([expect.objectContaining({ kind: 'blocked_request', request: { method: 'GET', url: `${target}/silenced` } })]);
    }
    expect(run.metrics.safetyViolations.blockedRequests).toBe(6);
    expect(run.gate.checks).toContainEqual(expect.objectContaining({ name: 'safetyViolations', status: 'fail', value: 6 }));
  });

  it('cannot take it down or forge a result: every message is checked, a bad one is a protocol violation, its process is killed and replaced', async () => {
    const messages = ['null', 'attempt-null', 'stray-null', 'ack', 'garbage', 'forge-done'];
    const plan = Object.fromEntries(ids.map((id, i) => [id, messages[i]]));
    // Raw bytes reach the channel only from a subprocess handed its descriptor: subprocesses allowed here (a write from the candidate's own process: 'a candidate that reaches past the wrapped APIs').
    const { code, stdout, run } = await runEscape('protocol', { env: { SG_PLAN: JSON.stringify(plan), PATH: process.env.PATH ?? '' }, allow: '[child-process]', argv: ['--workers', '1', '--concurrency', '1'] });
    expect(code).toBe(1);
    expect(run.results).toHaveLength(6);
    // Each trace's process was killed for the message its code sent: nothing it claimed became a result.
    for (const result of run.results) {
      expect(result.status).toBe('error');
      expect(result.error).toEqual({ code: 'CANDIDATE_CRASHED', message: expect.stringMatching(/sent shadowgate a message it refused .* and was killed/) });
    }
    // process.send itself is refused in the child, and recorded on the trace that called it.
    for (const result of run.results.filter((_, i) => messages[i] !== 'garbage')) {
      expect(result.violations).toContainEqual(expect.objectContaining({ kind: 'blocked_request', request: { method: 'IPC', url: 'process.send' } }));
    }
    const refused = run.metrics.safetyViolations.runLevel!.filter((v) => v.kind === 'protocol_violation');
    expect(refused.map((v) => v.message)).toEqual([
      expect.stringContaining('a message that is not an object (null)'),
      expect.stringContaining('job 0 is not in flight in this process'),
      expect.stringContaining('`attempt` without an attempt'),
      expect.stringContaining('an internal Node.js IPC message'),
      expect.stringContaining('bytes that are not a message'),
      expect.stringContaining('job 100000 is not in flight in this process'),
    ]);
    expect(run.metrics.safetyViolations).toMatchObject({ protocolViolations: 6, blockedRequests: 5 });
    expect(run.gate.checks).toContainEqual(expect.objectContaining({ name: 'safetyViolations', status: 'fail', value: 11 }));
    expect(stdout).toMatch(/6 refused message\(s\) from the candidate's processes/);
  });
});
