import type { MetricDelta } from '../metrics/version-diff.js';
import { diffHunks, diffLines, diffStat } from '../prompts/line-diff.js';
import type { PromptDiff } from '../run/prompt-diff.js';
import { num, pValue } from './format.js';
import { DELTA_HEAD, deltaRow, divergenceText, flipSummary, modelCallsText } from './prompt-diff.js';
import { compilePage } from './page.js';
import { PROMPT_DIFF_TEMPLATE } from './templates/prompt-diff-template.js';

/** Flipped traces listed on the page at most. */
const MAX_FLIPS = 300;
const MAX_TEXT = 500;

const page = compilePage(PROMPT_DIFF_TEMPLATE);

/** A self-contained HTML page of a prompt diff: text and rendered diffs, and the behaviour diff. No script. Pure. */
export function renderPromptDiffHtml(pd: PromptDiff): string {
  return page(view(pd));
}

const CLS = { same: 'same', del: 'del', add: 'add' } as const;

function diffView(a: string, b: string, labels: { a: string; b: string }) {
  const hunks = diffHunks(diffLines(a, b));
  if (hunks.length === 0) return [{ cls: 'same', text: `(no changes between ${labels.a} and ${labels.b})` }];
  return [
    { cls: 'file', text: `--- ${labels.a}` },
    { cls: 'file', text: `+++ ${labels.b}` },
    ...hunks.flatMap((h) => [
      { cls: 'hunk', text: `@@ -${h.aStart},${h.aLines} +${h.bStart},${h.bLines} @@` },
      ...h.lines.map((l) => ({ cls: CLS[l.kind], text: `${l.kind === 'same' ? ' ' : l.kind === 'del' ? '-' : '+'}${l.text}` })),
    ]),
  ];
}

const cut = (s: string) => (s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}… (${s.length - MAX_TEXT} more characters)` : s);
const show = (v: unknown) => cut(v === undefined ? 'none' : JSON.stringify(v));
const round = (x: number) => Math.round(x * 10) / 10;

/** One row per change with an interval, each on its own symmetric scale around 0 (drawn by the intervalRows partial, without bars or ticks). */
function deltaChart(deltas: readonly MetricDelta[]) {
  const shown = deltas.filter((d) => d.delta !== null && d.deltaCi95 !== null);
  if (shown.length === 0) return null;
  const width = 640;
  const left = 170;
  const right = width - 190;
  const zeroX = round((left + right) / 2);
  const half = (right - left) / 2;
  const rowH = 30;
  return {
    width,
    height: shown.length * rowH + 8,
    zeroX,
    ticks: [],
    rows: shown.map((d, i) => {
      const [lo, hi] = d.deltaCi95!;
      const span = Math.max(Math.abs(d.delta!), Math.abs(lo), Math.abs(hi)) || 1;
      const x = (v: number) => round(zeroX + (v / span) * half);
      const midY = 4 + i * rowH + rowH / 2;
      const row = deltaRow(d);
      const interval = { has: true, barCls: null, hasCi: true, ciX1: x(lo), ciX2: x(hi), capY1: midY - 6, capY2: midY + 6 };
      return { label: row[0]!, textY: midY + 4, midY, x: x(d.delta!), ...interval, ptCls: d.significant ? 'pt sig' : 'pt', valueX: width - 4, value: row[3]! };
    }),
  };
}

function view(pd: PromptDiff) {
  const [a, b] = [pd.a.version, pd.b.version];
  const labels = { a: `${pd.name}.${a}`, b: `${pd.name}.${b}` };
  const stat = diffStat(diffLines(pd.a.text, pd.b.text));
  const renderFailures = [pd.a, pd.b].filter((s) => s.renderError !== null).map((s) => `${pd.name}.${s.version} does not render: ${s.renderError}`);
  const rendered = !pd.sample
    ? { traceId: null, notes: ['No suite runs this prompt, so there is no trace to render it for (pass --suite).'], lines: [] }
    : renderFailures.length
      ? { traceId: pd.sample.traceId, notes: renderFailures, lines: [] }
      : { traceId: pd.sample.traceId, notes: [`trace ${pd.sample.traceId} of ${pd.sample.suite}`], lines: diffView(pd.a.rendered!, pd.b.rendered!, labels) };
  const beh = pd.behaviour;
  return {
    pageTitle: `shadowgate · prompt ${pd.name} ${a} → ${b}`,
    name: pd.name,
    a,
    b,
    fileA: pd.a.file,
    fileB: pd.b.file,
    template: { stat: `${stat.added} line(s) added, ${stat.deleted} deleted`, lines: diffView(pd.a.text, pd.b.text, labels) },
    rendered,
    behaviour: beh
      ? {
          suite: beh.suite,
          summary: `${flipSummary(pd)}.`,
          calls: [`${a} (run ${beh.runs.a.meta.runId}): ${modelCallsText(beh.runs.a)}`, `${b} (run ${beh.runs.b.meta.runId}): ${modelCallsText(beh.runs.b)}`],
          head: DELTA_HEAD(a, b),
          rows: beh.diff.deltas.map(deltaRow),
          chart: deltaChart(beh.diff.deltas),
          toolSummary: (() => {
            const t = beh.diff.toolCallDrift;
            return `JSD ${num(t.jsd)} · PSI ${num(t.psi)} · χ² p ${pValue(t.chi2P)} · mean sequence similarity ${num(t.meanSequenceSimilarity)}`;
          })(),
          tools: Object.entries(beh.diff.toolCallDrift.perTool).map(([name, t]) => ({ name, a: String(t.reference), b: String(t.candidate), ratio: t.ratio === null ? 'new' : `${t.ratio.toFixed(2)}×` })),
          flipCount: beh.diff.flips.length,
          flips: beh.diff.flips.slice(0, MAX_FLIPS).map((f) => ({
            traceId: f.traceId,
            change: f.kind === 'fix' ? 'fixed' : 'regressed',
            cls: f.kind === 'fix' ? 'fix' : 'regression',
            decisionA: show(f.decisionA),
            decisionB: show(f.decisionB),
            reference: show(f.reference),
            divergence: cut(divergenceText(f, a, b)),
          })),
          flipsMore: Math.max(0, beh.diff.flips.length - MAX_FLIPS),
        }
      : null,
  };
}
