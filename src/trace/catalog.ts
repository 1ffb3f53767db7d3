import { z } from 'zod';
import { jsonSchemaProblems } from './schema-check.js';

export const EffectClassSchema = z.enum(['read', 'write-reversible', 'write-external', 'write-irreversible']);
export type EffectClass = z.infer<typeof EffectClassSchema>;

/** Riskiest last: the order the reversibility matrix ranks effect classes in. */
export const EFFECT_CLASSES: readonly EffectClass[] = EffectClassSchema.options;

/**
 * `unknown` is what `shadowgate init --from` writes for a tool seen in traces: nobody has yet
 * said whether it reads or writes. The schema accepts it only so that `undecidedEffects`
 * can refuse it by the tool's name; a loaded catalog never holds it, because a catalog must
 * never guess that a write is a read.
 */
export const UNDECIDED_EFFECT = 'unknown';

export const ToolDefinitionSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'tool names are letters, digits, _ . -').describe('The tool\'s name, as the agent calls it: letters, digits, `_ . -`.'),
  description: z.string().optional().describe('What the tool does; a tool-loop candidate\'s model sees it.'),
  effect: z
    // `unknown` is accepted only to be refused by name (undecidedEffects): it is never offered as a choice.
    .enum([...EffectClassSchema.options, UNDECIDED_EFFECT], { error: `Invalid option: expected one of ${EffectClassSchema.options.map((o) => `"${o}"`).join('|')}` })
    .describe(
      'What a call changes: `read` (nothing), `write-reversible` (undone by another call), `write-external` (seen outside, e.g. an email) or `write-irreversible` (money moved). Writes are never executed in a replay, and the riskiest class called caps the autonomy a workflow may have. `unknown` (what `init --from` drafts) is refused until you choose one.',
    ),
  parameters: z.record(z.string(), z.unknown()).optional().describe('JSON Schema of the arguments; every call is checked against it, and a schema that does not compile is an error.'),
  http: z
    .strictObject({
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).describe('The HTTP method of the route.'),
      url: z
        .url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL, e.g. https://orders.internal/api/orders/:order_id' })
        .describe('Absolute http(s) URL; a `:name` path segment is a parameter (`https://orders.internal/api/orders/:order_id`).'),
    })
    .optional()
    .describe("An HTTP route: a module candidate's request to it (with `fetch`, `node:http`, …) is this tool's call."),
  ack: z.unknown().optional().describe('Answer to a write that has no recording.'),
  stub: z.unknown().optional().describe('Answer to any off-trace call of this tool (read or write) that has no recording.'),
  idempotencyKey: z
    .string()
    .min(1)
    .optional()
    .describe('The argument that identifies a write (`idempotency_key`): two calls with the same value are one effect issued twice.'),
});
/** A tool of a loaded catalog: its effect is decided (`undecidedEffects` refused the rest). */
export type ToolDefinition = z.infer<typeof ToolDefinitionSchema> & { effect: EffectClass };

export const ToolCatalogSchema = z.strictObject({
  tools: z.array(ToolDefinitionSchema).min(1).describe('Every tool the workflow may call, with its effect class.'),
});

/** Tools whose effect is still `unknown` (a catalog drafted by `init --from`), each at its `effect` key. */
export function undecidedEffects(raw: unknown): { path: (string | number)[]; message: string }[] {
  const tools = (raw as { tools?: unknown } | null)?.tools;
  if (!Array.isArray(tools)) return [];
  return tools.flatMap((tool: unknown, i) => {
    const { name, effect } = (tool ?? {}) as { name?: unknown; effect?: unknown };
    if (effect !== UNDECIDED_EFFECT) return [];
    return [{ path: ['tools', i, 'effect'], message: `choose an effect class for ${typeof name === 'string' ? name : `tool #${i + 1}`}: ${EFFECT_CLASSES.join(' | ')}` }];
  });
}

/** Tool names used twice, found on the raw catalog so that they are reported next to any schema problem. */
export function duplicateToolNames(raw: unknown): { path: (string | number)[]; message: string }[] {
  const tools = (raw as { tools?: unknown } | null)?.tools;
  if (!Array.isArray(tools)) return [];
  const seen = new Set<unknown>();
  return tools.flatMap((tool: unknown, i) => {
    const name = (tool as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') return [];
    const dup = seen.has(name);
    seen.add(name);
    return dup ? [{ path: ['tools', i, 'name'], message: `duplicate tool ${name}` }] : [];
  });
}
export type ToolCatalog = { tools: ToolDefinition[] };

/**
 * Argument schemas that do not compile, found on the raw catalog: each at the key that is
 * wrong (`tools.2.parameters.properties.amount.type`) and naming its tool. A tool whose
 * schema does not compile would have no argument check at all, so the catalog is refused.
 */
export function toolSchemaProblems(raw: unknown): { path: (string | number)[]; message: string }[] {
  const tools = (raw as { tools?: unknown } | null)?.tools;
  if (!Array.isArray(tools)) return [];
  return tools.flatMap((tool: unknown, i) => {
    const { name, parameters } = (tool ?? {}) as { name?: unknown; parameters?: unknown };
    if (parameters === null || typeof parameters !== 'object' || Array.isArray(parameters)) return [];
    return jsonSchemaProblems(parameters).map((p) => ({
      path: ['tools', i, 'parameters', ...p.path],
      message: `tool ${typeof name === 'string' ? name : `#${i + 1}`}: ${p.message}`,
    }));
  });
}

export function isWrite(effect: EffectClass): boolean {
  return effect !== 'read';
}

/** Each tool's declared argument names (the `properties` of its schema); null for a tool whose schema declares none. */
export function declaredArguments(catalog: ToolCatalog): Map<string, Set<string> | null> {
  return new Map(
    catalog.tools.map((tool) => {
      const properties = (tool.parameters as { properties?: unknown } | undefined)?.properties;
      return [tool.name, properties && typeof properties === 'object' ? new Set(Object.keys(properties)) : null];
    }),
  );
}
