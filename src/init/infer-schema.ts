/**
 * JSON Schema drafted from recorded values: the argument schema `init --from` proposes for
 * each tool. Pure. It says only what every recorded call shows: the JSON types seen, an
 * object's properties (required = present in every object seen), an array's items. It never
 * guesses an enum, a format or a bound from a handful of examples, and never closes an
 * object (`additionalProperties`), so that a draft does not refuse the next call's new field.
 */

export type JsonSchema = Record<string, unknown>;

type Kind = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';

/** The order kinds are listed in when a value was seen with several. */
const KINDS: readonly Kind[] = ['object', 'array', 'string', 'number', 'integer', 'boolean', 'null'];

function kindOf(value: unknown): Kind {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    case 'string':
      return 'string';
    default:
      return 'object';
  }
}

/**
 * The schema of a value seen as each of `values` (one per recorded call). Integers and
 * fractions together are `number`; several kinds are a `type` list; no values is `{}`.
 * @example inferSchema([{ id: 'a', n: 1 }, { id: 'b' }]) // { type: 'object', properties: { id: { type: 'string' }, n: { type: 'integer' } }, required: ['id'] }
 */
export function inferSchema(values: readonly unknown[]): JsonSchema {
  if (values.length === 0) return {};
  const kinds = new Set(values.map(kindOf));
  if (kinds.has('integer') && kinds.has('number')) kinds.delete('integer');
  const listed = KINDS.filter((k) => kinds.has(k));
  const schema: JsonSchema = { type: listed.length === 1 ? listed[0] : listed };
  if (kinds.has('object')) Object.assign(schema, objectSchema(values.filter((v) => kindOf(v) === 'object') as Record<string, unknown>[]));
  if (kinds.has('array')) {
    const items = (values.filter(Array.isArray) as unknown[][]).flat();
    if (items.length > 0) schema.items = inferSchema(items);
  }
  return schema;
}

function objectSchema(objects: readonly Record<string, unknown>[]): JsonSchema {
  const seen = new Map<string, unknown[]>();
  for (const object of objects) {
    for (const [key, value] of Object.entries(object)) {
      if (value === undefined) continue;
      seen.set(key, [...(seen.get(key) ?? []), value]);
    }
  }
  const properties = Object.fromEntries([...seen].map(([key, vs]) => [key, inferSchema(vs)]));
  const required = [...seen].filter(([, vs]) => vs.length === objects.length).map(([key]) => key);
  return { properties, ...(required.length > 0 ? { required } : {}) };
}
