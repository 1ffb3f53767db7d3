import { Ajv, type ValidateFunction } from 'ajv';
import { z } from 'zod';
import { TraceSchema, type Trace } from './schema.js';

/**
 * The check of a parsed trace line that runs first: a JSON Schema validator compiled from the
 * zod schema, several times cheaper than zod's parse, which on a large run was a good part of
 * the harness's time per trace. It only ever accepts: a line it does not accept is parsed by
 * zod (`parseTraceLine`), which refuses it with the located messages, or accepts it after all
 * (the compiled check may be stricter than zod, never laxer). Its JSON Schema keeps what
 * `shadowgate schema` leaves out for editors: integers are bounded to the safe range, and
 * every number to the finite range (`1e400` parses to Infinity, which zod refuses).
 *
 * A trace it accepts comes out as zod would give it (`normalizeTrace`): zod rebuilds every
 * object of the schema with its keys in the schema's order, and a record without an own
 * `__proto__` key; the values it does not check (input, decisions, results) are the parsed
 * ones as they are.
 */
export function fastTrace(raw: unknown): Trace | undefined {
  const check = (compiled ??= compile());
  return check.validate(raw) ? (check.normalize(raw) as Trace) : undefined;
}

let compiled: { validate: ValidateFunction; normalize: Normalizer } | undefined;

function compile() {
  const schema = z.toJSONSchema(TraceSchema, { target: 'draft-07', unrepresentable: 'throw' });
  boundNumbers(schema);
  const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: false });
  return { validate: ajv.compile(schema), normalize: normalizer(TraceSchema) ?? ((value: unknown) => value) };
}

/** Every number schema without a bound gets the finite one: Infinity (from `1e400`) is not a number zod takes. */
function boundNumbers(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(boundNumbers);
  if (node === null || typeof node !== 'object') return;
  const record = node as Record<string, unknown>;
  if (record.type === 'number' || record.type === 'integer') {
    if (record.minimum === undefined && record.exclusiveMinimum === undefined) record.minimum = -Number.MAX_VALUE;
    if (record.maximum === undefined && record.exclusiveMaximum === undefined) record.maximum = Number.MAX_VALUE;
  }
  for (const value of Object.values(record)) boundNumbers(value);
}

/** Rebuilds, where it must, a value the schema accepts as zod's parse would return it; null where the value is returned as it is. */
type Normalizer = (value: unknown) => unknown;

/**
 * The normalizer of a zod schema, read from its definition: an object whose keys are in the
 * schema's order, and a record without an own `__proto__` key, are kept as they are (no copy);
 * others are copied as zod copies them. A kind of schema it does not know is an error when it
 * is built, so that a change to the trace schema cannot pass unnoticed.
 */
function normalizer(schema: z.core.$ZodType): Normalizer | null {
  const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
  switch (def.type) {
    case 'unknown':
    case 'string':
    case 'number':
    case 'boolean':
    case 'literal':
    case 'enum':
      return null;
    case 'optional': {
      const inner = normalizer(def.innerType as z.core.$ZodType);
      return inner && ((value) => (value === undefined ? value : inner(value)));
    }
    case 'array': {
      const element = normalizer(def.element as z.core.$ZodType);
      return element && ((value) => copyOnChange(value as unknown[], element));
    }
    case 'record':
      if (normalizer(def.valueType as z.core.$ZodType) !== null) throw new Error('fast trace check: a record of checked values is not supported');
      return (value) => {
        if (!Object.hasOwn(value as object, '__proto__')) return value;
        // As zod builds it: the key is assigned, which sets the copy's prototype rather than a key.
        const out: Record<string, unknown> = {};
        for (const key in value as Record<string, unknown>) out[key] = (value as Record<string, unknown>)[key];
        return out;
      };
    case 'object':
      return objectNormalizer(def.shape as Record<string, z.core.$ZodType>, def.catchall as z.core.$ZodType | undefined);
    case 'union': {
      const discriminator = def.discriminator as string | undefined;
      if (discriminator === undefined) throw new Error('fast trace check: only discriminated unions are supported');
      const byValue = new Map<unknown, Normalizer | null>();
      for (const option of def.options as z.core.$ZodObject[]) {
        const tag = option._zod.def.shape[discriminator]!._zod.def as { values?: unknown[] };
        for (const v of tag.values ?? []) byValue.set(v, normalizer(option));
      }
      return (value) => {
        const option = byValue.get((value as Record<string, unknown>)[discriminator]);
        return option ? option(value) : value;
      };
    }
    default:
      throw new Error(`fast trace check: zod schema type ${def.type} is not supported`);
  }
}

function objectNormalizer(shape: Record<string, z.core.$ZodType>, catchall: z.core.$ZodType | undefined): Normalizer {
  // A strict object refuses other keys, so that the validator has seen every key is the schema's.
  if (catchall?._zod.def.type !== 'never') throw new Error('fast trace check: only strict objects are supported');
  const keys = Object.keys(shape);
  const order = new Map(keys.map((key, i) => [key, i]));
  const nested = keys.map((key) => [key, normalizer(shape[key]!)] as const).filter((entry): entry is readonly [string, Normalizer] => entry[1] !== null);
  return (value) => {
    const record = value as Record<string, unknown>;
    let out = record;
    let last = -1;
    for (const key in record) {
      const at = order.get(key)!;
      if (at < last) {
        out = {};
        for (const k of keys) if (Object.hasOwn(record, k)) out[k] = record[k];
        break;
      }
      last = at;
    }
    for (const [key, normalize] of nested) {
      if (!Object.hasOwn(out, key) || out[key] === undefined) continue;
      const next = normalize(out[key]);
      if (next === out[key]) continue;
      if (out === record) out = { ...record };
      out[key] = next;
    }
    return out;
  };
}

/** The array, or a copy of it where the normalizer changed an element. */
function copyOnChange(values: unknown[], normalize: Normalizer): unknown[] {
  let out = values;
  for (let i = 0; i < values.length; i++) {
    const next = normalize(values[i]);
    if (next === values[i]) continue;
    if (out === values) out = [...values];
    out[i] = next;
  }
  return out;
}
