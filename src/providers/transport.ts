import { createHash } from 'node:crypto';
import { ShadowgateError } from '../errors.js';
import { canonicalJson } from '../trace/canonical.js';
import { realClock, type Clock, type RateLimiter } from './rate-limit.js';
import { collectStream, streamKind, withStreamUsage } from './stream.js';

/**
 * One provider exchange as it is cached and written to cassettes: the method,
 * URL and canonical JSON body of the request, and the status and body of the
 * answer. Headers are never kept, so keys, Authorization and cookies never are.
 */
export interface Exchange {
  key: string;
  request: { method: string; url: string; body: unknown };
  response: { status: number; body: string };
  /** How long the provider took to answer, so that a replayed answer reports the latency of the original. */
  latencyMs?: number;
}

export interface ExchangeSource {
  get(key: string): Exchange | undefined;
}

export interface ExchangeSink {
  put(exchange: Exchange): void;
}

export interface RetryPolicy {
  /** Attempts in all, the first included. @default 4 */
  maxAttempts: number;
  /** First backoff, doubled each attempt, with full jitter. @default 500 */
  baseDelayMs: number;
  /** @default 30000 */
  maxDelayMs: number;
  /** Per attempt. @default 60000 */
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 60_000 };

export interface TransportOptions {
  /** `replay-only`: every answer comes from `cassette`; a miss fails the call, naming it. */
  mode: 'live' | 'replay-only';
  cache?: ExchangeSource & ExchangeSink;
  cassette?: ExchangeSource;
  /** Receives every exchange the run sees (network, cache or cassette), for `--record`. */
  recorder?: ExchangeSink;
  limiter?: RateLimiter;
  retry?: Partial<RetryPolicy>;
  /** The network. @default globalThis.fetch */
  fetch?: typeof fetch;
  clock?: Clock;
  random?: () => number;
  /**
   * A second, independent run of the same candidate (an A/A run for the noise floor) uses
   * replica 1: its requests get keys of their own, so the cache does not answer them with
   * the first run's answers. @default 0
   */
  replica?: number;
}

export interface TransportStats {
  /** Requests the candidate made. */
  requests: number;
  cacheHits: number;
  cassetteHits: number;
  /** Requests that went to the network (each counted once, however many attempts). */
  network: number;
  retries: number;
}

/** Request header through which a provider passes the trial index into the cache key; never sent on. */
export const TRIAL_HEADER = 'x-shadowgate-trial';
/** Response header that tells a provider where its answer came from. */
export const SOURCE_HEADER = 'x-shadowgate-source';
/** Response header with the original latency of an answer served from the cache or a cassette. */
export const LATENCY_HEADER = 'x-shadowgate-latency-ms';
/** Placeholder credential for calls that may be answered without the network: a call that needs the network is refused. */
export const NO_KEY = 'shadowgate-no-key';
/** What is sent as the key to a suite's own server (`baseURL`) that names no key: never a real one. */
export const KEY_NOT_NEEDED = 'not-needed';

/**
 * The key for a provider's calls. The provider's own endpoint gets its usual
 * environment variable; a suite's `baseURL` gets only the variable the suite names
 * (`apiKeyEnv`), so that a changed `baseURL` cannot carry a secret elsewhere.
 */
export function apiKeyFor(
  defaultEnv: string,
  target: { baseURL?: string; apiKeyEnv?: string },
  env: Record<string, string | undefined>,
): string {
  if (!target.baseURL) return env[defaultEnv] || NO_KEY;
  if (!target.apiKeyEnv) return KEY_NOT_NEEDED;
  return env[target.apiKeyEnv] || NO_KEY;
}

