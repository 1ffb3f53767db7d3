import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../errors.js';
import { createRedactor, secretsInUrl, withoutCredentials } from '../secrets.js';
import { DEFAULT_DB, describeDb, parseDb } from './open.js';

describe('parseDb', () => {
  it('reads a path (or nothing) as a SQLite file under cwd, and postgres:// or postgresql:// as PostgreSQL', () => {
    expect(parseDb('db/a.db', '/work')).toEqual({ kind: 'sqlite', file: resolve('/work', 'db/a.db') });
    expect(parseDb(undefined, '/work')).toEqual({ kind: 'sqlite', file: resolve('/work', DEFAULT_DB) });
    expect(parseDb('postgres://u:p@h/db', '/work')).toEqual({ kind: 'postgres', url: 'postgres://u:p@h/db' });
    expect(parseDb('PostgreSQL://h/db', '/work')).toEqual({ kind: 'postgres', url: 'PostgreSQL://h/db' });
  });

  it('refuses any other URL scheme, naming the value without its credentials', () => {
    expect(() => parseDb('mysql://root:hunter2hunter2@db/sg', '/work')).toThrow(UsageError);
    expect(() => parseDb('mysql://root:hunter2hunter2@db/sg', '/work')).toThrow('--db mysql://***@db/sg: unsupported URL scheme');
    expect(() => parseDb('sqlite:///tmp/x.db', '/work')).toThrow(UsageError);
  });

  it('never reads a value that starts with a scheme as a file: postgres: without // is a malformed URL, another scheme unsupported; a drive letter is a path', () => {
    expect(() => parseDb('postgres:/sg:hunter2hunter2@127.0.0.1/sgdb', '/work')).toThrow('--db postgres:/***@127.0.0.1/sgdb: malformed PostgreSQL URL');
    expect(() => parseDb('postgresql:sg@127.0.0.1/sgdb', '/work')).toThrow('--db postgresql:***@127.0.0.1/sgdb: malformed PostgreSQL URL');
    expect(() => parseDb('mysql:/root:hunter2hunter2@db/sg', '/work')).toThrow('--db mysql:/***@db/sg: unsupported URL scheme');
    expect(() => parseDb('file:db/a.db', '/work')).toThrow('unsupported URL scheme');
    expect(parseDb('C:/data/a.db', '/work')).toEqual({ kind: 'sqlite', file: resolve('/work', 'C:/data/a.db') });
    expect(parseDb('C:\\data\\a.db', '/work').kind).toBe('sqlite');
  });
});

describe('a database URL as a secret', () => {
  const url = 'postgres://app:s3cret-Pa%24%24word@db.internal:5432/sg?sslpassword=client-key-pass';

  it('prints without its userinfo and query values', () => {
    expect(withoutCredentials(url)).toBe('postgres://***@db.internal:5432/sg?sslpassword=***');
    expect(describeDb(url)).toBe(withoutCredentials(url));
    expect(describeDb('db/a.db')).toBe('db/a.db');
    expect(withoutCredentials('postgres://u:p@[bad')).toBe('postgres://***@[bad');
  });

  it('gives its password (decoded and as written), its whole userinfo and its query values to the redactor', () => {
    const redactor = createRedactor(secretsInUrl('--db', url));
    const text = `connecting to ${url} with s3cret-Pa$$word as app:s3cret-Pa$$word`;
    const redacted = redactor.text(text);
    for (const secret of ['s3cret-Pa$$word', 's3cret-Pa%24%24word', 'client-key-pass']) expect(redacted).not.toContain(secret);
    expect(redacted).toContain('[redacted:--db]');
  });
});
