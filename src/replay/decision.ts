import { Ajv, type ErrorObject } from 'ajv';

/**
 * Checks decisions against the suite's `decisionSchema` (JSON Schema). Returns
 * the validation message, or null when the decision is valid.
 */
export function createDecisionValidator(schema: Record<string, unknown> | undefined): (decision: unknown) => string | null {
  if (!schema) return () => null;
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  return (decision) => (validate(decision) ? null : formatErrors(validate.errors ?? []));
}

function formatErrors(errors: ErrorObject[]): string {
  return errors.map((e) => `${e.instancePath || '(decision)'} ${e.message ?? 'is invalid'}`).join('; ');
}