/** A call that `--replay-only` could not serve from the cassette. */
export class CassetteMissError extends ShadowgateError {
  constructor(request: Exchange['request'], key: string, trial: number) {
    const model = (request.body as { model?: unknown } | null)?.model;
    const messages = (request.body as { messages?: unknown[] } | null)?.messages;
    const at = [model ? `model ${String(model)}` : '', `trial ${trial}`, Array.isArray(messages) ? `${messages.length} message(s)` : ''].filter(Boolean).join(', ');
    super('SG_NOT_FOUND', `no cassette entry for ${request.method} ${request.url} (${at}), request key ${key.slice(0, 16)}`, {
      hint: 'record the cassette again with --record, with the provider reachable',
    });
  }
}

export class MissingApiKeyError extends ShadowgateError {
  constructor(url: string) {
    super('SG_CONFIG_INVALID', `no API key for ${new URL(url).origin}, and the call is neither cached nor in a cassette`, {
      hint: 'set OPENAI_API_KEY or ANTHROPIC_API_KEY, or run with --replay-only and a recorded cassette',
    });
  }
}

const RETRIABLE = new Set([408, 409, 425, 429, 500, 502, 503, 504, 529]);

/** The cache and cassette key of a request: method, URL, canonical body, trial (and replica); never headers. */
export function exchangeKey(method: string, url: string, body: unknown, trial: number, replica = 0): string {
  return createHash('sha256')
    .update(canonicalJson({ method, url, body, trial, ...(replica ? { replica } : {}) }))
    .digest('hex');
}

/**
 * A `fetch` for the provider SDKs that serves from the cassette or the cache
 * where it can, and otherwise calls the network within the rate limits, retrying
 * 429 and 5xx with exponential backoff and jitter (honouring `retry-after`) and
 * timing out each attempt.
 */
export function createTransport(options: TransportOptions) {
  // Looked up per call, so that an interceptor installed later (msw, nock) is seen.
  const net: typeof fetch = (url, init) => (options.fetch ?? globalThis.fetch)(url, init);
  const clock = options.clock ?? realClock;
  const random = options.random ?? Math.random;
  const retry = { ...DEFAULT_RETRY, ...options.retry };
  const stats: TransportStats = { requests: 0, cacheHits: 0, cassetteHits: 0, network: 0, retries: 0 };

  // A streamed request is answered as a stream, whole: the SSE text the provider sent.
  const answer = (exchange: Exchange, source: string) =>
    new Response(exchange.response.body, {
      status: exchange.response.status,
      headers: {
        'content-type': streamKind(exchange.request.url, exchange.request.body) ? 'text/event-stream' : 'application/json',
        [SOURCE_HEADER]: source,
        ...(exchange.latencyMs !== undefined ? { [LATENCY_HEADER]: String(exchange.latencyMs) } : {}),
      },
    });

  async function transportFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = (init.method ?? 'GET').toUpperCase();
    const headers = new Headers(init.headers);
    const trial = Number(headers.get(TRIAL_HEADER) ?? 0);
    headers.delete(TRIAL_HEADER);
    const sent = typeof init.body === 'string' ? init.body : init.body == null ? '' : await new Response(init.body).text();
    const asSent = sent ? safeJson(sent) : null;
    // Forwarded, cached and recorded with the usage a stream must report to be priced.
    const body = withStreamUsage(url, asSent);
    const bodyText = body === asSent ? sent : JSON.stringify(body);
    const request = { method, url: stripQuerySecrets(url), body };
    const key = exchangeKey(method, request.url, body, trial, options.replica);
    stats.requests++;

    const served = (exchange: Exchange, source: 'cache' | 'cassette') => {
      options.recorder?.put(exchange);
      return answer(exchange, source);
    };
    if (options.mode === 'replay-only') {
      const hit = options.cassette?.get(key);
      if (!hit) throw new CassetteMissError(request, key, trial);
      stats.cassetteHits++;
      return served(hit, 'cassette');
    }
    const cached = options.cache?.get(key);
    if (cached) {
      stats.cacheHits++;
      return served(cached, 'cache');
    }
    if (hasPlaceholderKey(headers)) throw new MissingApiKeyError(url);

    stats.network++;
    const estimate = estimateTokens(body);
    for (let attempt = 1; ; attempt++) {
      const release = (await options.limiter?.acquire(estimate)) ?? (() => {});
      let response: Response | undefined;
      let failure: unknown;
      const started = clock.now();
      try {
        const signal = init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(retry.timeoutMs)]) : AbortSignal.timeout(retry.timeoutMs);
        response = await net(url, { ...init, headers, body: bodyText || undefined, signal });
      } catch (error) {
        if (init.signal?.aborted) {
          release();
          throw error;
        }
        failure = error;
      }
      if (response && !RETRIABLE.has(response.status)) {
        const text = await response.text();
        release(usedTokens(url, body, text) ?? estimate);
        if (response.ok) {
          const exchange: Exchange = { key, request, response: { status: response.status, body: text }, latencyMs: clock.now() - started };
          options.cache?.put(exchange);
          options.recorder?.put(exchange);
        }
        const headers = new Headers(response.headers);
        headers.set(LATENCY_HEADER, String(clock.now() - started)); // the provider's time, not the wait for a slot
        return new Response(text, { status: response.status, headers });
      }
      release();
      if (attempt >= retry.maxAttempts) {
        if (response) return response;
        throw failure;
      }
      stats.retries++;
      await clock.sleep(backoff(attempt, response?.headers, retry, random));
    }
  }

  return { fetch: transportFetch as typeof fetch, stats };
}

