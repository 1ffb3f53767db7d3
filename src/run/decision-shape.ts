import { decisionsAgree, isObject, type DecisionComparator } from '../metrics/compare.js';
import { inFileOrder, type TraceResult } from '../replay/types.js';

/** A decision longer than this is cut in a warning. */
const MAX_SHOWN = 120;

interface Sighting {
  /** The earliest trace in file order it was seen on: id and where its line is. */
  first: string;
  /** That trace's place in file order, to keep the earliest whatever order results finish in. */
  at: Pick<TraceResult, 'source' | 'trial'>;
  /** What that decision was, for the warning to show. */
  decision: string;
  traces: number;
}

/**
 * Watches a run's decisions for shapes that `compare.decision.fields` cannot compare as the
 * suite means it, each of which would otherwise read as a plain disagreement (or a silent
 * agreement): a decision that is not an object (compared whole, so it never agrees with an
 * object), a field one side's decision has and the other's lacks while every other field
 * agrees (the missing field alone makes the disagreement), and a field that no decision on
 * either side has (a misspelt field compares nothing). Each
 * becomes one warning located on the earliest trace in file order it was seen on (the same
 * trace at any concurrency), with how many traces are alike. Nothing without `fields`. Pure: results in, warnings out.
 */
export function createDecisionShapeCheck(comparator: DecisionComparator) {
  const fields = comparator.fields ?? [];
  // Keyed by what is wrong: `not-object:<side>` or `missing:<side>:<field>`; warned in file order of their first trace.
  const sightings = new Map<string, Sighting>();
  const seen = new Set<string>();
  let objects = 0;
  const note = (key: string, r: TraceResult, decision: unknown) => {
    const s = sightings.get(key);
    if (s && inFileOrder(s.at, r) <= 0) s.traces++;
    else sightings.set(key, { first: `${r.traceId} (${r.source.file}:${r.source.line})`, at: { source: r.source, trial: r.trial }, decision: shown(decision), traces: (s?.traces ?? 0) + 1 });
  };
  return {
    add(r: TraceResult): void {
      // Only decisions that were compared: a trace with no outcome, or no reference decision, says so elsewhere.
      if (fields.length === 0 || r.agree === null || r.decision == null || r.reference.decision == null) return;
      const c = r.decision;
      const ref = r.reference.decision;
      if (!isObject(c)) note('not-object\0candidate', r, c);
      if (!isObject(ref)) note('not-object\0reference', r, ref);
      if (!isObject(c) || !isObject(ref)) return;
      objects++;
      for (const field of fields) {
        if (field in c || field in ref) seen.add(field);
        if (field in c === field in ref) continue;
        // Missing where the other fields agree: the missing field alone makes the disagreement.
        // (An escalation without the amount a refund has differs by its action too: not a shape problem.)
        if (!decisionsAgree(c, ref, { ...comparator, fields: fields.filter((f) => f !== field) })) continue;
        note(`missing\0${field in c ? 'reference' : 'candidate'}\0${field}`, r, field in c ? ref : c);
      }
    },
    warnings(): string[] {
      const list = fields.map((f) => JSON.stringify(f)).join(', ');
      const whose = (side: string) => (side === 'candidate' ? "the candidate's" : "the reference's");
      const out = [...sightings].sort(([, a], [, b]) => inFileOrder(a.at, b.at)).map(([key, s]) => {
        const [kind, side, field] = key.split('\0') as [string, string, string?];
        const alike = s.traces > 1 ? `; ${s.traces} traces alike` : '';
        if (kind === 'not-object') {
          return `${whose(side)} decision on ${s.first} is not an object (${s.decision}): compare.decision.fields [${list}] cannot pick fields from it, so it is compared whole${alike}`;
        }
        const other = whose(side === 'candidate' ? 'reference' : 'candidate');
        return `${whose(side)} decision on ${s.first} has no field ${JSON.stringify(field)}, which ${other} has and compare.decision.fields names: it disagrees by that alone (${s.decision})${alike}`;
      });
      const never = objects > 0 ? fields.filter((f) => !seen.has(f)) : [];
      if (never.length > 0) {
        out.push(`compare.decision.fields names ${never.map((f) => JSON.stringify(f)).join(', ')}, which no decision on either side has over ${objects} compared trace(s): it compares nothing (a misspelt field?)`);
      }
      return out;
    },
  };
}

function shown(decision: unknown): string {
  const text = JSON.stringify(decision) ?? String(decision);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 1)}…` : text;
}
