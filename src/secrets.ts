/**
 * Secrets redacted by value. A run holds keys (provider API keys, a suite's `apiKeyEnv`,
 * OTLP headers); a provider may echo one back in an answer, an error or a header, and from
 * there it would reach the cache, a cassette (committed to git), the results and reports.
 * So every writing boundary passes its text through one `Redactor`, built once per run
 * from the values, which replaces each value (and its URL-encoded, base64 and JSON-escaped
 * forms) with `[redacted:NAME]`. Pure: the values are passed in.
 */

/** A value to keep out of everything written, and the name it is replaced by. */
export interface Secret {
  name: string;
  value: string;
}

export interface Redactor {
  /** The names of the secrets it removes (for the README's and the tests' sake; never the values). */
  readonly names: readonly string[];
  /** The text with every form of every secret replaced by `[redacted:NAME]`. */
  text(text: string): string;
  /** A copy of a JSON-like value with every string (keys included) redacted; the value itself when nothing changes. */
  value<T>(value: T): T;
}

/**
 * Values shorter than this are not redacted: a short value (`true`, `1`, `dev`) is a
 * common word, and replacing it everywhere would garble the output without protecting anything.
 */
export const MIN_SECRET_LENGTH = 8;

/** The replacement of a secret's value. */
const redactedMark = (name: string) => `[redacted:${name}]`;

