import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError, NotFoundError } from '../errors.js';
import type { PairableResult } from '../metrics/paired.js';
import type { Store } from '../store/types.js';

export interface Baseline {
  runId: string;
  rows: PairableResult[];
}

const pairable = (r: PairableResult): PairableResult => ({ traceId: r.traceId, caseId: r.caseId, trial: r.trial, agree: r.agree });

/**
 * The baseline a run is paired with: a `shadowgate.run/v1` results file, or a run
 * in the store by its id.
 */
export function loadBaseline(ref: string, store: Store, cwd: string): Baseline {
  const file = resolve(cwd, ref);
  if (existsSync(file)) {
    let doc: { schema?: unknown; runId?: unknown; results?: unknown };
    try {
      doc = JSON.parse(readFileSync(file, 'utf8')) as typeof doc;
    } catch (error) {
      throw new InputError([{ file: ref, message: `not valid JSON: ${(error as Error).message}` }]);
    }
    if (doc.schema !== 'shadowgate.run/v1' || !Array.isArray(doc.results)) {
      throw new InputError([{ file: ref, path: 'schema', message: 'expected shadowgate.run/v1 results (written by `shadowgate run --json`)' }]);
    }
    return { runId: String(doc.runId), rows: (doc.results as PairableResult[]).map(pairable) };
  }
  const run = store.getRun(ref);
  if (!run) {
    throw new NotFoundError(`--baseline ${ref} is neither a results file nor a run in the store`, 'list stored runs with `shadowgate runs`, or pass a file written by --json');
  }
  const rows: PairableResult[] = [];
  for (const r of store.results(ref)) rows.push(pairable(r));
  return { runId: run.runId, rows };
}
