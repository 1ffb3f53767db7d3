import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { withoutCredentials } from '../secrets.js';
import { createMemoryStore } from './memory.js';
import { createPostgresStore } from './postgres.js';
import { createSqliteStore } from './sqlite.js';
import type { Store } from './types.js';

/** Where the store is when `--db` and SHADOWGATE_DB say nothing. */
export const DEFAULT_DB = '.shadowgate/shadowgate.db';

const POSTGRES = /^postgres(ql)?:\/\//i;
const POSTGRES_SCHEME = /^postgres(ql)?:/i;
/**
 * Anything that starts with a URL scheme (two or more letters, so that a Windows drive `C:` is
 * still a path): a URL, never a file name, whether `//` follows or not.
 */
const URL_LIKE = /^[a-z][a-z0-9+.-]+:/i;

/** What a `--db` value names: a SQLite file (resolved against cwd) or a PostgreSQL URL. */
export type DbTarget = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

/**
 * Reads a `--db` value: `postgres://` or `postgresql://` is PostgreSQL; `postgres:` without `//`
 * a malformed URL, any other scheme an unsupported one (usage errors naming the value without
 * its credentials); anything else a SQLite file.
 */
export function parseDb(value: string | undefined, cwd: string): DbTarget {
  const db = value === undefined || value === '' ? DEFAULT_DB : value;
  if (POSTGRES.test(db)) return { kind: 'postgres', url: db };
  if (POSTGRES_SCHEME.test(db)) {
    throw new UsageError(`--db ${withoutCredentials(db)}: malformed PostgreSQL URL (no // after the scheme)`, 'write it as postgres://user:password@host:port/database');
  }
  if (URL_LIKE.test(db)) {
    throw new UsageError(`--db ${withoutCredentials(db)}: unsupported URL scheme`, 'give a SQLite file path, or a postgres:// (postgresql://) URL');
  }
  return { kind: 'sqlite', file: resolve(cwd, db) };
}

/** A `--db` value fit to print and to write into reports: a URL without its credentials, a path as given. */
export function describeDb(value: string): string {
  return URL_LIKE.test(value) ? withoutCredentials(value) : value;
}

/**
 * The store a `--db` value names (or SHADOWGATE_DB, which commander has already put there),
 * created when missing. `existing`: a command that only reads (show, runs, drift, phase, review
 * export) gets an empty store when the SQLite file is not there, so that it reports that nothing
 * is stored without creating the file or its folders; a database server is always opened.
 */
export function openStore(value: string | undefined, cwd: string, options: { existing?: boolean } = {}): Store {
  const target = parseDb(value, cwd);
  if (target.kind === 'postgres') return createPostgresStore(target.url);
  if (options.existing && !existsSync(target.file)) return createMemoryStore();
  return createSqliteStore(target.file);
}