/** Every form in which a value may be written: as it is, URL-encoded, base64 (plain and URL-safe) and JSON-escaped. */
function formsOf(value: string): string[] {
  const base64 = Buffer.from(value, 'utf8').toString('base64');
  const forms = [
    value,
    encodeURIComponent(value),
    base64,
    base64.replace(/=+$/, ''),
    Buffer.from(value, 'utf8').toString('base64url'),
    JSON.stringify(value).slice(1, -1),
  ];
  return [...new Set(forms)].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

/**
 * A Redactor for these secrets. Longer forms are replaced first, so that a secret that
 * contains another is replaced whole; values under `MIN_SECRET_LENGTH` are ignored.
 * @example createRedactor([{ name: 'OPENAI_API_KEY', value: env.OPENAI_API_KEY }]).text(body)
 */
export function createRedactor(secrets: readonly Secret[]): Redactor {
  const usable = secrets.filter((s) => s.value.length >= MIN_SECRET_LENGTH);
  const replacements = new Map<string, string>();
  for (const { name, value } of usable) for (const form of formsOf(value)) if (!replacements.has(form)) replacements.set(form, redactedMark(name));
  const forms = [...replacements.keys()].sort((a, b) => b.length - a.length);
  if (forms.length === 0) return NO_REDACTION;
  const pattern = new RegExp(forms.map(escapeRegExp).join('|'), 'g');
  const text = (input: string) => input.replace(pattern, (found) => replacements.get(found)!);
  const value = <T>(input: T): T => redactValue(input, text) as T;
  return { names: [...new Set(usable.map((s) => s.name))], text, value };
}

/** Redacts nothing: for library callers that hold no secrets. */
export const NO_REDACTION: Redactor = { names: [], text: (t) => t, value: (v) => v };

/**
 * The secrets an environment holds under these variable names. A variable holding
 * OTLP headers (`k1=v1,k2=v2`) gives each header value as well as the whole text.
 */
export function secretsFromEnv(env: Record<string, string | undefined>, names: Iterable<string>): Secret[] {
  const out: Secret[] = [];
  for (const name of new Set(names)) {
    const value = env[name];
    if (!value) continue;
    out.push({ name, value });
    if (/HEADERS$/.test(name)) out.push(...headerValues(value).map((v) => ({ name, value: v })));
  }
  return out;
}

/**
 * The credentials a URL carries: its password, its whole userinfo (`user:password`, as it is
 * written and decoded) and its query values (a token may travel under any name). The userinfo
 * is read by `splitUserinfo`, not by `URL`, so that a password holding a raw `#`, `/` or `?`
 * (which `URL` refuses, or reads as a host and a path) is a secret all the same.
 */
export function secretsInUrl(name: string, url: string | undefined): Secret[] {
  if (!url) return [];
  const split = splitUserinfo(url);
  const values: string[] = [];
  if (split?.userinfo) {
    const { userinfo } = split;
    const colon = userinfo.indexOf(':');
    const password = colon < 0 ? '' : userinfo.slice(colon + 1);
    values.push(password, safeDecode(password), userinfo, safeDecode(userinfo));
  }
  const parsed = parseUrl(split ? `${split.scheme}${split.rest}` : url);
  if (parsed) values.push(...parsed.searchParams.values());
  return [...new Set(values)].filter(Boolean).map((value) => ({ name, value }));
}

/**
 * What starts a URL: `scheme://`, or a scheme of two or more letters and `:` with at most one
 * slash (`postgres:/u:p@h`, a mistyped URL, still carries credentials; `C:` is a drive, not a scheme).
 */
const SCHEME_SLASHES = /^(?:[a-z][a-z0-9+.-]*:\/\/|[a-z][a-z0-9+.-]+:\/?)/i;

/**
 * A `scheme://` value cut at its userinfo: everything from `://` (or `:`) to the LAST `@` is
 * credentials (`userinfo`, undefined when there is no `@`), `rest` what follows it. The last
 * `@`, because a password may hold any character, `@`, `#`, `/` and `?` included, written raw;
 * a query holding an `@` makes it mask too much, never too little. Undefined for a value
 * that does not start with a scheme.
 */
function splitUserinfo(url: string): { scheme: string; userinfo: string | undefined; rest: string } | undefined {
  const scheme = SCHEME_SLASHES.exec(url)?.[0];
  if (!scheme) return undefined;
  const at = url.lastIndexOf('@');
  if (at < scheme.length) return { scheme, userinfo: undefined, rest: url.slice(scheme.length) };
  return { scheme, userinfo: url.slice(scheme.length, at), rest: url.slice(at + 1) };
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

/** The values of an OTLP headers list (`key=value,key2=value2`, values URL-encoded), raw and decoded. */
function headerValues(list: string): string[] {
  return list.split(',').flatMap((pair) => {
    const at = pair.indexOf('=');
    if (at < 0) return [];
    const raw = pair.slice(at + 1).trim();
    let decoded = raw;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      // not URL-encoded: the raw value is the value
    }
    // `Authorization=Bearer xyz`: the token alone is the secret, whatever the scheme word.
    const token = decoded.replace(/^(Bearer|Basic|Token)\s+/i, '');
    return [raw, decoded, token];
  });
}

function redactValue(input: unknown, text: (s: string) => string): unknown {
  if (typeof input === 'string') return text(input);
  if (Array.isArray(input)) {
    const out = input.map((v) => redactValue(v, text));
    return out.every((v, i) => v === input[i]) ? input : out;
  }
  if (input !== null && typeof input === 'object' && Object.getPrototypeOf(input) === Object.prototype) {
    let changed = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(input)) {
      const key = text(k);
      const redacted = redactValue(v, text);
      if (key !== k || redacted !== v) changed = true;
      out[key] = redacted;
    }
    return changed ? out : input;
  }
  return input;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A URL fit to print: its userinfo (user and password, everything from `://` to the last `@`)
 * replaced by `***`, and its query values too. A query that does not parse loses all of it.
 * @example withoutCredentials('postgres://app:s3cret@db:5432/sg') // 'postgres://***@db:5432/sg'
 */
export function withoutCredentials(url: string): string {
  const split = splitUserinfo(url);
  const masked = split ? `${split.scheme}${split.userinfo === undefined ? '' : '***@'}${split.rest}` : url;
  const query = masked.indexOf('?');
  if (query < 0) return masked;
  const parsed = parseUrl(masked);
  if (!parsed) return `${masked.slice(0, query)}?***`;
  for (const key of [...new Set(parsed.searchParams.keys())]) parsed.searchParams.set(key, '***');
  return parsed.toString();
}
