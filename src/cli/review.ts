import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { InputError, UsageError } from '../errors.js';
import type { ReviewItem, ReviewVerdictRecord, Store } from '../store/types.js';
import { TRACE_SCHEMA_ID } from '../trace/schema.js';
import { forTerminal } from '../report/escape.js';
import type { CliIo } from './io.js';

const pretty = (value: unknown) => JSON.stringify(value, null, 2) ?? 'undefined';

/**
 * Works through the pending review items in the terminal: each shows the input, the
 * candidate's suggestion and the reference; the reviewer accepts, edits (inline, or in
 * $EDITOR) or rejects with a reason. Every verdict is appended with the reviewer and
 * the time. Returns how many verdicts were given.
 */
export async function reviewInTerminal(io: CliIo, store: Store, options: { runId?: string; reviewer: string; now: () => Date }): Promise<number> {
  if (!io.stdin) throw new UsageError('review needs a terminal to read answers from');
  const lines = createInterface({ input: io.stdin, terminal: false })[Symbol.asyncIterator]();
  const ask = async (question: string): Promise<string | undefined> => {
    io.stdout.write(question);
    const next = await lines.next();
    return next.done ? undefined : next.value.trim();
  };
  // Items are claimed one at a time, so that reviewers working the same queue at once never get the same one.
  // The claims are this session's, not the name's: two terminals under one name (the default) are two reviewers.
  const session = randomUUID();
  const total = store.reviewItems({ pending: true, runId: options.runId }).length;
  const claim = (after: number) => {
    const now = options.now();
    return store.claimReview({ session, reviewer: options.reviewer, at: now.toISOString(), staleBefore: new Date(now.getTime() - REVIEW_CLAIM_MS).toISOString(), runId: options.runId, after });
  };
  let item = total === 0 ? undefined : claim(0);
  if (!item) {
    io.stdout.write('nothing to review\n');
    return 0;
  }
  let given = 0;
  for (let i = 0; item; i++) {
    io.stdout.write(
      `\n── ${i + 1}/${total} · ${forTerminal(item.traceId)} · run ${forTerminal(item.runId)} (${item.phase}) ──\n` +
        `input:\n${pretty(item.input)}\n\nsuggestion:\n${pretty(item.suggestion)}\n\nreference:\n${pretty(item.reference)}\n\n`,
    );
    for (;;) {
      const answer = await ask('[a]ccept, [e]dit, [r]eject, [s]kip, [q]uit? ');
      if (answer === undefined || answer === 'q') {
        store.releaseReview(item.id, session);
        io.stdout.write(`\n${given} verdict(s) given\n`);
        return given;
      }
      const verdict = await verdictFor(answer, item, ask, io);
      if (verdict === 'skip') {
        store.releaseReview(item.id, session);
        break;
      }
      if (!verdict) continue;
      store.addVerdict({ itemId: item.id, reviewer: options.reviewer, at: options.now().toISOString(), ...verdict });
      given++;
      io.stdout.write(`${verdict.verdict}\n`);
      break;
    }
    item = claim(item.id);
  }
  io.stdout.write(`\n${given} verdict(s) given\n`);
  return given;
}

/** How long a reviewer's claim on an item holds without a verdict: after that, another reviewer may take it. */
export const REVIEW_CLAIM_MS = 30 * 60 * 1000;

type Verdict = Pick<ReviewVerdictRecord, 'verdict' | 'final' | 'reason'>;

async function verdictFor(answer: string, item: ReviewItem, ask: (q: string) => Promise<string | undefined>, io: CliIo): Promise<Verdict | 'skip' | undefined> {
  switch (answer) {
    case 'a':
      return { verdict: 'accepted', final: item.suggestion };
    case 'r': {
      const reason = await ask('reason: ');
      return { verdict: 'rejected', ...(reason ? { reason } : {}) };
    }
    case 's':
      return 'skip';
    case 'e': {
      const text = io.env.EDITOR && io.stdin && (io.stdin as { isTTY?: boolean }).isTTY ? editInEditor(io.env.EDITOR, item.suggestion) : await ask('the decision, as JSON: ');
      try {
        return { verdict: 'edited', final: JSON.parse(text ?? '') as unknown };
      } catch {
        io.stdout.write('not JSON; nothing recorded\n');
        return undefined;
      }
    }
    default:
      return undefined;
  }
}

