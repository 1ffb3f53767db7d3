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
  const ajv = new Ajv({ allErrors: true, strict: false });
  if (!ajv.validateSchema(schema as object)) return firstPerPath(ajv.errors ?? []);
  try {
    ajv.compile(schema as object);
    return [];
  } catch (error) {
    // Valid against the meta-schema but still unusable: an unresolvable $ref, say.
    return [{ path: [], message: (error as Error).message }];
  }
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
