/**
 * A throwaway PostgreSQL cluster for the tests and the store bench: started from the server
 * binaries (initdb, pg_ctl on PATH or under /usr/lib/postgresql/<version>/bin) in a fresh
 * temporary folder, on a free port of 127.0.0.1 with trust authentication, as the `postgres`
 * user when we are root (initdb refuses root), stopped and deleted by `stop()`.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const POSTGRES_MISSING =
  "no PostgreSQL server binaries: install Debian's `postgresql` package (initdb and pg_ctl), or name a server";

function findBinDir() {
  const onPath = (process.env.PATH ?? '').split(':').find((dir) => dir && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')));
  if (onPath) return onPath;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(root, v, 'bin')).find((dir) => existsSync(join(dir, 'initdb'))) ?? null;
}

function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Runs a server binary, as the `postgres` user when we are root. */
function asServerUser(command, args) {
  const root = process.getuid?.() === 0;
  const [file, argv] = root ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
  // runuser lives in sbin, which a user's PATH may lack.
  execFileSync(file, argv, { stdio: 'pipe', timeout: 60_000, env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` } });
}

/**
 * Starts a cluster. Resolves to `{ url, stop }`, or to `{ missing }` (why there is none: no
 * server binaries, or the server would not start) so that the caller says it.
 * @returns {Promise<{ url: string; stop: () => void } | { missing: string }>}
 */
export async function startThrowawayPostgres() {
  const bin = findBinDir();
  if (!bin) return { missing: POSTGRES_MISSING };
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
    const stderr = error?.stderr?.toString() ?? String(error);
    return { missing: `could not start a throwaway PostgreSQL from ${bin}: ${stderr.trim()}` };
  }
  return {
    // The `postgres` database initdb makes is the caller's own.
    url: `postgres://shadowgate@127.0.0.1:${port}/postgres`,
    stop: () => {
      try {
        asServerUser(ctl, ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
