import { z } from 'zod';

export const EffectClassSchema = z.enum(['read', 'write-reversible', 'write-external', 'write-irreversible']);
export type EffectClass = z.infer<typeof EffectClassSchema>;

/** Riskiest last: the order the reversibility matrix ranks effect classes in. */
export const EFFECT_CLASSES: readonly EffectClass[] = EffectClassSchema.options;

export const ToolDefinitionSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'tool names are letters, digits, _ . -'),
  description: z.string().optional(),
  effect: EffectClassSchema,
  /** JSON Schema of the arguments. */
  parameters: z.record(z.string(), z.unknown()).optional(),
  http: z
    .strictObject({
      method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
      url: z.string().min(1),
    })
    .optional(),
  /** Answer to a write that has no recording. */
  ack: z.unknown().optional(),
  /** Answer to any off-trace call of this tool (read or write) that has no recording. */
  stub: z.unknown().optional(),
});
export type ToolDefinition = z.infer<typeof ToolDefinitionSchema>;

export const ToolCatalogSchema = z
  .strictObject({
    tools: z.array(ToolDefinitionSchema).min(1),
  })
  .superRefine((catalog, ctx) => {
    const seen = new Set<string>();
    catalog.tools.forEach((tool, i) => {
      if (seen.has(tool.name)) ctx.addIssue({ code: 'custom', path: ['tools', i, 'name'], message: `duplicate tool ${tool.name}` });
      seen.add(tool.name);
    });
  });
export type ToolCatalog = z.infer<typeof ToolCatalogSchema>;

export function isWrite(effect: EffectClass): boolean {
  return effect !== 'read';
}
