import Handlebars from 'handlebars';
import { htmlCharacters } from './escape.js';
import { INTERVAL_ROWS_PARTIAL, PAGE_HEAD_PARTIAL } from './templates/page-template.js';

/**
 * A page's render function: its template, compiled once on first use (strict: a field the
 * view lacks is an error, not an empty string), on an isolated Handlebars instance with the
 * shared partials (`pageHead`, `intervalRows`) and the page's own. Helpers or partials
 * registered elsewhere never reach it. Handlebars escapes markup; characters an HTML page
 * must not hold (controls, lone surrogates, noncharacters) are then shown as visible escapes. Pure.
 */
export function compilePage(template: string, partials: Record<string, string> = {}): (view: object) => string {
  const hb = Handlebars.create();
  hb.registerPartial({ pageHead: PAGE_HEAD_PARTIAL, intervalRows: INTERVAL_ROWS_PARTIAL, ...partials });
  let compiled: Handlebars.TemplateDelegate | undefined;
  return (view) => htmlCharacters((compiled ??= hb.compile(template, { strict: true }))(view));
}
