import { StoreError } from '../errors.js';
import type { TraceResult } from '../replay/types.js';

/**
 * A result as a store holds it (JSON text), parsed. Every store reads its results through here, so
 * that a stored result that is not JSON (a row damaged outside shadowgate) is one clear StoreError
 * naming the store (as its messages name it: a URL without credentials), the run and the trace,
 * never a parser's SyntaxError from deep in a command.
 */
export function parseStoredResult(json: string, where: { store: string; runId: string; traceId: string }): TraceResult {
  try {
    return JSON.parse(json) as TraceResult;
  } catch (error) {
    // The parser's position only: its message quotes the stored text, which is no message of ours to print.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new StoreError(
      `${where.store}: the stored result of trace ${where.traceId} in run ${where.runId} is not valid JSON${position === undefined ? '' : ` (at character ${position})`}`,
      { hint: 'the row was changed outside shadowgate; run the suite again for a run to read' },
    );
  }
}
