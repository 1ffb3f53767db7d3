import { stringify } from 'yaml';
import { EFFECT_CLASSES, UNDECIDED_EFFECT } from '../trace/catalog.js';
import type { Trace } from '../trace/schema.js';
import { FINAL_DECISION_TOOL } from '../replay/tool-loop.js';
import { inferSchema, type JsonSchema } from './infer-schema.js';

/** A tool seen in recorded traces: how often it was called and the argument schema its calls show. */
export interface DraftTool {
  name: string;
  calls: number;
  parameters: JsonSchema;
}

/**
 * Every tool the traces name, in the order first seen, with the arguments of each call: the
 * recorded tool steps, the tool calls the recorded model asked for, and the human's actions
 * (a write the human made is a tool of the workflow even if the agent never called it).
 * The tool loop's own `final_decision` is shadowgate's, not the workflow's, and is left out.
 * Pure.
 */
export function draftTools(traces: Iterable<Trace>): DraftTool[] {
  const args = new Map<string, unknown[]>();
  const seen = (name: string, value: unknown) => {
    if (name === FINAL_DECISION_TOOL) return;
    args.set(name, [...(args.get(name) ?? []), value]);
  };
  for (const trace of traces) {
    for (const step of trace.steps) {
      if (step.type === 'tool') seen(step.name, step.args);
      else for (const call of step.output.toolCalls ?? []) seen(call.name, call.args);
    }
    for (const action of trace.human?.actions ?? []) seen(action.name, action.args);
  }
  return [...args].map(([name, values]) => ({ name, calls: values.length, parameters: inferSchema(values) }));
}

/**
 * The drafted catalog as YAML, with comments that say what to decide: every effect is
 * `unknown`, which `validate` and `run` refuse until it is replaced by an effect class.
 */
export function renderDraftCatalog(tools: readonly DraftTool[], source: string): string {
  const lines = [
    '# yaml-language-server: $schema=./node_modules/shadowgate/schema/tools.schema.json',
    `# Tool catalog drafted by \`shadowgate init --from\` from ${source}.`,
    '# Each argument schema is inferred from the recorded calls: the types seen, and `required`',
    '# for the arguments present in every call. Tighten them (enums, formats, bounds) as you know them.',
    `# Every effect is \`${UNDECIDED_EFFECT}\`: \`shadowgate validate\` and \`run\` refuse the catalog until you`,
    '# choose one per tool, because only you know whether a tool changes anything:',
    '#   read                nothing changes; answered from the recording',
    '#   write-reversible    changes something that can be undone (a note, a draft, a grant)',
    '#   write-external      reaches someone outside (an email, a message, a webhook)',
    '#   write-irreversible  cannot be undone (a payment, a refund, a deletion)',
    '# No write ever leaves the harness; the class caps the phase the workflow can reach.',
    'tools:',
  ];
  for (const tool of tools) {
    // Quoted where YAML would read it as something else (`true`, `12`, a colon).
    lines.push(`  - name: ${stringify(tool.name).trimEnd()}`);
    lines.push(`    # seen in ${tool.calls} call(s); choose one of: ${EFFECT_CLASSES.join(' | ')}`);
    lines.push(`    effect: ${UNDECIDED_EFFECT}`);
    lines.push('    parameters:');
    lines.push(...indent(stringify(tool.parameters), 6));
  }
  return `${lines.join('\n')}\n`;
}

function indent(text: string, spaces: number): string[] {
  return text.trimEnd().split('\n').map((line) => `${' '.repeat(spaces)}${line}`);
}
