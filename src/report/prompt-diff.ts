import type { MetricDelta, VersionFlip } from '../metrics/version-diff.js';
import { forTerminal, mdCode, mdText } from './escape.js';
import { diffLines, diffStat, renderUnifiedDiff } from '../prompts/line-diff.js';
import type { RunOutcome } from '../run/run-suite.js';
import type { PromptDiff, PromptSide } from '../run/prompt-diff.js';
import { interval, ms, num, pct, pValue, usd } from './format.js';

const LABELS: Record<MetricDelta['name'], string> = {
  agreement: 'agreement',
  effectsAgreement: 'effects agreement',
  costPerRunUsd: 'cost per run',
  meanLatencyMs: 'latency (mean)',
  toolCallsPerTrace: 'tool calls per trace',
  errorRate: 'error rate',
};

/** How a figure reads, and how its change does (with its sign). */
function formatters(name: MetricDelta['name']): { value: (x: number) => string; change: (x: number) => string } {
  switch (name) {
    case 'agreement':
    case 'effectsAgreement':
    case 'errorRate':
      return { value: (x) => pct(x), change: (x) => `${(x * 100).toFixed(1)} pp` };
    case 'costPerRunUsd':
      return { value: (x) => usd(x), change: (x) => usd(Math.abs(x)) };
    case 'meanLatencyMs':
      return { value: (x) => ms(x), change: (x) => ms(Math.abs(x)) };
    case 'toolCallsPerTrace':
      return { value: (x) => num(x, 2), change: (x) => num(Math.abs(x), 2) };
  }
}

const sign = (x: number) => (x > 0 ? '+' : x < 0 ? '−' : '±');

/** One row of the figures table: name, a, b, change with its interval, p, significance. Pure. */
export function deltaRow(d: MetricDelta): string[] {
  const f = formatters(d.name);
  const value = (x: number | null, ci: [number, number] | null) => (x === null ? 'n/a' : `${f.value(x)}${ci ? ` ${interval(ci, f.value)}` : ''}`);
  const change = (x: number) => `${sign(x)}${f.change(x).replace(/^-/, '')}`;
  return [
    LABELS[d.name],
    value(d.a, d.aCi95),
    value(d.b, d.bCi95),
    d.delta === null ? 'n/a' : `${change(d.delta)}${d.deltaCi95 ? ` [${change(d.deltaCi95[0])}, ${change(d.deltaCi95[1])}]` : ''}`,
    d.p === null ? (d.name === 'agreement' || d.name === 'effectsAgreement' ? 'n/a' : '') : pValue(d.p),
    d.significant === null ? '' : d.significant ? 'significant' : 'not significant',
  ];
}

