import { z } from 'zod';
import { RegressionsGateSchema, SuiteFileSchema } from '../suite/schema.js';
import { ToolCatalogSchema } from '../trace/catalog.js';
import { TraceSchema } from '../trace/schema.js';
import { ConditionSchema, PolicyGateSchema, PolicyRuleSchema, RequirementSchema } from '../policy/schema.js';

/** The documents shadowgate reads that a person writes or a tool produces, by the name `shadowgate schema` takes. */
export const SCHEMA_KINDS = ['suite', 'tools', 'trace'] as const;
export type SchemaKind = (typeof SCHEMA_KINDS)[number];

type JsonSchema = Record<string, unknown>;

const SOURCES: Record<SchemaKind, { schema: z.ZodType; title: string; description: string }> = {
  suite: {
    schema: SuiteFileSchema,
    title: 'shadowgate suite',
    description: 'A suite file (YAML): the traces to replay, the tool catalog, the candidate, how to compare and the gate.',
  },
  tools: {
    schema: ToolCatalogSchema,
    title: 'shadowgate tool catalog',
    description: 'A tool catalog (YAML): every tool a workflow may call, its effect class and argument schema.',
  },
  trace: {
    schema: TraceSchema,
    title: 'shadowgate.trace/v1',
    description: 'One recorded run of one workflow on one case (one line of a JSON Lines trace file).',
  },
};

const has = (key: string) => ({ required: [key] });
const anyOf = (...keys: string[]) => ({ anyOf: keys.map(has) });

/**
 * Rules the zod schemas check in code (`refine`, `superRefine`), which `z.toJSONSchema`
 * leaves out, written as JSON Schema so that an editor flags them too. Keyed by the zod
 * schema they belong to. Not expressible, and so left to `shadowgate validate`: duplicate
 * policy rule ids and duplicate tool names.
 */
const REFINEMENTS = new Map<unknown, (json: JsonSchema) => void>([
  [ConditionSchema, (json) => Object.assign(json, anyOf('gt', 'gte', 'lt', 'lte', 'eq', 'ne', 'in', 'notIn'))],
  [RequirementSchema, (json) => Object.assign(json, anyOf('calledBefore', 'status'))],
  [PolicyGateSchema, (json) => Object.assign(json, anyOf('max', 'rules'))],
  [
    RegressionsGateSchema,
    // A count or a margin, one of the two; beyondNoise goes with the count.
    (json) => Object.assign(json, { oneOf: [{ ...has('max'), not: anyOf('margin') }, { ...has('margin'), not: anyOf('max', 'beyondNoise') }] }),
  ],
  [
    PolicyRuleSchema,
    (json) =>
      Object.assign(json, {
        oneOf: [
          // An allowlist takes nothing of a call rule.
          { ...has('allowTools'), not: anyOf('tool', 'when', 'action', 'requires') },
          // A call rule: refused at call time, or checked on the whole trace; one of the two.
          { required: ['tool', 'action'], not: anyOf('allowTools', 'requires') },
          { required: ['tool', 'requires'], not: anyOf('allowTools', 'action') },
        ],
      }),
  ],
]);

/**
 * JSON Schema (draft-07, which every editor's YAML and JSON support reads) of a suite, a
 * tool catalog or a trace, generated from the zod schemas that validate them. Suites are
 * described as written (the input side: keys with a default are optional), and every
 * object is closed (`additionalProperties: false`), as the strict zod objects are, so that
 * an editor marks a misspelled key. Pure.
 * @example jsonSchemaOf('suite').properties.candidate
 */
export function jsonSchemaOf(kind: SchemaKind): JsonSchema {
  const source = SOURCES[kind];
  const generated = z.toJSONSchema(source.schema, {
    target: 'draft-07',
    io: 'input',
    // A schema with no JSON Schema form (a transform, a date) throws, so that it is noticed and given one here.
    unrepresentable: 'throw',
    override: ({ zodSchema, jsonSchema }) => {
      const json = jsonSchema as JsonSchema;
      REFINEMENTS.get(zodSchema)?.(json);
      // z.number().int() bounds integers to the safe range; in a config file that only adds noise.
      if (json.maximum === Number.MAX_SAFE_INTEGER) delete json.maximum;
      if (json.minimum === Number.MIN_SAFE_INTEGER) delete json.minimum;
    },
  }) as JsonSchema;
  const { $schema, ...rest } = generated;
  return { $schema, title: source.title, description: source.description, ...rest };
}

/** The file name a schema is written to: `suite.schema.json`. */
export function schemaFileName(kind: SchemaKind): string {
  return `${kind}.schema.json`;
}

/** A schema as it is written to a file: two-space JSON and a final newline, so that the committed files diff cleanly. */
export function renderJsonSchema(kind: SchemaKind): string {
  return `${JSON.stringify(jsonSchemaOf(kind), null, 2)}\n`;
}