/** The longest `retry-after` honoured: a server asking for more is treated as down. */
const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** Delay before the next attempt: the server's `retry-after(-ms)` if given (a request sooner would be refused again), else full-jitter exponential backoff. */
export function backoff(attempt: number, headers: Headers | undefined, retry: RetryPolicy, random: () => number): number {
  const ms = headers?.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.min(Number(ms), MAX_RETRY_AFTER_MS);
  const after = headers?.get('retry-after');
  if (after) {
    const seconds = Number(after);
    const delay = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(after) - Date.now();
    if (Number.isFinite(delay) && delay >= 0) return Math.min(delay, MAX_RETRY_AFTER_MS);
  }
  return random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
}

function hasPlaceholderKey(headers: Headers): boolean {
  return headers.get('authorization') === `Bearer ${NO_KEY}` || headers.get('x-api-key') === NO_KEY;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A URL as it may be recorded: no user name or password, and every query value
 * replaced (a query may carry a token under any name); the names stay, to tell requests apart.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(unparsable URL)';
  }
  parsed.username = '';
  parsed.password = '';
  parsed.hash = '';
  const names = [...parsed.searchParams.keys()];
  parsed.search = '';
  const query = names.map((name) => `${encodeURIComponent(name)}=…`).join('&');
  return query ? `${parsed.href}?${query}` : parsed.href;
}

/** Drops query parameters that carry credentials (`key`, `api-key`, tokens) from a URL before it is stored. */
export function stripQuerySecrets(url: string): string {
  const u = new URL(url);
  for (const name of [...u.searchParams.keys()]) if (/key|token|secret|sig|auth/i.test(name)) u.searchParams.delete(name);
  return u.href;
}

/** A rough token count of a request, for tokens-per-minute limits before the real count is known. */
function estimateTokens(body: unknown): number {
  const b = body as { max_tokens?: number; max_completion_tokens?: number } | null;
  const output = b?.max_completion_tokens ?? b?.max_tokens ?? 256;
  return Math.ceil(JSON.stringify(body ?? '').length / 4) + output;
}

/** The tokens an answer used, from either API's usage block (a stream's, once folded). */
function usedTokens(url: string, body: unknown, text: string): number | undefined {
  const kind = streamKind(url, body);
  const usage = ((kind ? collectStream(kind, text) : safeJson(text)) as { usage?: Record<string, number> } | null)?.usage;
  if (!usage || typeof usage !== 'object') return undefined;
  if (typeof usage.total_tokens === 'number') return usage.total_tokens;
  const sum = (usage.input_tokens ?? 0) + (usage.output_tokens ?? 0);
  return sum > 0 ? sum : undefined;
}
