import type { ToolCatalog } from '../trace/catalog.js';

/** A request that a catalog tool's `http` route answers: the tool and the arguments taken from the request. */
export interface RouteMatch {
  tool: string;
  args: Record<string, unknown>;
}

interface Route {
  tool: string;
  method: string;
  origin: string;
  /** Path segments; a `:name` segment is a parameter. */
  segments: string[];
  /** JSON Schema types of the tool's properties, so that `/orders/42` gives `42` where the schema asks for a number. */
  types: Record<string, unknown>;
}

/**
 * Matches requests against the catalog's `http` routes (method, origin and path
 * pattern, e.g. `GET https://orders.internal/api/orders/:order_id`). The arguments
 * are the path parameters, then the query parameters the tool's schema declares, then a JSON object body
 * merged in, each coerced to a number or boolean where the tool's schema asks for one.
 */
export function createRouteMatcher(catalog: ToolCatalog) {
  const routes: Route[] = catalog.tools.flatMap((tool) => {
    if (!tool.http) return [];
    const url = new URL(tool.http.url);
    const properties = (tool.parameters as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties ?? {};
    return [
      {
        tool: tool.name,
        method: tool.http.method,
        origin: url.origin,
        segments: splitPath(url.pathname),
        types: Object.fromEntries(Object.entries(properties).map(([name, schema]) => [name, schema?.type])),
      },
    ];
  });

  return function match(method: string, url: URL, body: unknown): RouteMatch | null {
    const segments = splitPath(url.pathname);
    for (const route of routes) {
      if (route.method !== method.toUpperCase() || route.origin !== url.origin || route.segments.length !== segments.length) continue;
      const args: Record<string, unknown> = {};
      const fits = route.segments.every((pattern, i) => {
        if (pattern.startsWith(':')) {
          args[pattern.slice(1)] = coerce(decodeURIComponent(segments[i]!), route.types[pattern.slice(1)]);
          return true;
        }
        return pattern === segments[i];
      });
      if (!fits) continue;
      // Only the query parameters the tool declares: any other (an access token, a cache buster) is not an argument, and is not recorded.
      for (const [name, value] of url.searchParams) if (name in route.types) args[name] = coerce(value, route.types[name]);
      if (body !== null && typeof body === 'object' && !Array.isArray(body)) Object.assign(args, body);
      return { tool: route.tool, args };
    }
    return null;
  };
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

/** A path or query value as the schema types it: `"42"` → 42 for a number, `"true"` → true for a boolean. */
function coerce(value: string, type: unknown): unknown {
  const types = Array.isArray(type) ? type : [type];
  if ((types.includes('number') || types.includes('integer')) && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  if (types.includes('boolean') && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}
