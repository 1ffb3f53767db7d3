/**
 * A name-or-list field (`tool`, `workflow`, `calledBefore`, `status`) as a list; undefined when not given.
 * Apart from the schema, so that evaluating a policy (in every candidate process) does not load zod.
 */
export const namesOf = (names: string | string[] | undefined): string[] | undefined =>
  names === undefined ? undefined : Array.isArray(names) ? names : [names];
