import type { Attempt, ChildMessage } from './protocol.js';

/** What the parent knows of one child when a message from it arrives. */
export interface ChildState {
  /** The child has said `ready` (or `load-error`) already. */
  started: boolean;
  /** Is this job id in flight in this child (sent to it, not yet ended)? */
  inFlight(job: number): boolean;
  /** Was this job ever sent to this child? (code a trace started may call a tool or make a request after it ended: a stray, not a forgery) */
  sentJob(job: number): boolean;
  /** Was a trace with this id ever sent to this child? (a stray names the trace that started it) */
  sentTrace(traceId: string): boolean;
}

/**
 * Checks one message from a child before the parent uses it: its shape and types, and that
 * any job it names is in flight in THAT child. Candidate code shares the child's process and
 * can write to its channel, so a message is untrusted input: anything else is refused (the
 * reason is returned) and the child is killed, never trusted and never a crash of the parent.
 */
export function checkChildMessage(raw: unknown, child: ChildState): { ok: true; message: ChildMessage } | { ok: false; why: string } {
  const fail = (why: string) => ({ ok: false as const, why });
  if (!isRecord(raw)) return fail(`a message that is not an object (${describe(raw)})`);
  const m = raw;
  const job = () => (isJobId(m.job) ? (child.inFlight(m.job) ? null : `job ${m.job} is not in flight in this process`) : `job is ${describe(m.job)}, not a job id`);
  const sentJob = () => (isJobId(m.job) ? (child.sentJob(m.job) ? null : `job ${m.job} was never sent to this process`) : `job is ${describe(m.job)}, not a job id`);
  switch (m.t) {
    case 'ready':
      return child.started ? fail('`ready` from a process that was already started') : ok(m);
    case 'load-error':
      if (child.started) return fail('`load-error` from a process that was already started');
      return typeof m.message === 'string' ? ok(m) : fail('`load-error` without a message');
    case 'tool': {
      const bad = sentJob() ?? (isId(m.call) ? null : '`tool` without a call id') ?? (typeof m.name === 'string' ? null : '`tool` without a tool name') ?? (m.args === undefined || isRecord(m.args) ? null : '`tool` arguments that are not an object') ??
        (m.local === undefined || m.local === 'result' || m.local === 'error' || m.local === 'stop' ? null : `\`tool\` answered as ${describe(m.local)}`);
      return bad ? fail(bad) : ok(m);
    }
    case 'http': {
      const bad =
        sentJob() ??
        (isId(m.req) ? null : '`http` without a request id') ??
        (typeof m.method === 'string' && typeof m.url === 'string' && URL.canParse(m.url) ? null : '`http` without a method and an absolute URL') ??
        (Array.isArray(m.headers) && m.headers.every((h) => Array.isArray(h) && h.length === 2 && typeof h[0] === 'string' && typeof h[1] === 'string') ? null : '`http` headers that are not name/value pairs') ??
        (m.body === null || m.body instanceof Uint8Array ? null : '`http` body that is not bytes');
      return bad ? fail(bad) : ok(m);
    }
    case 'attempt': {
      if (typeof m.stray !== 'boolean') return fail('`attempt` without `stray`');
      // The runtime reports a trace in flight by its job, and a stray by no job (with the trace that started it, where known).
      const bad = m.stray
        ? m.job !== null
          ? '`attempt` marked stray with a job'
          : m.startedBy !== null && (typeof m.startedBy !== 'string' || !child.sentTrace(m.startedBy))
            ? `\`attempt\` started by ${describe(m.startedBy)}, a trace never sent to this process`
            : null
        : job();
      const why = bad ?? checkAttempt(m.attempt);
      return why ? fail(why) : ok(m);
    }
    case 'done': {
      const bad = job() ?? ('value' in m ? null : '`done` without a value');
      return bad ? fail(bad) : ok(m);
    }
    case 'threw': {
      const bad = job() ?? (isRecord(m.error) && typeof m.error.code === 'string' && typeof m.error.message === 'string' ? null : '`threw` without an error code and message');
      return bad ? fail(bad) : ok(m);
    }
    case 'crash':
      return isRecord(m.error) && typeof m.error.message === 'string' && (m.error.stack === undefined || typeof m.error.stack === 'string') ? ok(m) : fail('`crash` without an error message');
    default:
      return fail(`a message of unknown type ${describe(m.t)}`);
  }
}

function checkAttempt(a: unknown): string | null {
  if (!isRecord(a)) return '`attempt` without an attempt';
  if (a.kind !== 'blocked' && a.kind !== 'denied') return `\`attempt\` of unknown kind ${describe(a.kind)}`;
  if (typeof a.method !== 'string' || typeof a.target !== 'string' || typeof a.why !== 'string') return '`attempt` without a method, target and reason';
  if (a.capability !== undefined && typeof a.capability !== 'string') return '`attempt` with a capability that is not a name';
  return null;
}

const ok = (message: Record<string, unknown>) => ({ ok: true as const, message: message as unknown as ChildMessage });

const isId = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;
const isJobId = isId;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short, safe description of a value a candidate sent: never more than a type and a few characters. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value);
  return Array.isArray(value) ? 'an array' : typeof value;
}

/** The run-level record of a refused message: the child that sent it was killed. */
export function protocolAttempt(why: string): Attempt {
  return { kind: 'protocol', method: 'IPC', target: "shadowgate's channel", why };
}
