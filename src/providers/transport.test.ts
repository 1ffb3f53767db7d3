import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY, backoff, createTransport, exchangeKey, redactUrl, stripQuerySecrets, type Exchange } from './transport.js';

describe('exchangeKey', () => {
  it('depends on the canonical body and the trial, not on key order', () => {
    const a = exchangeKey('POST', 'https://x/v1/chat', { model: 'm', messages: [1] }, 0);
    expect(exchangeKey('POST', 'https://x/v1/chat', { messages: [1], model: 'm' }, 0)).toBe(a);
    expect(exchangeKey('POST', 'https://x/v1/chat', { model: 'm', messages: [1] }, 1)).not.toBe(a);
  });
});

describe('backoff', () => {
  const random = () => 0.5;
  it('honours retry-after in seconds and as an HTTP date, and retry-after-ms', () => {
    expect(backoff(1, new Headers({ 'retry-after': '3' }), DEFAULT_RETRY, random)).toBe(3000);
    expect(backoff(1, new Headers({ 'retry-after-ms': '250' }), DEFAULT_RETRY, random)).toBe(250);
    const inTwoSeconds = new Date(Date.now() + 2000).toUTCString();
    expect(backoff(1, new Headers({ 'retry-after': inTwoSeconds }), DEFAULT_RETRY, random)).toBeGreaterThan(500);
  });

  it('otherwise doubles with full jitter, capped', () => {
    const retry = { ...DEFAULT_RETRY, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5].map((n) => backoff(n, undefined, retry, random))).toEqual([50, 100, 200, 400, 500]);
  });
});

describe('redactUrl', () => {
  it('drops credentials and every query value, keeping the names', () => {
    expect(redactUrl('https://user:pw@api.example.com/v1/x?api_key=s3cret&page=2#frag')).toBe('https://api.example.com/v1/x?api_key=…&page=…');
    expect(redactUrl('http://127.0.0.1:8080/a')).toBe('http://127.0.0.1:8080/a');
    expect(redactUrl('not a url')).toBe('(unparsable URL)');
  });
});

describe('stripQuerySecrets', () => {
  it('drops credential-like query parameters and keeps the rest', () => {
    expect(stripQuerySecrets('https://x.example/v1/chat?api-version=2024-10&api_key=abc&sig=zz')).toBe(
      'https://x.example/v1/chat?api-version=2024-10',
    );
  });
});

describe('createTransport', () => {
  const body = JSON.stringify({ model: 'm', messages: [] });
  const ok = () => new Response('{"ok":true,"usage":{"total_tokens":5}}', { status: 200 });

  it('stores successful exchanges without any header, and answers the same request from the cache next time', async () => {
    const store = new Map<string, Exchange>();
    const cache = { get: (k: string) => store.get(k), put: (e: Exchange) => void store.set(e.key, e) };
    let calls = 0;
    const transport = createTransport({ mode: 'live', cache, fetch: async () => (calls++, ok()) });
    const init = { method: 'POST', body, headers: { authorization: 'Bearer sk-secret', cookie: 'a=b' } };
    await transport.fetch('https://api.example/v1/chat', init);
    const again = await transport.fetch('https://api.example/v1/chat', init);
    expect(calls).toBe(1);
    expect(again.headers.get('x-shadowgate-source')).toBe('cache');
    expect(await again.json()).toEqual({ ok: true, usage: { total_tokens: 5 } });
    expect(JSON.stringify([...store.values()])).not.toMatch(/sk-secret|cookie|authorization/i);
    expect(transport.stats).toEqual({ requests: 2, cacheHits: 1, cassetteHits: 0, network: 1, retries: 0 });
  });

  it('does not cache failures', async () => {
    const store = new Map<string, Exchange>();
    const cache = { get: (k: string) => store.get(k), put: (e: Exchange) => void store.set(e.key, e) };
    const transport = createTransport({ mode: 'live', cache, fetch: async () => new Response('{"error":{}}', { status: 400 }) });
    const res = await transport.fetch('https://api.example/v1/chat', { method: 'POST', body });
    expect(res.status).toBe(400);
    expect(store.size).toBe(0);
  });
});
