import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError, InternalError } from '../../errors.js';
import { killGroup, signalGroup, type JobEnd, type JobHost, type RunLevelAttempt } from '../pool/pool.js';
import type { RunJob } from '../pool/protocol.js';
import type { ResultError } from '../types.js';
import { bwrapCommand, NAMESPACED_AGENT_PORT, RELAY_GATEWAY_PORT, requireNamespace, type CommandNetwork } from './sandbox.js';
import type { AgentListener, Gateway } from './gateway.js';

/** What the pool needs of the gateway: one listener per agent process, bound to the trace that process runs. */
export type CommandGateway = Pick<Gateway, 'listen' | 'runLevel'>;
export type { AgentListener };

export interface CommandPoolOptions {
  /** The agent's command line: `[python3, agent.py]`. */
  command: string[];
  cwd: string;
  /** The agent's whole environment besides the gateway's (and HOME, TMPDIR, set by the pool). */
  env: Record<string, string>;
  protocol: 'jsonl' | 'http';
  /** Agent processes at most; each runs one trace at a time and is started when a trace needs one. */
  workers: number;
  network: CommandNetwork;
  gateway: CommandGateway;
  /** The environment that points an agent at the gateway's origin as the agent sees it (gateway.ts's `gatewayEnv`). */
  gatewayEnv: (origin: string) => Record<string, string>;
  /** How long a process may take to start (and, for `http`, to accept connections) before it is killed. @default 30000 */
  startTimeoutMs?: number;
  /** How long a process may take to end after the run, its stdin closed, before it is killed. @default 500 */
  graceMs?: number;
}

/** How long the first `jsonl` process is watched before the run starts: one that ends within it cannot run a trace. */
const EXITS_AT_ONCE_MS = 1000;

/** Processes that failed to start in time, one after another, before the pool stops starting them. */
const START_ATTEMPTS = 3;

/** The largest answer read from an `http` agent. */
const MAX_HTTP_ANSWER = 10_000_000;

/** An agent process that could not be started: the traces waiting for it end with `error`. */
class StartFailure extends Error {
  constructor(readonly error: ResultError, readonly timedOut: boolean) {
    super(error.message);
  }
}

interface Job {
  traceId: string;
  finish(end: JobEnd): void;
}

interface Agent {
  process: ChildProcess;
  listener: AgentListener;
  /** Where traces are posted (`http`): the relay's Unix socket or a loopback port. */
  target?: { socketPath: string } | { port: number };
  /** The relay's socket folder (namespaced `http`), removed when the process ends. */
  sockDir?: string;
  busy: boolean;
  job?: Job;
  /** The last trace it ran: a stray stdout line is attributed to it. */
  lastTrace: string | null;
  ready: Promise<void>;
  started: boolean;
  dead: boolean;
  /** Why it is being killed: its trace in flight, if any, has ended already. */
  killedFor?: string;
  /** Its stderr (and, for `http`, its stdout), last 4000 characters: never printed raw, only quoted in a crash's message. */
  output: string;
  stdoutLines: number;
  exited: Promise<void>;
  /** Answers it gave: before its first, a `jsonl` agent's lines that are no JSON object are start-up output, not answers. */
  answered: number;
  /** Its process has exited (its last output may still be on its way): no trace is handed to it any more. */
  gone: boolean;
  /** How it ended (exit code or signal), once it has. */
  endedWhy?: string;
}

/**
 * The pool of agent processes a `command` candidate runs in, as `createCandidatePool` is for
 * modules: each process runs one trace at a time, its gateway listener bound to that trace;
 * a process that ends or is killed is replaced by a fresh one when a trace needs it. With
 * `network: namespace` every process runs inside its own network namespace (sandbox.ts).
 */
