/**
 * Canonical JSON: object keys sorted at every depth, `-0` as `0`, `undefined`
 * members dropped. Two values are the same call argument exactly when their
 * canonical strings are equal. (Integral floats need no work: JavaScript has
 * one number type, so `1.0` and `1` already print as `1`.)
 */
export function canonicalJson(value: unknown): string {
  // Most values (a call's arguments, a decision) are canonical as they are: written at once, without the sorted copy.
  return JSON.stringify(isCanonical(value) ? value : canonicalize(value));
}

/**
 * Whether `JSON.stringify(value)` is already `value`'s canonical JSON: plain objects whose keys
 * are in sorted order, arrays, strings, finite numbers, booleans and null, at every depth.
 * Anything else (an unsorted or integer-like key, `undefined`, a class instance) takes the copy.
 */
function isCanonical(value: unknown): boolean {
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return !Object.is(value, -0);
    case 'object':
      break;
    default:
      return false;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isCanonical(value[i])) return false;
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    // An own `__proto__` (JSON.parse makes one) is dropped by the copy, which sets it as the prototype.
    if ((i > 0 && !(keys[i - 1]! < key)) || key === '__proto__') return false;
    if (!isCanonical((value as Record<string, unknown>)[key])) return false;
  }
  return true;
}

export function canonicalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : canonicalize(v)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonicalize(v);
    }
    return out;
  }
  if (typeof value === 'number' && Object.is(value, -0)) return 0;
  return value;
}

/** Ignore lists split into their paths once: the same list (a suite's) is used for every call of a run. */
const splitLists = new WeakMap<readonly string[], readonly (readonly string[])[]>();

function splitPaths(ignore: readonly string[]): readonly (readonly string[])[] {
  let paths = splitLists.get(ignore);
  if (!paths) splitLists.set(ignore, (paths = ignore.map((path) => path.split('.'))));
  return paths;
}

/**
 * Removes the given argument paths (`idempotency_key`, or dotted `meta.request_id`)
 * from `args`, without changing it: only the objects along a removed path are copied
 * (a deep copy of every call's arguments was most of the cost of comparing calls).
 * Paths that are absent are ignored.
 */
export function withoutArgs(args: Record<string, unknown>, ignore: readonly string[]): Record<string, unknown> {
  if (ignore.length === 0) return args;
  let out = args;
  for (const parts of splitPaths(ignore)) out = withoutPath(out, parts, 0) as Record<string, unknown>;
  return out;
}

/** `node` less the value at `parts` (from `at` on); `node` itself when there is none there. */
function withoutPath(node: unknown, parts: readonly string[], at: number): unknown {
  if (node === null || typeof node !== 'object') return node;
  const head = parts[at]!;
  if (!Object.hasOwn(node, head)) return node;
  const record = node as Record<string, unknown>;
  const last = at === parts.length - 1;
  const next = last ? undefined : withoutPath(record[head], parts, at + 1);
  if (!last && next === record[head]) return node;
  const copy = (Array.isArray(node) ? [...node] : { ...record }) as Record<string, unknown>;
  if (last) delete copy[head];
  else copy[head] = next;
  return copy;
}

const NO_PATHS: readonly string[] = Object.freeze([]);

/** Call keys remembered while `withCallKeys` runs: by arguments object, then by ignore list (the list itself, as given). */
let remembered: WeakMap<object, Map<readonly string[], string>> | undefined;

/**
 * Runs `fn` with the call keys it computes remembered by arguments object, so that the same
 * arguments keyed again (under the same ignore list, or under one that removes nothing from
 * them) cost a lookup instead of a sorted copy and a `JSON.stringify`. Comparing a trace's
 * calls keys each of them several times (the divergence point, the effects, the unsafe ones,
 * the rollback), and a mocked call is keyed for its recording, its effect and its repeats.
 * Only for synchronous code that changes no arguments object while it runs: nothing is
 * remembered after it returns.
 */
export function withCallKeys<T>(fn: () => T): T {
  if (remembered) return fn();
  remembered = new WeakMap();
  try {
    return fn();
  } finally {
    remembered = undefined;
  }
}

/** The identity of a tool call: its name and canonical arguments, less the ignored ones. */
export function callKey(name: string, args: Record<string, unknown>, ignore: readonly string[] = NO_PATHS): string {
  const kept = withoutArgs(args, ignore);
  if (!remembered || typeof args !== 'object' || args === null) return `${name} ${canonicalJson(kept)}`;
  // Arguments the ignore list leaves as they are have the key they have with no list.
  const list = kept === args ? NO_PATHS : ignore;
  let byList = remembered.get(args);
  if (!byList) remembered.set(args, (byList = new Map()));
  let json = byList.get(list);
  if (json === undefined) byList.set(list, (json = canonicalJson(kept)));
  return `${name} ${json}`;
}
