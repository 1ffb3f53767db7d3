import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, InternalError } from '../../errors.js';

/**
 * How a command candidate's processes reach the network. `namespace`: each runs in its own
 * network namespace (Bubblewrap) whose only interface is loopback, and reaches shadowgate's
 * gateway through a relay over a Unix socket. `trust-env`: it runs directly, and only its
 * environment (base URLs, proxy variables) points it at the gateway.
 */
export type CommandNetwork = 'namespace' | 'trust-env';

/**
 * Bubblewrap: the first `bwrap` on shadowgate's PATH (an absolute folder of it), else where
 * Debian's and Fedora's packages install it. Found once, when this module loads.
 */
const BWRAP =
  (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => isAbsolute(dir))
    .map((dir) => join(dir, 'bwrap'))
    .find((file) => existsSync(file)) ?? '/usr/bin/bwrap';

/** The relay's listening port inside a namespace (the namespace is the agent's own, so any port is free). */
export const RELAY_GATEWAY_PORT = 7700;
/** The port a namespaced `http` agent is told to listen on (`SHADOWGATE_AGENT_PORT`). */
export const NAMESPACED_AGENT_PORT = 8000;

let probed: NamespaceProbe | undefined;

export type NamespaceProbe = { ok: true } | { ok: false; why: string };

/**
 * Whether a network namespace can be made here: Bubblewrap is installed and unprivileged user
 * namespaces work (they are off on some kernels, restricted by AppArmor on Ubuntu 24.04, and
 * absent on macOS and Windows). Runs `bwrap --unshare-net --ro-bind / / true` once per process
 * (`bwrap` other than the installed one: its tests).
 */
export function probeNamespace(bwrap = BWRAP): NamespaceProbe {
  if (bwrap === BWRAP && probed) return probed;
  const probe = probeWith(bwrap);
  if (bwrap === BWRAP) probed = probe;
  return probe;
}

function probeWith(bwrap: string): NamespaceProbe {
  if (process.platform !== 'linux') return { ok: false, why: `network namespaces need Linux (this is ${process.platform})` };
  if (!existsSync(bwrap)) return { ok: false, why: `Bubblewrap is not installed (${bwrap} is missing; on Debian or Ubuntu: apt-get install bubblewrap)` };
  const run = spawnSync(bwrap, ['--unshare-net', '--ro-bind', '/', '/', 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (run.error) return { ok: false, why: `${bwrap} could not be run (${run.error.message})` };
  if (run.status !== 0) {
    const said = (run.stderr ?? '').trim().split('\n').slice(-2).join(' ');
    return { ok: false, why: `${bwrap} cannot create a network namespace here (unprivileged user namespaces are disabled or restricted${said ? `: ${said}` : ''})` };
  }
  return { ok: true };
}

/** Refuses to go on without a namespace where the suite asked for one, saying what is missing and what runs without it. */
export function requireNamespace(probe: NamespaceProbe = probeNamespace()): void {
  if (probe.ok) return;
  throw new ConfigError(
    [{ file: 'sandbox.network', message: `a command candidate runs in a network namespace, and none can be made here: ${probe.why}` }],
    'install Bubblewrap (the bubblewrap package) where unprivileged user namespaces are allowed, or set `sandbox: { network: trust-env }` to run the agent without a namespace (every report then says so)',
  );
}

/**
 * The line every report prints when the agent ran without a namespace, or null when it ran in one.
 * Without one, nothing but the agent's own honouring of its environment keeps it from other addresses.
 */
export function networkLoosening(network: CommandNetwork): string | null {
  return network === 'trust-env'
    ? 'to run without a network namespace (sandbox.network: trust-env): only the requests it sent through the gateway were answered and recorded, and an address it reached directly was not seen'
    : null;
}

export interface NamespaceSpec {
  /** The only writable folder (besides a fresh /tmp that no one else sees). */
  scratchDir: string;
  /** Folders bound at the same path, writable: the relay's own socket folder. */
  binds: string[];
  /** Folders bound at the same path, read-only: the gateway listener's socket folder (a connect is not a write). */
  roBinds: string[];
  cwd: string;
  /** The agent's whole environment. */
  env: Record<string, string>;
  /** The relay's arguments (see relay.ts), then the agent's command. */
  relay: string[];
  command: string[];
}

/**
 * The Bubblewrap command line for one agent process: its own network namespace (loopback only,
 * brought up by bwrap), PID and IPC namespaces, the file system read-only but for the scratch
 * folder and the relay's socket folder, a private /tmp and /run, and the relay as its first
 * process, which starts the agent.
 */
export function bwrapCommand(spec: NamespaceSpec): { file: string; args: string[] } {
  const bind = (dir: string) => ['--bind', dir, dir];
  const relay = relayEntry();
  const args = [
    '--die-with-parent',
    '--unshare-net',
    '--unshare-pid',
    '--unshare-ipc',
    '--ro-bind', '/', '/',
    '--dev', '/dev',
    '--proc', '/proc',
    '--tmpfs', '/tmp',
    // The read-only file system still lets a process connect to the Unix sockets on it (a connect is not a
    // write): the system's live in /run (a database's, D-Bus's, Docker's) and are hidden behind an empty one.
    '--tmpfs', '/run',
    ...(isRealDir('/var/run') ? ['--tmpfs', '/var/run'] : []),
    // After the tmpfs: folders under /tmp are bound over it.
    ...bind(spec.scratchDir),
    ...spec.binds.flatMap(bind),
    ...spec.roBinds.flatMap((dir) => ['--ro-bind', dir, dir]),
    // The agent's own folder, read-only, visible even where it is under /tmp.
    '--ro-bind', spec.cwd, spec.cwd,
    // Node, the relay and the files the command names (its program), where the private /tmp hid them.
    ...[process.execPath, relay, ...spec.command.map((arg) => resolve(spec.cwd, arg))].flatMap(tmpFileBinds),
    '--chdir', spec.cwd,
    '--clearenv',
    ...Object.entries(spec.env).flatMap(([name, value]) => ['--setenv', name, value]),
    '--',
    process.execPath,
    relay,
    ...spec.relay,
    '--',
    ...spec.command,
  ];
  return { file: BWRAP, args };
}

/** The relay's entry point: next to this file in the build; from the source (tests), in the build beside it. */
export function relayEntry(): string {
  const here = fileURLToPath(import.meta.url);
  const entry = here.endsWith('.ts') ? resolve(dirname(here), '../../../dist/replay/command/relay.js') : join(dirname(here), 'relay.js');
  if (!existsSync(entry)) throw new InternalError(`the relay ${entry} is missing; run \`npm run build\``);
  return entry;
}

/**
 * The read-only binds that show a file under /tmp to the agent: at its own path, and, where it
 * is a link, at its target's. Files only (a folder such as / would bring the machine's /tmp
 * back), and only under /tmp (the rest of the file system is there, read-only, already).
 */
function tmpFileBinds(path: string): string[] {
  const underTmp = (p: string) => p.startsWith('/tmp/');
  let real: string;
  try {
    real = realpathSync(path);
    if (!statSync(real).isFile()) return [];
  } catch {
    return []; // not a path (an inline script, a flag): nothing to show
  }
  return [...new Set([path, real].filter(underTmp))].flatMap((at) => ['--ro-bind', real, at]);
}

/** A folder that is not a symbolic link (/var/run is usually a link to /run). */
function isRealDir(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}
