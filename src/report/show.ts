import { inFileOrder, type TraceResult } from '../replay/types.js';
import { isNotable } from './terminal.js';
import { ms, usd } from './format.js';
import { violationText } from './policy-lines.js';
import { forTerminal } from './escape.js';

const json = (value: unknown, max = 160) => {
  const text = JSON.stringify(value) ?? 'undefined';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};

/** An input longer than this many lines is cut, with a note of how much was left out and where the trace is. */
const MAX_INPUT_LINES = 40;

/** The trace's input, what the candidate saw, as indented JSON; a result stored before inputs were kept says where the trace is. */
function inputLines(r: TraceResult): string[] {
  const where = `${r.source.file}:${r.source.line}`;
  if (!('input' in r)) return [`  input: not kept with this result (stored by an earlier shadowgate); the trace is at ${where}`];
  // As JSON even for a string: a line break in the input stays `\n`, so the input cannot add lines that read as output.
  const text = (JSON.stringify(r.input, null, 2) ?? String(r.input)).split('\n');
  const shown = text.slice(0, MAX_INPUT_LINES).map((line) => `    ${line}`);
  const left = text.length - shown.length;
  return ['  input (what the candidate saw):', ...shown, ...(left > 0 ? [`    … ${left} more line(s); the whole trace is at ${where}`] : [])];
}

/**
 * One trace's replay, step by step: the input the candidate saw, what it called and got back, which
 * recorded call each step stood for, where it left the recorded path and why. Pure.
 */
export function renderTraceReplay(r: TraceResult): string {
  const lines = [
    `${r.traceId} (case ${r.caseId}, trial ${r.trial}): ${r.status}${r.error ? ` — ${r.error.code}: ${r.error.message}` : ''}`,
    `  decided ${json(r.decision)}; reference ${json(r.reference.decision)}; ${r.agree === null ? 'not compared' : r.agree ? 'agrees' : 'disagrees'}`,
    `  latency ${ms(r.latencyMs)} · cost ${usd(r.costUsd)} · sequence similarity ${r.sequenceSimilarity?.toFixed(3) ?? 'n/a'}`,
    '',
    ...inputLines(r),
    '',
  ];
  const d = r.divergence;
  let tool = 0;
  r.steps.forEach((s, i) => {
    const mark = d && d.stepIndex === i ? '▶' : ' ';
    if (s.type === 'llm') {
      const calls = (s.output.toolCalls ?? []).map((c) => c.name).join(', ');
      const tokens = s.usage ? `, ${s.usage.inputTokens} in / ${s.usage.outputTokens} out` : '';
      const from = s.servedFrom ? `, from the ${s.servedFrom}` : '';
      lines.push(`${mark} ${String(i).padStart(3)}  model ${s.model}${s.promptVersion ? ` (${s.promptVersion})` : ''}${tokens}${from}: ${calls ? `calls ${calls}` : `answers ${json(s.output.text ?? '')}`}`);
      return;
    }
    const recorded = r.reference.tools[tool];
    tool++;
    const got = s.error !== undefined ? `failed: ${json(s.error)}` : `→ ${json(s.result)}`;
    lines.push(`${mark} ${String(i).padStart(3)}  ${s.name} ${json(s.args, 100)} ${got}  [${s.mock ?? 'recorded'}${recorded && recorded !== s.name ? `; the recording has ${recorded} here` : ''}]`);
  });
  if (r.steps.length === 0) lines.push('  (no steps)');
  lines.push('');
  if (d) {
    lines.push(
      `  left the recorded path at step ${d.stepIndex} (recorded step ${d.recordedStepIndex}):`,
      `    candidate: ${d.candidate ? `${d.candidate.name} ${json(d.candidate.args)}` : '(no more calls)'}`,
      `    recording: ${d.recorded ? `${d.recorded.name} ${json(d.recorded.args)}` : '(no more calls)'}`,
    );
  } else lines.push('  followed the recorded path to the end');
  for (const v of r.violations ?? []) lines.push(`  ${violationText(v, 0)}`);
  // Ids, tool names, models and messages come from traces: each line stays one line.
  return `${lines.map(forTerminal).join('\n')}\n`;
}

/** Traces listed at most by `show <run>`. */
const MAX_LISTED = 50;

/**
 * What `show <run>` lists: the traces worth a look (disagreements, no outcome), each once and
 * in file order, with how many of its trials are worth a look where it was run several times. Pure.
 */
export function renderNotableTraces(runId: string, results: Iterable<TraceResult>): string {
  const traces = new Map<string, { first: TraceResult; notable: number; trials: number }>();
  for (const r of results) {
    const t = traces.get(r.traceId) ?? { first: r, notable: 0, trials: 0 };
    t.trials++;
    if (isNotable(r)) {
      if (t.notable === 0) t.first = r;
      t.notable++;
    }
    traces.set(r.traceId, t);
  }
  // In file order, whatever order the results finished (and were stored) in.
  const notable = [...traces.values()].filter((t) => t.notable > 0).sort((a, b) => inFileOrder(a.first, b.first));
  const lines = notable.slice(0, MAX_LISTED).map(({ first: r, notable: n, trials }) => {
    const count = trials > 1 ? ` ×${n} of ${trials} trials` : '';
    return `  ${forTerminal(r.traceId)}${count}  ${r.status}${r.agree === false ? ', disagrees' : ''}${r.divergence ? `, diverged at step ${r.divergence.stepIndex}` : ''}`;
  });
  const tail =
    notable.length === 0
      ? '  every trace agrees'
      : `  ${notable.length} trace(s) worth a look${notable.length > MAX_LISTED ? ` (the first ${MAX_LISTED} shown)` : ''}; \`shadowgate show ${forTerminal(runId)} <traceId>\` for one`;
  return `${[...lines, tail].join('\n')}\n`;
}
