/**
 * The prompt diff page's Handlebars template, kept in a .ts file so that `tsc` ships it in dist/.
 * As in the run report: data only through `{{ }}` (escaped), no script, class names
 * only from a fixed list in prompt-diff-html.ts, SVG attributes numbers only.
 */
export const PROMPT_DIFF_TEMPLATE = `{{#> pageHead}}
  .meta, .note { color: #57606a; margin: 2px 0; overflow-wrap: anywhere; }
  pre.diff { border: 1px solid #d0d7de; border-radius: 6px; padding: 8px 0; overflow-x: auto; font: 12px/1.5 ui-monospace, monospace; margin: 6px 0; }
  pre.diff span { display: block; padding: 0 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
  pre.diff .del { background: #ffebe9; color: #82071e; }
  pre.diff .add { background: #dafbe1; color: #116329; }
  pre.diff .hunk { color: #0550ae; background: #ddf4ff; }
  pre.diff .file { color: #57606a; font-weight: 600; }
  table { border-collapse: collapse; width: 100%; margin: 6px 0; }
  th, td { text-align: left; padding: 5px 9px; border-bottom: 1px solid #d0d7de; vertical-align: top; overflow-wrap: anywhere; }
  th { background: #f6f8fa; }
  td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
  .tag { font-size: 12px; font-weight: 600; padding: 1px 7px; border-radius: 9px; border: 1px solid; white-space: nowrap; }
  .tag.fix, .tag.yes { color: #1a7f37; background: #dafbe1; }
  .tag.regression { color: #cf222e; background: #ffebe9; }
  .tag.no { color: #57606a; background: #f6f8fa; }
  code { font: 12px ui-monospace, monospace; }
  svg { display: block; max-width: 100%; height: auto; }
  svg text { font: 12px system-ui, sans-serif; fill: #1f2328; }
  svg .zero { stroke: #8c959f; stroke-dasharray: 3 3; }
  svg .ci { stroke: #1f2328; stroke-width: 2; }
  svg .pt { fill: #0969da; }
  svg .pt.sig { fill: #cf222e; }
{{/pageHead}}
<body>
<main>
<h1>Prompt {{name}}: {{a}} → {{b}}</h1>
<p class="meta">{{fileA}} → {{fileB}}</p>

<h2>Template</h2>
<p class="note">{{template.stat}}</p>
<pre class="diff">{{#each template.lines}}<span class="{{cls}}">{{text}}</span>{{/each}}</pre>

<h2>Rendered{{#if rendered.traceId}} for trace <code>{{rendered.traceId}}</code>{{/if}}</h2>
{{#each rendered.notes}}<p class="note">{{this}}</p>{{/each}}
{{#if rendered.lines.length}}<pre class="diff">{{#each rendered.lines}}<span class="{{cls}}">{{text}}</span>{{/each}}</pre>{{/if}}

{{#if behaviour}}
<h2>Behaviour on {{behaviour.suite}}</h2>
<p>{{behaviour.summary}}</p>
{{#each behaviour.calls}}<p class="note">{{this}}</p>{{/each}}
<table>
  <thead><tr>{{#each behaviour.head}}<th>{{this}}</th>{{/each}}</tr></thead>
  <tbody>{{#each behaviour.rows}}<tr>{{#each this}}<td class="num">{{this}}</td>{{/each}}</tr>{{/each}}</tbody>
</table>
{{#if behaviour.chart}}
<svg viewBox="0 0 {{behaviour.chart.width}} {{behaviour.chart.height}}" width="{{behaviour.chart.width}}" height="{{behaviour.chart.height}}" role="img" aria-label="changes with 95% intervals">
  <line class="zero" x1="{{behaviour.chart.zeroX}}" y1="0" x2="{{behaviour.chart.zeroX}}" y2="{{behaviour.chart.height}}"/>
  {{> intervalRows behaviour.chart}}
</svg>
<p class="note">each change ({{b}} − {{a}}, paired by trace) on its own scale, with its 95% interval; red: significant</p>
{{/if}}

<h2>Tool calls of {{b}} against {{a}}</h2>
<p class="note">{{behaviour.toolSummary}}</p>
<table>
  <thead><tr><th>tool</th><th>{{a}}</th><th>{{b}}</th><th>ratio</th></tr></thead>
  <tbody>{{#each behaviour.tools}}<tr><td>{{name}}</td><td class="num">{{a}}</td><td class="num">{{b}}</td><td class="num">{{ratio}}</td></tr>{{/each}}</tbody>
</table>

<h2>Flipped traces ({{behaviour.flipCount}})</h2>
{{#if behaviour.flips.length}}
<table>
  <thead><tr><th>trace</th><th>change</th><th>{{a}}</th><th>{{b}}</th><th>reference</th><th>divergence</th></tr></thead>
  <tbody>{{#each behaviour.flips}}<tr><td><code>{{traceId}}</code></td><td><span class="tag {{cls}}">{{change}}</span></td><td>{{decisionA}}</td><td>{{decisionB}}</td><td>{{reference}}</td><td>{{divergence}}</td></tr>{{/each}}</tbody>
</table>
{{#if behaviour.flipsMore}}<p class="note">… and {{behaviour.flipsMore}} more (the JSON has every one)</p>{{/if}}
{{else}}
<p class="note">No trace changed its agreement with the reference.</p>
{{/if}}
{{/if}}
<footer class="note">shadowgate prompt diff</footer>
</main>
</body>
</html>
`;
