/**
 * Vitest globalSetup: a PostgreSQL server for the store tests. `SHADOWGATE_TEST_PG_URL` names
 * one to use; otherwise a throwaway cluster is started from the server binaries (initdb,
 * pg_ctl on PATH or under /usr/lib/postgresql/<version>/bin), in a fresh temporary folder, on
 * a free port of 127.0.0.1 with trust authentication, as an unprivileged user (initdb refuses
 * root), and stopped and deleted after the tests. When neither is there, the tests that need
 * PostgreSQL fail with the reason (`provide('pgUrl')` is null, `pgMissing` says why).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string | null;
    pgMissing: string;
  }
}

const MISSING = "no PostgreSQL for the store tests: install Debian's `postgresql` package (its server binaries, initdb and pg_ctl), or set SHADOWGATE_TEST_PG_URL to a database the tests may create schemas in";

function findBinDir(): string | null {
  const onPath = (process.env.PATH ?? '').split(':').find((dir) => dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  if (onPath) return onPath;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  const found = versions.map((v) => join(root, v, 'bin')).find((dir) => existsSync(join(dir, 'initdb')));
  return found ?? null;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** Runs a server binary, as the `postgres` user when we are root (initdb and postgres refuse root). */
function asServerUser(command: string, args: string[]): void {
  const root = process.getuid?.() === 0;
  const [file, argv] = root ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  // runuser lives in sbin, which a user's PATH may lack.
  execFileSync(file, argv, { stdio: 'pipe', timeout: 60_000, env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } });
}

export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  const given = process.env.SHADOWGATE_TEST_PG_URL;
  if (given) {
    project.provide('pgUrl', given);
    project.provide('pgMissing', '');
    return undefined;
  }
  const bin = findBinDir();
  if (!bin) {
    project.provide('pgUrl', null);
    project.provide('pgMissing', MISSING);
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'shadowgate-pg-'));
  // The server user must reach the folder; it is ours and deleted afterwards.
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const port = await freePort();
  const ctl = join(bin, 'pg_ctl');
  try {
    asServerUser(join(bin, 'initdb'), ['-D', data, '-U', 'shadowgate', '--auth=trust', '--no-sync', '-E', 'UTF8']);
    asServerUser(ctl, ['-D', data, '-l', join(dir, 'server.log'), '-w', '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`, 'start']);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? String(error);
    project.provide('pgUrl', null);
    project.provide('pgMissing', `could not start a throwaway PostgreSQL from ${bin}: ${stderr.trim()}`);
    return undefined;
  }
  // The `postgres` database initdb makes is the tests' own: each test keeps to a schema of its own in it.
  project.provide('pgUrl', `postgres://shadowgate@127.0.0.1:${port}/postgres`);
  project.provide('pgMissing', '');
  return () => {
    try {
      asServerUser(ctl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
