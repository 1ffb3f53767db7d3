/**
 * The drift report's Handlebars template, kept in a .ts file so that `tsc` ships it in dist/.
 * The same rules as the run report's: data only through `{{ }}` (HTML-escaped), no script,
 * `class` attributes from a fixed list in drift-html.ts, SVG attributes numbers only.
 */
export const DRIFT_TEMPLATE = `{{#> pageHead}}
  .sub { color: #57606a; margin: 0; }
  .banner { margin: 16px 0; padding: 12px 16px; border-radius: 8px; border: 2px solid #d0d7de; }
  .banner b { font-size: 22px; letter-spacing: .05em; margin-right: 12px; }
  .banner.pass { border-color: #1a7f37; background: #dafbe1; } .banner.fail { border-color: #cf222e; background: #ffebe9; } .banner.inconclusive { border-color: #9a6700; background: #fff8c5; }
  table.figures { border-collapse: collapse; width: 100%; }
  .figures th, .figures td { padding: 5px 9px; border-bottom: 1px solid #d0d7de; text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
  .figures th:first-child, .figures td:first-child { text-align: left; }
  .figures thead th { background: #f6f8fa; }
  .spark polyline { fill: none; stroke: #0969da; stroke-width: 1.6; }
  .spark circle { fill: #0969da; }
  .spark circle.last { fill: #cf222e; }
  .spark .gap { fill: #8c959f; }
  ul.shifts { padding-left: 20px; }
  .status { font-weight: 600; } .status.fail { color: #cf222e; } .status.pass { color: #1a7f37; } .status.inconclusive { color: #57606a; }
  .muted { color: #57606a; }
{{/pageHead}}
<body>
<main>
<h1>Drift · {{title}}</h1>
<p class="sub">{{subtitle}}</p>
<p class="sub">generated {{generatedAt}}</p>

<section class="banner {{verdict.cls}}"><b>{{verdict.label}}</b><span>{{verdict.reason}}</span></section>

<h2>Figures per window</h2>
<table class="figures">
  <thead><tr><th>figure</th>{{#each windows}}<th title="{{start}} → {{end}}">{{label}}</th>{{/each}}<th>trend</th></tr></thead>
  <tbody>
  {{#each rows}}
    <tr><td>{{label}}</td>{{#each text}}<td>{{this}}</td>{{/each}}<td>{{> spark spark}}</td></tr>
  {{/each}}
  </tbody>
</table>
<p class="muted">Each window is (start, end]; the column heads are the window ends (UTC). Trend: one point per window, the latest in red; a grey dot is a window without the figure.</p>

<h2>The latest window against {{against}}</h2>
<ul class="shifts">
  {{#each shifts}}<li>{{this}}</li>{{/each}}
</ul>

<h2>Tool calls per run</h2>
<table class="figures">
  <thead><tr><th>tool</th>{{#each windows}}<th>{{label}}</th>{{/each}}<th>trend</th><th>latest</th></tr></thead>
  <tbody>
  {{#each tools}}
    <tr><td>{{tool}}</td>{{#each text}}<td>{{this}}</td>{{/each}}<td>{{> spark spark}}</td><td>{{note}}</td></tr>
  {{/each}}
  </tbody>
</table>

<h2>Thresholds</h2>
{{#if checks.length}}
<table class="figures">
  <thead><tr><th>threshold</th><th>status</th><th style="text-align:left">why</th></tr></thead>
  <tbody>
  {{#each checks}}
    <tr><td>{{name}}</td><td><span class="status {{cls}}">{{status}}</span></td><td style="text-align:left; white-space:normal">{{reason}}</td></tr>
  {{/each}}
  </tbody>
</table>
{{else}}
<p class="muted">{{verdict.reason}}.</p>
{{/if}}

{{#if skipped}}<p class="muted">{{skipped}}</p>{{/if}}
{{#if issues.length}}<ul class="muted">{{#each issues}}<li>{{this}}</li>{{/each}}</ul>{{/if}}
</main>
</body>
</html>
`;

/** One sparkline: a polyline over the windows with a point each; `{{> spark}}` with its view. */
export const SPARK_PARTIAL = `<svg class="spark" viewBox="0 0 {{width}} {{height}}" width="{{width}}" height="{{height}}" role="img" aria-label="trend">{{#if line}}<polyline points="{{line}}"/>{{/if}}{{#each points}}<circle class="{{cls}}" cx="{{x}}" cy="{{y}}" r="2.5"/>{{/each}}</svg>`;
