import { Ajv, type ErrorObject } from 'ajv';

/** A reason a JSON Schema cannot be used, at a key path inside the schema. */
export interface SchemaProblem {
  path: string[];
  message: string;
}

/**
 * Why `schema` is not a JSON Schema ajv can compile: each problem at the key path where it
 * sits (`properties.amount.type`), so that a config loader can point at its line. Empty when
 * the schema compiles. Checked when a catalog or suite loads, because a schema that does not
 * compile checks nothing: a typo (`type: strng`) would otherwise turn off every argument
 * check of its tool without a word.
 */
export function jsonSchemaProblems(schema: unknown): SchemaProblem[] {
  // strictSchema: a keyword JSON Schema does not know (`requried`, `maxLenght`) is refused, as it
  // would check nothing; vendor extensions (`x-…`) are declared as keywords of their own, and
  // formats are not validated by the guard, so they are not judged here either.
  const ajv = new Ajv({ allErrors: true, strict: false, strictSchema: true, validateFormats: false });
  for (const key of keysOf(schema)) if (key.startsWith('x-') && !ajv.getKeyword(key)) ajv.addKeyword(key);
  if (!ajv.validateSchema(schema as object)) return firstPerPath(ajv.errors ?? []);
  try {
    ajv.compile(schema as object);
    return [];
  } catch (error) {
    // Valid against the meta-schema but still unusable: an unknown keyword, an unresolvable $ref.
    const message = (error as Error).message;
    const unknown = /unknown keyword: "([^"]+)"/.exec(message)?.[1];
    const at = unknown === undefined ? null : pathOfKey(schema, unknown);
    if (unknown !== undefined && at) return [{ path: at, message: `not a valid JSON Schema: ${unknown} is not a JSON Schema keyword (misspelt?)` }];
    return [{ path: [], message }];
  }
}

/** Every object key anywhere in a JSON value. */
function keysOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) keysOf(v, into);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      keysOf(v, into);
    }
  }
  return into;
}

/** The key path of the first place (depth first, outside `properties` names) where `key` is a key of a schema object. */
function pathOfKey(value: unknown, key: string, path: string[] = []): string[] | null {
  if (value === null || typeof value !== 'object') return null;
  if (!Array.isArray(value) && Object.hasOwn(value, key) && path.at(-1) !== 'properties') return [...path, key];
  for (const [k, v] of Object.entries(value)) {
    const found = pathOfKey(v, key, [...path, k]);
    if (found) return found;
  }
  return null;
}

/** ajv reports one typo several times (enum, then each anyOf branch); the first one says it. */
function firstPerPath(errors: ErrorObject[]): SchemaProblem[] {
  const byPath = new Map<string, ErrorObject>();
  for (const e of errors) if (!byPath.has(e.instancePath)) byPath.set(e.instancePath, e);
  return [...byPath.entries()].map(([at, e]) => {
    const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
    const path = at.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = path.at(-1) ?? 'schema';
    return {
      path,
      message: `not a valid JSON Schema: ${last} ${e.message ?? 'is invalid'}${allowed ? ` (${allowed.map(String).join(', ')})` : ''}`,
    };
  });
}
