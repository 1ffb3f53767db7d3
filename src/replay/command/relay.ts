/**
 * The first process inside a command candidate's network namespace (see sandbox.ts). The
 * namespace has only a loopback interface; the relay makes shadowgate's gateway reachable on it:
 *
 *   node relay.js --gateway <socket> --port <p> [--agent-socket <path> --agent-port <q>] -- <command…>
 *
 * - every connection to 127.0.0.1:<p> is piped to the gateway listener's Unix socket, the one
 *   way out of the namespace;
 * - with `--agent-socket` (the `http` protocol), connections to that Unix socket (in a folder
 *   bound from outside) are piped to the agent's 127.0.0.1:<q>, so that shadowgate can post
 *   traces to it; the socket is only made once the agent accepts connections, so that its
 *   existence says the agent is ready;
 * - it starts the agent with its stdio, exits with the agent's code, and writes `ready` on
 *   file descriptor 3 (a pipe from shadowgate) once the agent is started (and, for `http`,
 *   accepts connections), or the reason it could not start it on its stderr.
 *
 * It imports nothing from shadowgate: it is the whole of shadowgate's code inside the namespace.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { constants } from 'node:os';

interface RelayArgs {
  gateway: string;
  port: number;
  agentSocket?: string;
  agentPort?: number;
  command: string[];
}

function parseArgs(argv: string[]): RelayArgs {
  const split = argv.indexOf('--');
  const flags = split < 0 ? argv : argv.slice(0, split);
  const command = split < 0 ? [] : argv.slice(split + 1);
  const value = (name: string) => {
    const i = flags.indexOf(name);
    return i >= 0 ? flags[i + 1] : undefined;
  };
  const gateway = value('--gateway');
  const port = Number(value('--port'));
  const agentSocket = value('--agent-socket');
  const agentPort = value('--agent-port') === undefined ? undefined : Number(value('--agent-port'));
  if (!gateway || !Number.isInteger(port) || command.length === 0 || (agentSocket !== undefined) !== (agentPort !== undefined)) {
    throw new Error('usage: relay.js --gateway <socket> --port <port> [--agent-socket <path> --agent-port <port>] -- <command...>');
  }
  return { gateway, port, ...(agentSocket !== undefined ? { agentSocket, agentPort } : {}), command };
}

/** Pipes two sockets both ways; either side's end or error ends both. */
function pipeBoth(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  const end = () => (a.destroy(), b.destroy());
  a.on('error', end).on('close', end);
  b.on('error', end).on('close', end);
}

function listen(server: ReturnType<typeof createServer>, ...at: [number, string] | [string]): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(...(at as [number, string]), () => (server.off('error', reject), resolve()));
  });
}

/** Resolves once something accepts connections on 127.0.0.1:<port>. */
async function accepting(port: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const toGateway = createServer((inbound) => pipeBoth(inbound, connect(args.gateway)));
  await listen(toGateway, args.port, '127.0.0.1');

  const agent = spawn(args.command[0]!, args.command.slice(1), { stdio: 'inherit' });
  const started = await new Promise<boolean>((resolve) => {
    agent.once('spawn', () => resolve(true));
    agent.once('error', (error) => {
      process.stderr.write(`shadowgate relay: cannot start ${args.command[0]}: ${error.message}\n`);
      resolve(false);
    });
  });
  if (!started) process.exit(127);
  // Signals to the relay reach the agent; the agent's end is the relay's.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => agent.kill(signal));
  agent.once('exit', (code, signal) => process.exit(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));

  if (args.agentSocket !== undefined && args.agentPort !== undefined) {
    await accepting(args.agentPort);
    const port = args.agentPort;
    const toAgent = createServer((inbound) => pipeBoth(inbound, connect(port, '127.0.0.1')));
    await listen(toAgent, args.agentSocket);
  }
  ready();
}

/** Tells shadowgate, on file descriptor 3, that the agent is started; nothing if fd 3 is not open. */
function ready(): void {
  try {
    const out = createWriteStream('', { fd: 3 });
    out.on('error', () => {});
    out.end('ready\n');
  } catch {
    // no readiness pipe: a relay run by hand
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`shadowgate relay: ${(error as Error).message}\n`);
  process.exit(126);
});
