import { describe, expect, it } from 'vitest';
import { createRedactor, secretsFromEnv, secretsInUrl, withoutCredentials } from './secrets.js';

// Made-up values: none of them is a real credential.
const KEY = 'sk-proj-abc123/def+456==';

describe('createRedactor', () => {
  const r = createRedactor([{ name: 'OPENAI_API_KEY', value: KEY }]);

  it('replaces the value and its URL-encoded, base64, base64url and JSON-escaped forms by the name', () => {
    const forms = [KEY, encodeURIComponent(KEY), Buffer.from(KEY).toString('base64'), Buffer.from(KEY).toString('base64url')];
    expect(forms.map((f) => r.text(`<${f}>`))).toEqual(forms.map(() => '<[redacted:OPENAI_API_KEY]>'));
    const quoted = createRedactor([{ name: 'K', value: 'pass"word\\x1' }]);
    expect(quoted.text(JSON.stringify({ k: 'pass"word\\x1' }))).toBe('{"k":"[redacted:K]"}');
  });

  it('ignores values shorter than 8 characters, so that common words stay', () => {
    const short = createRedactor([{ name: 'FLAG', value: 'true' }]);
    expect(short.names).toEqual([]);
    expect(short.text('true and true')).toBe('true and true');
  });

  it('replaces a secret that contains another whole, under its own name', () => {
    const nested = createRedactor([{ name: 'SHORT', value: 'abcdefgh' }, { name: 'LONG', value: 'abcdefgh-ijklmnop' }]);
    expect(nested.text('abcdefgh-ijklmnop abcdefgh')).toBe('[redacted:LONG] [redacted:SHORT]');
  });

  it('redacts every string of a JSON value, keys included, and returns the same object when nothing changes', () => {
    const clean = { a: ['x', { b: 1 }], c: null };
    expect(r.value(clean)).toBe(clean);
    expect(r.value({ id: `chatcmpl-${KEY}`, [KEY]: [KEY, 3] })).toEqual({ id: 'chatcmpl-[redacted:OPENAI_API_KEY]', '[redacted:OPENAI_API_KEY]': ['[redacted:OPENAI_API_KEY]', 3] });
  });
});

describe('the secrets a run holds', () => {
  it('reads the named variables, and each value of an OTLP headers list (URL-encoded, after its scheme word)', () => {
    const env = { OPENAI_API_KEY: 'sk-one-0123456789', OTHER: 'not-a-secret-value', OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20tok-0123456789,x-tenant=acme' };
    const values = secretsFromEnv(env, ['OPENAI_API_KEY', 'OTEL_EXPORTER_OTLP_HEADERS', 'UNSET']).map((s) => s.value);
    expect(values).toEqual(expect.arrayContaining(['sk-one-0123456789', 'tok-0123456789', 'Bearer tok-0123456789']));
    expect(values).not.toContain('not-a-secret-value');
    const r = createRedactor(secretsFromEnv(env, ['OTEL_EXPORTER_OTLP_HEADERS']));
    expect(r.text('sent tok-0123456789')).toBe('sent [redacted:OTEL_EXPORTER_OTLP_HEADERS]');
  });

  it('takes the password, the whole userinfo and the query values of an endpoint URL', () => {
    expect(secretsInUrl('--otel-endpoint', 'https://me:hunter2hunter2@otel.example/v1/traces?token=abcd1234efgh').map((s) => s.value)).toEqual(['hunter2hunter2', 'me:hunter2hunter2', 'abcd1234efgh']);
    expect(secretsInUrl('--otel-endpoint', 'not a url')).toEqual([]);
  });

  it('takes a password holding a raw #, / or ? (which URL refuses, or reads as a host and a path): everything from :// to the last @', () => {
    for (const password of ['Secret#Passw0rd', 'Secret/Passw0rd', 'Secret?Passw0rd', 'Sec@ret#Pass/w?rd']) {
      const url = `postgres://sg:${password}@127.0.0.1:55499/sgdb`;
      expect(secretsInUrl('--db', url).map((s) => s.value)).toEqual(expect.arrayContaining([password, `sg:${password}`]));
      const printed = withoutCredentials(url);
      expect(printed).toBe('postgres://***@127.0.0.1:55499/sgdb');
      expect(createRedactor(secretsInUrl('--db', url)).text(`error: ${url}: Invalid URL`)).not.toContain(password);
    }
    expect(withoutCredentials('mysql://root:My#Secret99@db/x')).toBe('mysql://***@db/x');
  });
});

describe('withoutCredentials', () => {
  it('masks the query values, and the whole query when it does not parse; leaves a value without userinfo as it is', () => {
    expect(withoutCredentials('postgres://h:5432/db?password=abcd1234efgh&x=1')).toBe('postgres://h:5432/db?password=***&x=***');
    expect(withoutCredentials('postgres://u:p@[bad/db?password=abcd1234efgh')).toBe('postgres://***@[bad/db?***');
    expect(withoutCredentials('postgres://h:5432/db')).toBe('postgres://h:5432/db');
    expect(withoutCredentials('db/a.db')).toBe('db/a.db');
  });
});