export const DELTA_HEAD = (a: string, b: string) => ['figure', a, b, `${b} − ${a} (95% CI, paired)`, 'McNemar p', 'significance'];

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}`;
  return [line(head), line(widths.map((w) => '─'.repeat(w))), ...rows.map(line)];
}

const json = (v: unknown) => (v === undefined ? 'none' : JSON.stringify(v));
const callText = (c: { name: string; args: Record<string, unknown> } | null) => (c ? `${c.name}(${JSON.stringify(c.args)})` : 'no more tool calls');

/** Where b's tool calls leave a's, in words. Pure. */
export function divergenceText(f: VersionFlip, a: string, b: string): string {
  const d = f.divergence;
  if (!d) return 'same tool calls in both';
  return `diverges at ${b} step ${d.stepIndex + 1} / ${a} step ${d.recordedStepIndex + 1}: ${b} ${d.candidate ? `calls ${callText(d.candidate)}` : 'makes no more tool calls'}, ${a} ${d.recorded ? `calls ${callText(d.recorded)}` : 'made no more'}`;
}

export function modelCallsText(run: RunOutcome): string {
  const c = run.modelCalls;
  return `${c.requests} model call(s): ${c.cacheHits} cache hit(s)${c.cassetteHits ? `, ${c.cassetteHits} from the cassette` : ''}, ${c.network} to the provider; spent ${usd(run.metrics.cost.spentUsd)}`;
}

export function flipSummary(pd: PromptDiff): string {
  const d = pd.behaviour!.diff;
  return `${d.pairs} trace(s) decided by both: ${d.flips.length} flipped (${d.fixes} fixed, ${d.regressions} regressed), ${d.decisionChanges} decision(s) changed${d.undecided ? `, ${d.undecided} undecided on one side` : ''}`;
}

function toolLines(pd: PromptDiff): string[] {
  const t = pd.behaviour!.diff.toolCallDrift;
  const head = `JSD ${num(t.jsd)} · PSI ${num(t.psi)}${t.psiBand ? ` (${t.psiBand})` : ''} · χ² p ${pValue(t.chi2P)} · mean sequence similarity ${num(t.meanSequenceSimilarity)} ${interval(t.meanSequenceSimilarityCi95, (x) => num(x))}`;
  const moved = Object.entries(t.perTool)
    .filter(([, x]) => x.reference !== x.candidate)
    .map(([name, x]) => `${name}: ${x.reference} → ${x.candidate}${x.ratio !== null ? ` (${x.ratio.toFixed(2)}×)` : ' (new)'}`);
  return [head, ...(moved.length ? moved : ['every tool called as often in both'])];
}

function textSection(title: string, a: string, b: string, labels: { a: string; b: string }, color: boolean): string[] {
  const stat = diffStat(diffLines(a, b));
  return [`${title}: ${stat.added} line(s) added, ${stat.deleted} deleted`, renderUnifiedDiff(a, b, labels, { color }).trimEnd()];
}

function renderedSection(pd: PromptDiff, color: boolean): string[] {
  if (!pd.sample) return ['rendered: no suite runs this prompt, so there is no trace to render it for (pass --suite)'];
  const title = `rendered for trace ${pd.sample.traceId} of ${pd.sample.suite}`;
  const failed = [pd.a, pd.b].filter((s) => s.renderError !== null);
  if (failed.length) return [`${title}:`, ...failed.map((s: PromptSide) => `  ${pd.name}.${s.version} does not render: ${s.renderError}`)];
  return textSection(title, pd.a.rendered!, pd.b.rendered!, { a: `${pd.name}.${pd.a.version} (rendered)`, b: `${pd.name}.${pd.b.version} (rendered)` }, color);
}

/** The prompt diff in the terminal: text diff, rendered diff, and with a suite the behaviour diff. Pure. */
export function renderPromptDiff(pd: PromptDiff, options: { color?: boolean; maxFlips?: number } = {}): string {
  const color = options.color ?? false;
  const maxFlips = options.maxFlips ?? 20;
  const [a, b] = [pd.a.version, pd.b.version];
  const lines = [`prompt ${pd.name}: ${a} → ${b}`, ''];
  lines.push(...textSection('template', pd.a.text, pd.b.text, { a: `${pd.name}.${a}`, b: `${pd.name}.${b}` }, color), '');
  lines.push(...renderedSection(pd, color));
  if (pd.behaviour) {
    const { runs, diff } = pd.behaviour;
    lines.push('', `behaviour on ${pd.behaviour.suite}: ${a} run ${runs.a.meta.runId}, ${b} run ${runs.b.meta.runId}`);
    lines.push(`  ${a}: ${modelCallsText(runs.a)}`, `  ${b}: ${modelCallsText(runs.b)}`);
    lines.push(`  ${flipSummary(pd)}`, '');
    lines.push(...table(DELTA_HEAD(a, b), diff.deltas.map(deltaRow)), '');
    lines.push(`  tool calls of ${b} against ${a}:`, ...toolLines(pd).map((l) => `    ${l}`));
    if (diff.flips.length) {
      lines.push('', `  flipped traces (${diff.flips.length}${diff.flips.length > maxFlips ? `, the first ${maxFlips} shown` : ''}):`);
      for (const f of diff.flips.slice(0, maxFlips)) {
        lines.push(`    ${forTerminal(f.traceId)}  ${f.kind === 'fix' ? 'fixed    ' : 'regressed'}  ${a} ${forTerminal(json(f.decisionA))} → ${b} ${forTerminal(json(f.decisionB))} (reference ${forTerminal(json(f.reference))})`);
        lines.push(`      ${forTerminal(divergenceText(f, a, b))}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

