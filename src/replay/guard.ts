import { Ajv, type ValidateFunction } from 'ajv';
import { callKey } from '../trace/canonical.js';
import type { ToolCatalog } from '../trace/catalog.js';
import type { CompiledPolicy } from '../policy/evaluate.js';

/** A safety rule a candidate broke on a trace, recorded on its result. */
export interface Violation {
  kind: 'schema_violation' | 'duplicate_effect' | 'blocked_request' | 'denied_capability' | 'policy_violation';
  /** The id of the suite's policy rule that was broken (policy violations only). */
  rule?: string;
  /** Index of the step in the candidate's steps (for a blocked request: of the step that came next). */
  step: number;
  /** The tool called; absent for a blocked request, which called none. */
  tool?: string;
  /** A request the sandbox blocked: method and URL, without credentials or query values. */
  request?: { method: string; url: string };
  /** A capability the permission model refused the candidate's process (`fs-write`, `child-process`, `worker`, `addons`, `binding`, `signal`) and what it was used on. */
  capability?: { kind: string; target: string };
  message: string;
}

/**
 * The checks every tool call passes before a mock answers it, built once per run from
 * the catalog: arguments against the tool's JSON Schema (fail closed: an invalid call
 * is not answered), the suite's compiled policy rules that refuse a call (allowlists, `action: deny`;
 * fail closed too), and the identity of a write, to catch the same effect issued twice.
 */
export function createToolGuard(catalog: ToolCatalog, policy?: CompiledPolicy) {
  const ajv = new Ajv({ allErrors: true, strict: false });
  const validators = new Map<string, ValidateFunction>();
  for (const tool of catalog.tools) {
    // A catalog is checked when it loads (toolSchemaProblems), so a schema that does not compile
    // here is a bug; it throws rather than leave the tool without an argument check.
    if (tool.parameters) validators.set(tool.name, ajv.compile(tool.parameters));
  }
  const tools = new Map(catalog.tools.map((t) => [t.name, t]));
  return {
    /** Why the policy refuses this call (the rules it breaks, joined), or null when it may be answered. */
    policyRefusal(workflow: string, name: string, args: Record<string, unknown>): string | null {
      const refusals = policy?.refusals(workflow, name, args) ?? [];
      return refusals.length === 0 ? null : refusals.map((r) => `policy rule ${r.rule}: ${r.message}`).join('; ');
    },
    /** Why the arguments do not fit the tool's schema, or null when they do (or the tool has none). */
    schemaProblem(name: string, args: Record<string, unknown>): string | null {
      const validate = validators.get(name);
      if (!validate || validate(args)) return null;
      return (validate.errors ?? []).map((e) => `${e.instancePath || '(arguments)'} ${e.message ?? 'is invalid'}`).join('; ');
    },
    /** The identity of a write (its declared idempotency key where it has one, else name and arguments); null for a read. */
    effectKey(name: string, args: Record<string, unknown>): string | null {
      const tool = tools.get(name);
      if (tool?.effect === 'read') return null;
      const key = tool?.idempotencyKey ? args[tool.idempotencyKey] : undefined;
      return key !== undefined ? `${name} key=${JSON.stringify(key)}` : callKey(name, args);
    },
  };
}

export type ToolGuard = ReturnType<typeof createToolGuard>;