export function createCommandPool(options: CommandPoolOptions) {
  if (options.command.length === 0) throw new ConfigError([{ file: 'candidate.command', message: 'the command is empty' }]);
  if (!existsSync(options.cwd)) throw new ConfigError([{ file: 'candidate.cwd', message: `${options.cwd} does not exist` }]);
  if (options.network === 'namespace') requireNamespace();
  const namespaced = options.network === 'namespace';
  const scratchDir = mkdtempSync(join(tmpdir(), 'shadowgate-scratch-'));
  const sockDirs = new Set<string>();
  const removeFolders = () => {
    for (const dir of [scratchDir, ...sockDirs]) rmSync(dir, { recursive: true, force: true });
  };
  // However shadowgate's process ends, its agents end with it (each is its own process group, which a
  // Ctrl-C in a terminal does not reach): killed on exit and on SIGINT/SIGTERM, after which shadowgate exits
  // with the conventional code. A namespaced agent also ends when its parent goes (bwrap --die-with-parent).
  const killAll = () => {
    for (const agent of agents) killGroup(agent.process);
  };
  const onExit = () => (killAll(), removeFolders());
  const onSignal = (signal: NodeJS.Signals) => {
    onExit();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const agents: Agent[] = [];
  const waiters: (() => void)[] = [];
  const runLevel: RunLevelAttempt[] = [];
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const graceMs = options.graceMs ?? 500;
  let starting = 0;
  let startFailures = 0;
  let lastStartFailure: StartFailure | undefined;
  let closed = false;
  const commandText = options.command.join(' ');

  async function spawnAgent(): Promise<Agent> {
    const listener = await options.gateway.listen(namespaced ? 'unix' : 'tcp');
    try {
      return await startAgent(listener);
    } catch (error) {
      await listener.close().catch(() => {});
      throw error;
    }
  }

  async function startAgent(listener: AgentListener): Promise<Agent> {
    const env: Record<string, string> = { ...options.env, HOME: scratchDir, TMPDIR: namespaced ? '/tmp' : scratchDir };
    let proc: ChildProcess;
    let target: Agent['target'];
    let sockDir: string | undefined;
    if (namespaced) {
      if (!('socket' in listener.address)) throw new InternalError('a namespaced agent needs a Unix socket listener');
      const gatewaySocket = listener.address.socket;
      const relay = ['--gateway', gatewaySocket, '--port', String(RELAY_GATEWAY_PORT)];
      Object.assign(env, options.gatewayEnv(`http://127.0.0.1:${RELAY_GATEWAY_PORT}`));
      if (options.protocol === 'http') {
        sockDir = mkdtempSync(join(tmpdir(), 'shadowgate-agent-'));
        sockDirs.add(sockDir);
        target = { socketPath: join(sockDir, 'agent.sock') };
        relay.push('--agent-socket', target.socketPath, '--agent-port', String(NAMESPACED_AGENT_PORT));
        env.SHADOWGATE_AGENT_PORT = String(NAMESPACED_AGENT_PORT);
      }
      const bwrap = bwrapCommand({ scratchDir, binds: sockDir ? [sockDir] : [], roBinds: [dirname(gatewaySocket)], cwd: options.cwd, env, relay, command: options.command });
      // Fd 3: the relay says `ready` on it once the agent is started (see relay.ts).
      proc = spawn(bwrap.file, bwrap.args, { env: {}, stdio: ['pipe', 'pipe', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
    } else {
      if (!('origin' in listener.address)) throw new InternalError('a trust-env agent needs a loopback TCP listener');
      Object.assign(env, options.gatewayEnv(listener.address.origin));
      if (options.protocol === 'http') {
        const port = await freePort();
        target = { port };
        env.SHADOWGATE_AGENT_PORT = String(port);
      }
      proc = spawn(options.command[0]!, options.command.slice(1), { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'], detached: process.platform !== 'win32' });
    }

    let readyResolve!: () => void, readyReject!: (e: StartFailure) => void;
    let exitedResolve!: () => void;
    const agent: Agent = {
      process: proc,
      listener,
      ...(target ? { target } : {}),
      ...(sockDir ? { sockDir } : {}),
      busy: false,
      lastTrace: null,
      ready: new Promise<void>((res, rej) => ((readyResolve = res), (readyReject = rej))),
      started: false,
      dead: false,
      output: '',
      stdoutLines: 0,
      exited: new Promise<void>((res) => (exitedResolve = res)),
      answered: 0,
      gone: false,
    };
    agent.ready.catch(() => {});
    agents.push(agent);
    const markReady = () => {
      if (agent.started || agent.dead) return;
      agent.started = true;
      startFailures = 0;
      readyResolve();
    };
    let timedOut = false;
    const startTimer = setTimeout(() => {
      if (agent.started || agent.dead) return;
      timedOut = true;
      kill(agent, 'it did not start in time');
    }, startTimeoutMs);
    agent.ready.finally(() => clearTimeout(startTimer)).catch(() => {});

    const keep = (data: Buffer) => (agent.output = (agent.output + data.toString()).slice(-4000));
    proc.stderr?.on('data', keep);
    proc.stdin?.on('error', () => {}); // a write to a process that is gone; its exit says what happened
    if (options.protocol === 'jsonl') {
      createInterface({ input: proc.stdout!, crlfDelay: Infinity }).on('line', (line) => answerLine(agent, line, ++agent.stdoutLines));
    } else {
      proc.stdout?.on('data', keep);
    }
    if (namespaced) {
      const signals = proc.stdio[3] as NodeJS.ReadableStream | null;
      signals?.on('data', (data: Buffer) => data.toString().includes('ready') && markReady());
      signals?.on('error', () => {});
    } else {
      proc.once('spawn', () => {
        if (!agent.target) return markReady();
        const port = (agent.target as { port: number }).port;
        void accepting(port, () => agent.dead || agent.started).then((ok) => ok && markReady());
      });
    }

    let ended = false;
    const end = (why: string) => {
      if (ended) return;
      ended = true;
      agent.dead = true;
      agents.splice(agents.indexOf(agent), 1);
      const said = agent.output.trim() ? `; its last output: ${agent.output.trim().slice(-1000)}` : '';
      agent.endedWhy = why;
      if (!agent.started) {
        const failure = timedOut
          ? new StartFailure({ code: 'CANDIDATE_START_TIMEOUT', message: `the agent's process (${commandText}) did not start${options.protocol === 'http' ? ' and accept connections on its port' : ''} within ${startTimeoutMs} ms${said}` }, true)
          : new StartFailure({ code: 'CANDIDATE_CRASHED', message: `the agent's process (${commandText}) ${why} before it was ready${said}` }, false);
        startFailures++;
        lastStartFailure = failure;
        readyReject(failure);
      }
      // A process that ended by itself, cleanly, after answering a trace most likely never read the
      // next one (an agent that answers one trace and exits): that trace runs again on a fresh process.
      const byItself = agent.process.exitCode === 0 && !agent.killedFor && agent.answered > 0;
      agent.job?.finish(byItself ? { kind: 'evicted' } : { kind: 'crashed', error: { code: 'CANDIDATE_CRASHED', message: `the agent's process ${why} with trace ${agent.job.traceId} in flight${said}` } });
      void listener.close().catch(() => {});
      if (agent.sockDir) (rmSync(agent.sockDir, { recursive: true, force: true }), sockDirs.delete(agent.sockDir));
      exitedResolve();
      waiters.shift()?.();
    };
    proc.once('error', (error) => end(`could not be started (${error.message})`));
    proc.once('exit', (code, signal) => {
      agent.gone = true;
      const why = `ended (${signal ? `signal ${signal}` : `exit code ${code}`}${agent.killedFor ? `, killed because ${agent.killedFor}` : ''})`;
      // Its last lines of stdout may still be on their way: they are read before its trace is called crashed.
      const timer = setTimeout(() => end(why), 200);
      proc.once('close', () => (clearTimeout(timer), end(why)));
    });
    hold(agent);
    return agent;
  }

  /** An idle agent does not keep shadowgate's process alive; a busy or starting one does. */
  function hold(agent: Agent): void {
    const busy = agent.busy || !agent.started;
    const handles = [agent.process, agent.process.stdin, agent.process.stdout, agent.process.stderr, agent.process.stdio[3]] as ({ ref?: () => void; unref?: () => void; destroyed?: boolean } | null | undefined)[];
    // A closed stream has no handle left: ref/unref on it would wait for a 'connect' that never comes, a listener per call.
    for (const handle of handles) if (!handle?.destroyed) (busy ? handle?.ref : handle?.unref)?.call(handle);
  }

  /** One line of a `jsonl` agent's stdout: the answer for its trace in flight, or a located error on it. */
  function answerLine(agent: Agent, line: string, n: number): void {
    if (line.trim() === '' || agent.killedFor) return;
    const job = agent.job;
    const checked = checkAnswer(line, job?.traceId ?? null);
    // Before its first answer a process may print what programs print as they start (a banner, a
    // library's notice): a line that is no JSON object then is start-up output, recorded, not an answer.
    if (agent.answered === 0 && !isJsonObject(line)) {
      runLevel.push({ attempt: { kind: 'protocol', method: 'STDOUT', target: `stdout line ${n}`, why: `start-up output, before the process's first answer: ${snippet(line)}` }, startedBy: null });
      return;
    }
    if (!job) {
      runLevel.push({ attempt: { kind: 'protocol', method: 'STDOUT', target: `stdout line ${n}`, why: `a line while no trace was in flight: ${checked.ok ? 'an answer' : checked.why}` }, startedBy: agent.lastTrace });
      return;
    }
    if (checked.ok) return (agent.answered++, job.finish({ kind: 'done', value: checked.value }));
    job.finish({ kind: 'threw', error: { code: 'CANDIDATE_OUTPUT_INVALID', message: `stdout line ${n}: ${checked.why}` } });
    // What it writes next cannot be told apart from an answer to the next trace: a fresh process takes it.
    kill(agent, 'its answer was malformed');
  }

  /** Posts a trace to an `http` agent; its response body is the answer. */
  function post(agent: Agent, job: Job, payload: string): void {
    const target = agent.target!;
    const fail = (why: string) => {
      // A process that is going away ends its trace as a crash (its exit says why); one that is still there answered wrongly.
      setTimeout(() => {
        if (agent.job !== job || agent.dead) return;
        job.finish({ kind: 'threw', error: { code: 'CANDIDATE_OUTPUT_INVALID', message: why } });
        kill(agent, 'its answer was malformed');
      }, 250).unref();
    };
    const req = httpRequest(
      { ...target, ...('port' in target ? { host: '127.0.0.1' } : {}), method: 'POST', path: '/', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_HTTP_ANSWER) return (res.destroy(), fail(`HTTP answer larger than ${MAX_HTTP_ANSWER} bytes`));
          chunks.push(chunk);
        });
        res.on('error', () => {});
        res.on('end', () => {
          if (agent.job !== job) return;
          const body = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) return fail(`HTTP status ${status}: ${snippet(body) || 'no body'}`);
          const checked = checkAnswer(body, job.traceId);
          if (checked.ok) return (agent.answered++, job.finish({ kind: 'done', value: checked.value }));
          fail(`HTTP status ${status}: ${checked.why}`);
        });
      },
    );
    req.on('error', (error) => fail(`POST to the agent failed: ${error.message}`));
    req.end(payload);
  }

  async function acquire(): Promise<Agent> {
    for (;;) {
      const idle = agents.find((a) => !a.busy && !a.dead && !a.gone && !a.killedFor);
      if (idle) return ((idle.busy = true), hold(idle), idle);
      const alive = agents.filter((a) => !a.dead && !a.gone && !a.killedFor).length;
      if (alive + starting < Math.max(1, options.workers)) {
        starting++;
        try {
          const agent = await spawnAgent();
          agent.busy = true;
          return agent;
        } finally {
          starting--;
        }
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  }

  function release(agent: Agent): void {
    agent.busy = false;
    if (!agent.dead) hold(agent);
    waiters.shift()?.();
  }

  function kill(agent: Agent, why: string): void {
    if (agent.dead) return;
    agent.killedFor ??= why;
    killGroup(agent.process);
    waiters.shift()?.();
  }

  return {
    scratchDir,
    /** Starts one agent process and waits until it is ready: a command that cannot be started is a config error before any trace runs. */
    async start(): Promise<void> {
      const agent = await acquire();
      try {
        await agent.ready;
        // A jsonl agent is ready once started: one that exits at once (a wrong path, an import error) is caught here.
        if (options.protocol === 'jsonl') await Promise.race([agent.exited, new Promise((resolve) => setTimeout(resolve, EXITS_AT_ONCE_MS).unref())]);
        if (agent.dead || agent.gone) {
          await agent.exited;
          const said = agent.output.trim() ? `; its last output: ${agent.output.trim().slice(-1000)}` : '';
          throw new ConfigError([{ file: 'candidate.command', message: `the agent's process (${commandText}) ${agent.endedWhy ?? 'ended'} before it was given a trace${said}` }]);
        }
      } catch (error) {
        if (error instanceof ConfigError) throw error;
        if (error instanceof StartFailure && !error.timedOut) throw new ConfigError([{ file: 'candidate.command', message: error.message }]);
      } finally {
        release(agent);
      }
    },
    /** Waits until a process is ready for the next trace: starting one is not the candidate's time. */
    async ready(): Promise<void> {
      if (closed || startFailures >= START_ATTEMPTS) return;
      const agent = await acquire();
      await agent.ready.catch(() => {});
      release(agent);
    },
    /** Runs the agent on one trace; `signal` aborting (a budget) kills its process. */
    async run(trace: RunJob['trace'], input: unknown, host: JobHost, signal: AbortSignal): Promise<JobEnd> {
      if (closed) throw new InternalError('the command pool is closed');
      if (startFailures >= START_ATTEMPTS && lastStartFailure) return { kind: 'crashed', error: { ...lastStartFailure.error, message: `${lastStartFailure.error.message} (${startFailures} processes in a row; no more are started)` } };
      const agent = await acquire();
      try {
        await agent.ready;
      } catch (error) {
        release(agent);
        if (error instanceof StartFailure) return { kind: 'crashed', error: error.error };
        throw error;
      }
      // Its budget ran out while a process was starting: the trace ends as moduleRunner decides, and the process serves the next.
      if (signal.aborted) return (release(agent), { kind: 'crashed', error: { code: 'CANDIDATE_CRASHED', message: `trace ${trace.id} ran out of time before its process was ready` } });
      return new Promise<JobEnd>((resolveEnd) => {
        let unbind = () => {};
        const onAbort = () => {
          job.finish({ kind: 'crashed', error: { code: 'CANDIDATE_CRASHED', message: `the agent's process was killed: trace ${trace.id} ran out of time` } });
          kill(agent, `trace ${trace.id} ran out of time`);
        };
        const job: Job = {
          traceId: trace.id,
          finish: (end) => {
            if (agent.job !== job) return;
            agent.job = undefined;
            unbind();
            signal.removeEventListener('abort', onAbort);
            release(agent);
            resolveEnd(end);
          },
        };
        if (agent.dead) return (release(agent), resolveEnd({ kind: 'evicted' }));
        agent.job = job;
        agent.lastTrace = trace.id;
        unbind = agent.listener.bind(host, { id: trace.id });
        signal.addEventListener('abort', onAbort, { once: true });
        const payload = JSON.stringify({ traceId: trace.id, input, workflow: trace.workflow });
        if (options.protocol === 'jsonl') agent.process.stdin?.write(`${payload}\n`);
        else post(agent, job, payload);
      });
    },
    /** Stray stdout lines, and requests that reached the gateway with no trace bound (gateway.runLevel()). */
    runLevel(): RunLevelAttempt[] {
      return [...runLevel, ...options.gateway.runLevel()];
    },
    /**
     * Ends the pool: each agent's stdin is closed (a `jsonl` agent's cue to end) and an `http`
     * agent is sent SIGTERM; one still running after `graceMs` is killed, not waited for.
     */
    async close(): Promise<void> {
      closed = true;
      await Promise.all(
        [...agents].map(async (agent) => {
          agent.busy = true;
          hold(agent);
          agent.process.stdin?.end();
          if (options.protocol === 'http') signalGroup(agent.process, 'SIGTERM');
          const timer = setTimeout(() => kill(agent, 'the run is over'), graceMs);
          await agent.exited;
          clearTimeout(timer);
        }),
      );
      process.off('exit', onExit);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      removeFolders();
    },
  };
}

export type CommandPool = ReturnType<typeof createCommandPool>;

/** An answer checked against the trace in flight (`traceId`, null when none is). */
function checkAnswer(text: string, traceId: string | null): { ok: true; value: Record<string, unknown> } | { ok: false; why: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, why: `not JSON: ${snippet(text)}` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, why: `not a JSON object: ${snippet(text)}` };
  const answer = value as Record<string, unknown>;
  if (typeof answer.traceId !== 'string') return { ok: false, why: 'no "traceId" string' };
  if (answer.traceId !== traceId) return { ok: false, why: `traceId ${JSON.stringify(answer.traceId)} is not the trace in flight${traceId === null ? '' : ` (${traceId})`}` };
  if (!('decision' in answer)) return { ok: false, why: 'no "decision" key' };
  const { traceId: _, ...outcome } = answer;
  return { ok: true, value: outcome };
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  } catch {
    return false;
  }
}

function snippet(text: string): string {
  const t = text.trim();
  return JSON.stringify(t.length > 120 ? `${t.slice(0, 120)}…` : t);
}

/** A port free on 127.0.0.1 now, for a trust-env `http` agent to listen on. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves true once something accepts connections on 127.0.0.1:<port>, false once `stop()` says to give up. */
async function accepting(port: number, stop: () => boolean): Promise<boolean> {
  while (!stop()) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}

