import type { ToolCatalog } from '../trace/catalog.js';
import type { Trace } from '../trace/schema.js';

/**
 * The tool names the traces use (tool steps, model tool calls, human actions) that the
 * catalog does not list, in order of first use. A suite with that catalog would count
 * their calls as writes, so an import with `--tools` names them.
 */
export function toolsMissingFrom(traces: readonly Trace[], catalog: ToolCatalog): string[] {
  const known = new Set(catalog.tools.map((t) => t.name));
  const missing = new Set<string>();
  const see = (name: string) => {
    if (!known.has(name)) missing.add(name);
  };
  for (const trace of traces) {
    for (const step of trace.steps) {
      if (step.type === 'tool') see(step.name);
      else for (const call of step.output.toolCalls ?? []) see(call.name);
    }
    for (const action of trace.human?.actions ?? []) see(action.name);
  }
  return [...missing];
}
