/**
 * The HTML report's Handlebars template, kept in a .ts file so that `tsc` ships it in dist/.
 *
 * Rules that keep hostile trace content inert: data goes only through `{{ }}` (HTML-escaped),
 * never `{{{ }}}`; no <script>; no data in `style` or `on*` attributes; `class` attributes
 * take only names picked from a fixed list in html.ts; SVG attributes take numbers only.
 */
export const REPORT_TEMPLATE = `{{#> pageHead}}
  :root { --pass: #1a7f37; --fail: #cf222e; --inconclusive: #9a6700; --muted: #57606a; --line: #d0d7de; --soft: #f6f8fa; --cand: #0969da; --ref: #8c959f; }
  * { box-sizing: border-box; }
  h3 { font-size: 13px; margin: 0 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
  .meta { color: var(--muted); margin: 0; overflow-wrap: anywhere; }
  .verdict { display: flex; align-items: center; gap: 16px; margin: 18px 0 8px; padding: 14px 18px; border-radius: 8px; border: 2px solid; }
  .verdict .word { font-size: 26px; font-weight: 700; letter-spacing: .06em; }
  .verdict.pass { border-color: var(--pass); background: #dafbe1; color: var(--pass); }
  .verdict.fail { border-color: var(--fail); background: #ffebe9; color: var(--fail); }
  .verdict.inconclusive { border-color: var(--inconclusive); background: #fff8c5; color: var(--inconclusive); }
  .verdict .why { color: #1f2328; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
  th { background: var(--soft); font-weight: 600; }
  td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
  .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; border: 1px solid; white-space: nowrap; }
  .badge.pass, .badge.ok { color: var(--pass); border-color: var(--pass); background: #dafbe1; }
  .badge.fail, .badge.bad { color: var(--fail); border-color: var(--fail); background: #ffebe9; }
  .badge.inconclusive, .badge.warn { color: var(--inconclusive); border-color: #d4a72c; background: #fff8c5; }
  .badge.neutral { color: var(--muted); border-color: var(--line); background: var(--soft); }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 16px; }
  .card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
  .card p { margin: 4px 0; }
  .note { color: var(--muted); }
  svg { display: block; max-width: 100%; height: auto; }
  svg text { font: 12px -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; fill: #1f2328; }
  svg .axis { stroke: var(--line); stroke-width: 1; }
  svg .tick { fill: var(--muted); font-size: 11px; }
  svg .bar-cand { fill: var(--cand); opacity: .25; }
  svg .bar-base { fill: var(--ref); opacity: .3; }
  svg .ci { stroke: #1f2328; stroke-width: 2; }
  svg .pt-cand { fill: var(--cand); }
  svg .pt-base { fill: #57606a; }
  svg .threshold { stroke: var(--fail); stroke-width: 1.5; stroke-dasharray: 4 3; }
  svg .ref { fill: var(--ref); }
  svg .cand { fill: var(--cand); }
  .legend span { display: inline-flex; align-items: center; gap: 4px; margin-right: 14px; color: var(--muted); font-size: 12px; }
  .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; }
  .legend .ref { background: var(--ref); } .legend .cand { background: var(--cand); } .legend .threshold { background: var(--fail); height: 2px; }
  ul.ids { margin: 6px 0 0; padding-left: 18px; columns: 3; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
  details.trace { border: 1px solid var(--line); border-radius: 6px; margin: 6px 0; }
  details.trace > summary { cursor: pointer; padding: 8px 12px; display: flex; flex-wrap: wrap; gap: 8px 12px; align-items: baseline; list-style-position: inside; }
  details.trace[open] > summary { border-bottom: 1px solid var(--line); background: var(--soft); }
  details.trace.flagged { border-left: 4px solid var(--fail); }
  .tid { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-weight: 600; overflow-wrap: anywhere; }
  .dec { color: var(--muted); overflow-wrap: anywhere; }
  .dec b { color: #1f2328; font-weight: 600; }
  .body { padding: 10px 12px; }
  .body + .body { border-top: 1px dashed var(--line); }
  h3.trial { text-transform: none; letter-spacing: 0; color: #1f2328; overflow-wrap: anywhere; }
  .sides { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
  ol.steps { list-style: none; margin: 0; padding: 0; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; }
  ol.steps li { padding: 4px 8px; border-left: 3px solid transparent; border-bottom: 1px dashed var(--line); overflow-wrap: anywhere; white-space: pre-wrap; }
  ol.steps li .ix { color: var(--muted); display: inline-block; min-width: 2.5em; }
  ol.steps li.llm { color: var(--muted); }
  ol.steps li.divergence { border-left-color: var(--fail); background: #ffebe9; }
  ol.steps li.end { color: var(--muted); font-style: italic; }
  .diverged-at { margin: 8px 0 0; color: var(--fail); }
  .err { margin: 8px 0 0; color: var(--fail); overflow-wrap: anywhere; }
  footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
{{/pageHead}}
<body>
<main>
<h1>{{head.suite}}</h1>
<p class="meta">{{head.candidate}} vs {{head.reference}} · {{head.phase}} phase · run {{head.runId}}</p>
<p class="meta">{{head.when}}{{#if head.git}} · {{head.git}}{{/if}}</p>
{{#if head.shard}}<p class="meta"><strong>This is {{head.shard}}.</strong></p>{{/if}}

<section class="verdict {{verdict.cls}}">
  <span class="word">{{verdict.label}}</span>
  <span class="why">{{verdict.summary}}</span>
</section>

{{#if phase.length}}
<h2>The {{head.phase}} phase</h2>
<table>
  <tbody>
  {{#each phase}}
    <tr><th>{{label}}</th><td>{{value}}</td></tr>
  {{/each}}
  </tbody>
</table>
{{/if}}

<h2>Gate checks</h2>
{{#if checks.length}}
<table>
  <thead><tr><th>check</th><th>value</th><th>threshold</th><th>status</th><th>reason</th></tr></thead>
  <tbody>
  {{#each checks}}
    <tr><td>{{name}}</td><td class="num">{{value}}</td><td class="num">{{threshold}}</td><td><span class="badge {{cls}}">{{status}}</span></td><td>{{reason}}</td></tr>
  {{/each}}
  </tbody>
</table>
{{else}}
<p class="note">No gate checks are configured.</p>
{{/if}}

<h2>Summary</h2>
<table>
  <tbody>
  {{#each summary}}
    <tr><th>{{label}}</th><td>{{value}}</td></tr>
  {{/each}}
  </tbody>
</table>
{{#each warnings}}<p class="note">warning: {{this}}</p>{{/each}}
{{#if issues.count}}<p class="note">{{issues.count}} bad trace line(s) skipped{{#if issues.first}}, first: {{issues.first}}{{/if}}</p>{{/if}}

{{#if reversibility}}
<h2>Reversibility</h2>
<p>Workflow cap: <b>{{reversibility.cap}}</b></p>
<table>
  <thead><tr><th>tool</th><th>effect class</th><th>cap</th><th>{{reversibility.callsHeader}}</th></tr></thead>
  <tbody>
  {{#each reversibility.rows}}
    <tr><td>{{tool}}</td><td>{{effect}}</td><td>{{cap}}</td><td class="num">{{calls}}</td></tr>
  {{/each}}
  </tbody>
</table>
{{/if}}

<h2>Charts</h2>
<div class="grid">
  <div class="card">
    <h3>Agreement, with 95% interval</h3>
    <svg viewBox="0 0 {{agreementChart.width}} {{agreementChart.height}}" width="{{agreementChart.width}}" height="{{agreementChart.height}}" role="img" aria-label="agreement chart">
      {{> intervalRows agreementChart}}
      {{#if agreementChart.threshold}}
        <line class="threshold" x1="{{agreementChart.threshold.x}}" y1="{{agreementChart.top}}" x2="{{agreementChart.threshold.x}}" y2="{{agreementChart.bottom}}"/>
      {{/if}}
    </svg>
    <p class="legend">{{#if agreementChart.threshold}}<span><i class="threshold"></i>gate minimum {{agreementChart.threshold.label}}</span>{{/if}}<span>bar and dot: rate · whisker: 95% Wilson interval</span></p>
  </div>

  <div class="card">
    <h3>Cost per run</h3>
    {{#if costChart}}
    <svg viewBox="0 0 {{costChart.width}} {{costChart.height}}" width="{{costChart.width}}" height="{{costChart.height}}" role="img" aria-label="cost chart">
      {{> intervalRows costChart}}
    </svg>
    <p class="legend"><span>whisker: bootstrap 95% interval</span></p>
    {{/if}}
    {{#each costNotes}}<p class="note">{{this}}</p>{{/each}}
  </div>

  <div class="card">
    <h3>Tool calls: reference vs candidate</h3>
    {{#if toolChart}}
    <svg viewBox="0 0 {{toolChart.width}} {{toolChart.height}}" width="{{toolChart.width}}" height="{{toolChart.height}}" role="img" aria-label="tool-call distribution">
      {{#each toolChart.rows}}
        <text x="4" y="{{textY}}">{{label}}</text>
        <rect class="ref" x="{{x0}}" y="{{refY}}" width="{{refW}}" height="{{barH}}" rx="2"/>
        <text class="tick" x="{{refTextX}}" y="{{refTextY}}">{{refLabel}}</text>
        <rect class="cand" x="{{x0}}" y="{{candY}}" width="{{candW}}" height="{{barH}}" rx="2"/>
        <text class="tick" x="{{candTextX}}" y="{{candTextY}}">{{candLabel}}</text>
      {{/each}}
    </svg>
    <p class="legend"><span><i class="ref"></i>reference (recorded)</span><span><i class="cand"></i>candidate</span></p>
    {{/if}}
    {{#each toolNotes}}<p class="note">{{this}}</p>{{/each}}
  </div>
</div>

{{#if flips}}
<h2>Flips against the baseline, {{flips.baselineName}}</h2>
<p>{{flips.summary}}</p>
<div class="grid">
  <div class="card"><h3>Regressions ({{flips.regressionCount}})</h3>
    {{#if flips.regressions.length}}<ul class="ids">{{#each flips.regressions}}<li>{{this}}</li>{{/each}}</ul>{{else}}<p class="note">none</p>{{/if}}
    {{#if flips.regressionsMore}}<p class="note">… and {{flips.regressionsMore}} more</p>{{/if}}
  </div>
  <div class="card"><h3>Fixes ({{flips.fixCount}})</h3>
    {{#if flips.fixes.length}}<ul class="ids">{{#each flips.fixes}}<li>{{this}}</li>{{/each}}</ul>{{else}}<p class="note">none</p>{{/if}}
    {{#if flips.fixesMore}}<p class="note">… and {{flips.fixesMore}} more</p>{{/if}}
  </div>
</div>
{{/if}}

<h2>Traces</h2>
<p class="note">{{traces.intro}}</p>
{{#each traces.items}}
<details class="trace{{#if flagged}} flagged{{/if}}"{{#if open}} open{{/if}}>
  <summary><span class="tid">{{id}}</span> <span class="badge {{statusCls}}">{{status}}</span> <span class="badge {{agreeCls}}">{{agreeLabel}}</span>
    <span class="dec">decision <b>{{decision}}</b> · reference <b>{{referenceDecision}}</b></span></summary>
  {{#each panels}}
  <div class="body">
    {{#if heading}}<h3 class="trial">{{heading}}</h3>{{/if}}
    <div class="sides">
      <div><h3>Recorded tool calls</h3>
        <ol class="steps">
        {{#each recorded}}<li class="{{cls}}"><span class="ix">{{ix}}</span>{{text}}</li>{{/each}}
        </ol>
      </div>
      <div><h3>Candidate steps</h3>
        <ol class="steps">
        {{#each candidate}}<li class="{{cls}}"><span class="ix">{{ix}}</span>{{text}}</li>{{/each}}
        </ol>
      </div>
    </div>
    {{#if divergence}}<p class="diverged-at">{{divergence}}</p>{{/if}}
    {{#if error}}<p class="err">{{error}}</p>{{/if}}
    {{#each violations}}<p class="err">{{this}}</p>{{/each}}
    <p class="note">{{source}}</p>
  </div>
  {{/each}}
</details>
{{/each}}
{{#if traces.omitted}}<p class="note">{{traces.omitted}}</p>{{/if}}

<footer>shadowgate report · run {{head.runId}} · finished {{head.finishedAt}}</footer>
</main>
</body>
</html>
`;
