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
 * written and decoded) and its query values (a token may travel under any name).
 */
export function secretsInUrl(name: string, url: string | undefined): Secret[] {
  if (!url) return [];
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  const password = safeDecode(parsed.password);
  const userinfo = parsed.password ? [`${parsed.username}:${parsed.password}`, `${safeDecode(parsed.username)}:${password}`] : [];
  const values = [password, ...userinfo, ...parsed.searchParams.values()];
  return [...new Set(values)].filter(Boolean).map((value) => ({ name, value }));
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
 * A URL fit to print: its userinfo (user and password) and its query values replaced by `***`.
 * Text that does not parse as a URL loses everything between `//` and `@` the same way.
 * @example withoutCredentials('postgres://app:s3cret@db:5432/sg') // 'postgres://***@db:5432/sg'
 */
export function withoutCredentials(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/\/\/[^/?#]*@/, '//***@');
  }
  const hadUserinfo = parsed.username !== '' || parsed.password !== '';
  parsed.username = '';
  parsed.password = '';
  for (const key of [...new Set(parsed.searchParams.keys())]) parsed.searchParams.set(key, '***');
  const text = parsed.toString();
  return hadUserinfo ? text.replace('//', '//***@') : text;
}