function editInEditor(editor: string, value: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'shadowgate-review-'));
  const file = join(dir, 'decision.json');
  try {
    writeFileSync(file, `${pretty(value)}\n`);
    spawnSync(editor, [file], { stdio: 'inherit', shell: true });
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Review items and their verdicts as JSON Lines, for outside review tools. */
export function exportReviews(store: Store, runId?: string): string[] {
  return store.reviewItems({ runId }).map((item) => JSON.stringify(item));
}

/**
 * Reviewed items as regression traces: the human's final decision (the suggestion,
 * when accepted) becomes the reference, ready to add to a suite; the suggestion reviewed is the
 * recorded outcome's decision, which the verdict judged. A rejection without a
 * `final` says the suggestion was wrong, not what was right: the item has no human
 * decision to hold a candidate to, so it is left out and counted (never replaced by the
 * recorded reference, which may be an agent's).
 */
export function reviewsAsTraces(store: Store, runId?: string): { lines: string[]; rejectedWithoutFinal: number } {
  let rejectedWithoutFinal = 0;
  const lines = store.reviewItems({ runId }).flatMap((item) => {
    const last = item.verdicts.at(-1);
    if (!last) return [];
    const decision = last.verdict === 'accepted' ? item.suggestion : last.final;
    if (decision === undefined || decision === null) {
      if (last.verdict === 'rejected') rejectedWithoutFinal += 1;
      return [];
    }
    return [
      JSON.stringify({
        schema: TRACE_SCHEMA_ID,
        id: `review-${item.runId}-${item.traceId}-${item.trial}`,
        caseId: item.traceId,
        workflow: item.workflow,
        input: item.input,
        steps: item.steps,
        // The suggestion the verdict judged, as the recorded outcome: a verdict counts for a later candidate only where it suggests the same.
        // (`completed`: the queue keeps the suggestion, not whether the run that made it completed or escalated.)
        ...(item.suggestion !== undefined && item.suggestion !== null ? { outcome: { status: 'completed', decision: item.suggestion } } : {}),
        human: { decision, verdict: last.verdict, reviewer: last.reviewer, reviewedAt: last.at, ...(last.final !== undefined ? { final: last.final } : {}) },
        tags: ['from-review'],
        metadata: { reviewOf: { runId: item.runId, traceId: item.traceId, trial: item.trial }, suggestion: item.suggestion, ...(last.reason ? { reason: last.reason } : {}) },
      }),
    ];
  });
  return { lines, rejectedWithoutFinal };
}

/** Appends verdicts from an outside review tool: one JSON object a line, `{ itemId, verdict, final?, reason?, reviewer, at? }`. */
export function importVerdicts(store: Store, file: string, text: string, now: () => Date): number {
  const issues = [];
  const verdicts: ReviewVerdictRecord[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    try {
      const v = JSON.parse(line) as Partial<ReviewVerdictRecord>;
      if (typeof v.itemId !== 'number' || !['accepted', 'edited', 'rejected'].includes(String(v.verdict)) || typeof v.reviewer !== 'string') {
        throw new Error('expected { itemId: number, verdict: accepted|edited|rejected, reviewer: string }');
      }
      if (v.verdict === 'edited' && v.final === undefined) throw new Error('an edited verdict needs the edited decision as `final`');
      verdicts.push({ ...(v as ReviewVerdictRecord), at: v.at ?? now().toISOString() });
    } catch (error) {
      issues.push({ file, line: i + 1, message: (error as Error).message });
    }
  }
  if (issues.length > 0) throw new InputError(issues);
  for (const v of verdicts) store.addVerdict(v);
  return verdicts.length;
}
