import { describe, expect, it } from 'vitest';
import { compilePage } from './page.js';

describe('compilePage', () => {
  it('opens every page with the shared head: the policy, the title and the base style, then the page style', () => {
    const render = compilePage('{{#> pageHead}}  .mine { color: red; }{{/pageHead}}<body>{{name}}</body></html>');
    const html = render({ pageTitle: 'shadowgate · <x>', name: 'n' });
    expect(html.startsWith('<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">')).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
    expect(html).toContain('<title>shadowgate · &lt;x&gt;</title>');
    expect(html.indexOf('  main {')).toBeLessThan(html.indexOf('.mine { color: red; }'));
    expect(html).toContain('.mine { color: red; }</style>\n</head><body>n</body></html>');
  });

  it('is strict, and keeps one page\'s partials from another', () => {
    expect(() => compilePage('{{missing}}')({})).toThrow(/"missing" not defined/);
    const withSpark = compilePage('{{> spark}}', { spark: 'S' });
    expect(withSpark({})).toBe('S');
    expect(() => compilePage('{{> spark}}')({})).toThrow(/could not be found/);
  });

  it('draws an interval chart with the shared partial, bars and ticks optional', () => {
    const row = { label: 'Δ', has: true, barCls: null, hasCi: true, ciX1: 10, ciX2: 30, capY1: 4, capY2: 16, x: 20, midY: 10, textY: 14, ptCls: 'pt', valueX: 90, value: '+1' };
    const svg = compilePage('{{> intervalRows this}}')({ ticks: [], rows: [row] });
    expect(svg).not.toContain('<rect');
    expect(svg.match(/<line class="ci"/g)).toHaveLength(3);
    expect(svg).toContain('<circle class="pt" cx="20" cy="10" r="5"/>');
  });
});
