/**
 * Canonical JSON: object keys sorted at every depth, `-0` as `0`, `undefined`
 * members dropped. Two values are the same call argument exactly when their
 * canonical strings are equal. (Integral floats need no work: JavaScript has
 * one number type, so `1.0` and `1` already print as `1`.)
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonicalize(value));
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

/**
 * Removes the given argument paths (`idempotency_key`, or dotted `meta.request_id`)
 * from a copy of `args`. Paths that are absent are ignored.
 */
export function withoutArgs(args: Record<string, unknown>, ignore: readonly string[]): Record<string, unknown> {
  if (ignore.length === 0) return args;
  const copy = structuredClone(args);
  for (const path of ignore) {
    const parts = path.split('.');
    let node: unknown = copy;
    for (let i = 0; i < parts.length - 1 && node !== null && typeof node === 'object'; i++) {
      node = (node as Record<string, unknown>)[parts[i]!];
    }
    if (node !== null && typeof node === 'object') delete (node as Record<string, unknown>)[parts.at(-1)!];
  }
  return copy;
}

/** The identity of a tool call: its name and canonical arguments, less the ignored ones. */
export function callKey(name: string, args: Record<string, unknown>, ignore: readonly string[] = []): string {
  return `${name} ${canonicalJson(withoutArgs(args, ignore))}`;
}
