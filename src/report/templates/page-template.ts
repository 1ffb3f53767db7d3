/**
 * The pieces every HTML page shares, kept in a .ts file so that `tsc` ships them in dist/.
 * The same rules as each page's template: data only through `{{ }}` (HTML-escaped), no
 * script, no external request (the Content-Security-Policy forbids both), SVG attributes numbers only.
 */

/**
 * The document's start, to `</head>`: the policy, the meta tags, the title (`pageTitle` of the
 * view) and the base style; the page's own style is the partial block:
 * `{{#> pageHead}}  .x { … }{{/pageHead}}`.
 */
export const PAGE_HEAD_PARTIAL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{pageTitle}}</title>
<style>
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1f2328; background: #fff; }
  main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  h2 { font-size: 16px; margin: 28px 0 10px; padding-bottom: 6px; border-bottom: 1px solid #d0d7de; }
{{> @partial-block}}
</style>
</head>`;

/**
 * The axis ticks and the rows (bar, interval whisker, dot, value) of an interval chart; its
 * context is the chart (`ticks` may be empty; a row's `barCls` null draws no bar).
 */
export const INTERVAL_ROWS_PARTIAL = `{{#each ticks}}
        <line class="axis" x1="{{x}}" y1="{{../top}}" x2="{{x}}" y2="{{../bottom}}"/>
        <text class="tick" x="{{x}}" y="{{../tickY}}" text-anchor="middle">{{label}}</text>
      {{/each}}
      {{#each rows}}
        <text x="4" y="{{textY}}">{{label}}</text>
        {{#if has}}
          {{#if barCls}}<rect class="{{barCls}}" x="{{x0}}" y="{{barY}}" width="{{barW}}" height="{{barH}}" rx="2"/>{{/if}}
          {{#if hasCi}}<line class="ci" x1="{{ciX1}}" y1="{{midY}}" x2="{{ciX2}}" y2="{{midY}}"/>
          <line class="ci" x1="{{ciX1}}" y1="{{capY1}}" x2="{{ciX1}}" y2="{{capY2}}"/>
          <line class="ci" x1="{{ciX2}}" y1="{{capY1}}" x2="{{ciX2}}" y2="{{capY2}}"/>{{/if}}
          <circle class="{{ptCls}}" cx="{{x}}" cy="{{midY}}" r="5"/>
          <text x="{{valueX}}" y="{{textY}}" text-anchor="end">{{value}}</text>
        {{else}}
          <text x="{{valueX}}" y="{{textY}}" text-anchor="end">n/a</text>
        {{/if}}
      {{/each}}`;