const fence = (text: string) => {
  const ticks = '`'.repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  // Rendered prompts carry trace text: each line's control and bidi characters are shown escaped.
  return `${ticks}diff\n${text.trimEnd().split('\n').map(forTerminal).join('\n')}\n${ticks}`;
};

/** The prompt diff as Markdown (a PR comment). Pure. */
export function renderPromptDiffMarkdown(pd: PromptDiff, options: { maxFlips?: number } = {}): string {
  const maxFlips = options.maxFlips ?? 100;
  const [a, b] = [pd.a.version, pd.b.version];
  const out = [`## Prompt ${mdText(pd.name)}: ${mdText(a)} → ${mdText(b)}`, ''];
  const stat = diffStat(diffLines(pd.a.text, pd.b.text));
  out.push(`### Template (${stat.added} added, ${stat.deleted} deleted)`, '', fence(renderUnifiedDiff(pd.a.text, pd.b.text, { a: `${pd.name}.${a}`, b: `${pd.name}.${b}` })), '');
  if (pd.sample && pd.a.rendered !== null && pd.b.rendered !== null) {
    out.push(`### Rendered for trace ${mdCode(pd.sample.traceId)}`, '', fence(renderUnifiedDiff(pd.a.rendered, pd.b.rendered, { a: `${pd.name}.${a}`, b: `${pd.name}.${b}` })), '');
  } else {
    out.push('### Rendered', '', ...renderedSection(pd, false).map(mdText), '');
  }
  if (pd.behaviour) {
    const { runs, diff } = pd.behaviour;
    const md = (head: string[], rows: string[][]) => [`| ${head.map(mdText).join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
    out.push(`### Behaviour on ${mdText(pd.behaviour.suite)}`, '');
    out.push(`${mdText(flipSummary(pd))}.`, '', `- ${mdText(a)} (run ${mdCode(runs.a.meta.runId)}): ${mdText(modelCallsText(runs.a))}`, `- ${mdText(b)} (run ${mdCode(runs.b.meta.runId)}): ${mdText(modelCallsText(runs.b))}`, '');
    out.push(...md(DELTA_HEAD(a, b), diff.deltas.map((d) => deltaRow(d).map(mdText))), '');
    out.push(`**Tool calls of ${mdText(b)} against ${mdText(a)}:** ${mdText(toolLines(pd).join('; '))}`, '');
    if (diff.flips.length) {
      out.push(`#### Flipped traces (${diff.flips.length})`, '');
      out.push(
        ...md(
          ['trace', 'change', a, b, 'reference', 'divergence'],
          diff.flips.slice(0, maxFlips).map((f) => [mdCode(f.traceId, { cell: true }), f.kind === 'fix' ? 'fixed' : 'regressed', mdCode(json(f.decisionA), { cell: true }), mdCode(json(f.decisionB), { cell: true }), mdCode(json(f.reference), { cell: true }), mdText(divergenceText(f, a, b))]),
        ),
      );
      if (diff.flips.length > maxFlips) out.push('', `… and ${diff.flips.length - maxFlips} more (the JSON has every one)`);
      out.push('');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** The prompt diff as JSON (`shadowgate.prompt-diff/v1`). Pure. */
export function promptDiffDocument(pd: PromptDiff) {
  const side = (s: PromptSide) => ({ version: s.version, file: s.file, rendered: s.rendered, renderError: s.renderError });
  const run = (r: RunOutcome) => ({ runId: r.meta.runId, candidate: r.meta.candidate, counts: r.counts, metrics: r.metrics, modelCalls: r.modelCalls });
  return {
    schema: 'shadowgate.prompt-diff/v1',
    name: pd.name,
    a: side(pd.a),
    b: side(pd.b),
    template: { ...diffStat(diffLines(pd.a.text, pd.b.text)), unified: renderUnifiedDiff(pd.a.text, pd.b.text, { a: `${pd.name}.${pd.a.version}`, b: `${pd.name}.${pd.b.version}` }) },
    sample: pd.sample,
    behaviour: pd.behaviour
      ? { suite: pd.behaviour.suite, runs: { a: run(pd.behaviour.runs.a), b: run(pd.behaviour.runs.b) }, ...pd.behaviour.diff }
      : null,
  };
}
