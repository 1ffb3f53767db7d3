import { readFile } from 'node:fs/promises';
import { isMap, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError, NotFoundError, type Issue } from '../errors.js';
import { zodIssues } from '../trace/zod-issues.js';

/** A problem found beyond the schema, at a key path of the raw document. */
export interface RawProblem {
  path: (string | number)[];
  message: string;
}

export interface LoadedYaml<T> {
  value: T;
  /** The line of the node at a key path (or of its nearest ancestor). */
  lineOf(path: readonly PropertyKey[]): number | undefined;
}

/**
 * Reads a YAML file and validates it; every problem is located by line and key
 * path. `check` runs on the raw document even when the schema fails, so that
 * its problems (duplicate names, say) are reported with the others.
 */
export async function loadYamlFile<S extends z.ZodType>(
  file: string,
  schema: S,
  check?: (raw: unknown) => RawProblem[],
): Promise<LoadedYaml<z.output<S>>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new NotFoundError(`cannot read ${file}: ${(cause as Error).message}`);
  }
  const result = parseYaml(text, file, schema, check);
  if (!result.ok) throw new ConfigError(result.issues);
  return result;
}

/** Missing keys read "required" rather than zod's "expected string, received undefined". */
const requiredMessage = (issue: { input?: unknown }) => (issue.input === undefined ? 'required' : undefined);

export function parseYaml<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  check?: (raw: unknown) => RawProblem[],
): ({ ok: true } & LoadedYaml<z.output<S>>) | { ok: false; issues: Issue[] } {
  const parsed = parseYamlText(text, file);
  if (!parsed.ok) return parsed;
  const { doc, lineCounter } = parsed;
  const lineOf = (path: readonly PropertyKey[], key?: string) => locate(doc, lineCounter, path, key);
  const raw: unknown = doc.toJS() ?? {};
  const extra: Issue[] = (check?.(raw) ?? []).map((p) => ({ file, line: lineOf(p.path), path: p.path.join('.'), message: p.message }));
  const checked = schema.safeParse(raw, { error: requiredMessage });
  if (checked.success && extra.length === 0) return { ok: true, value: checked.data, lineOf };
  const issues = checked.success ? [] : zodIssues(checked.error, file, lineOf);
  return { ok: false, issues: [...issues, ...extra].sort((a, b) => (a.line ?? 0) - (b.line ?? 0)) };
}

/**
 * Parses YAML text into a document; each syntax error is an issue at its line and column
 * (`file:3:9: invalid YAML: …`), whichever file it is (suite, catalog, drift config).
 */
export function parseYamlText(text: string, file: string): { ok: true; doc: Document; lineCounter: LineCounter } | { ok: false; issues: Issue[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length === 0) return { ok: true, doc, lineCounter };
  return {
    ok: false,
    issues: doc.errors.map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      return { file, line, column: col, message: `invalid YAML: ${e.message.split('\n')[0]}` };
    }),
  };
}

/** The line of the node at `path` (or of `key` inside it), else of its nearest ancestor. */
function locate(doc: Document, lines: LineCounter, path: readonly PropertyKey[], key?: string): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth) as unknown[], true);
    if (!node || typeof node !== 'object') continue;
    if (key !== undefined && depth === path.length && isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      const offset = pair && isScalar(pair.key) ? pair.key.range?.[0] : undefined;
      if (offset !== undefined) return lines.linePos(offset).line;
    }
    const range = (node as { range?: [number, number, number] }).range;
    if (range) return lines.linePos(range[0]).line;
  }
  return undefined;
}
