import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, resolve, sep } from 'node:path';
import { ConfigError, ShadowgateError, type Issue } from '../errors.js';
import { loadSuite, loadToolCatalog } from '../suite/load.js';
import { parseYamlText } from '../suite/yaml.js';
import { readTraceFile } from '../trace/reader.js';

export interface ValidatedFile {
  file: string;
  kind: 'traces' | 'suite' | 'tool catalog' | 'unknown';
  /** Valid traces in a traces file. */
  traces?: number;
  issues: Issue[];
}

const CHECKED = new Set(['.jsonl', '.yaml', '.yml']);

/** Checks trace files, suites and tool catalogs (folders are searched), collecting every problem. */
export async function validatePaths(paths: readonly string[], cwd: string): Promise<ValidatedFile[]> {
  const out: ValidatedFile[] = [];
  const show = (f: string) => relative(cwd, f) || f;
  for (const p of paths) {
    const abs = resolve(cwd, p);
    let files: string[];
    let walked: boolean;
    try {
      walked = (await stat(abs)).isDirectory();
      files = walked ? await walk(abs) : [abs];
    } catch {
      out.push({ file: p, kind: 'unknown', issues: [{ file: p, message: 'no such file or folder' }] });
      continue;
    }
    for (const file of files) {
      const result = await validateFile(file);
      // In a folder, YAML that is neither a suite nor a tool catalog (a CI workflow, say) is none of our business.
      if (walked && result.kind === 'unknown' && result.issues.length === 0) continue;
      out.push({ ...result, file: show(file), issues: result.issues.map((i) => ({ ...i, file: show(i.file) })) });
    }
  }
  return out;
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const skipped = (path: string) => relative(dir, path).split(sep).some((part) => part.startsWith('.') || part === 'node_modules' || part === 'dist');
  return entries
    .filter((e) => e.isFile() && CHECKED.has(extname(e.name)) && !skipped(join(e.parentPath, e.name)))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

async function validateFile(file: string): Promise<ValidatedFile> {
  if (extname(file) === '.jsonl') return validateTraces(file);
  if (extname(file) === '.yaml' || extname(file) === '.yml') {
    const parsed = parseYamlText(await readFile(file, 'utf8'), file);
    if (!parsed.ok) return { file, kind: 'unknown', issues: parsed.issues };
    const raw: unknown = parsed.doc.toJS();
    const keys = raw !== null && typeof raw === 'object' ? raw : {};
    if ('candidate' in keys) return validateSuite(file);
    if (Array.isArray((keys as { tools?: unknown }).tools)) return validateCatalog(file);
    return { file, kind: 'unknown', issues: [] };
  }
  return { file, kind: 'unknown', issues: [{ file, message: 'not a .jsonl, .yaml or .yml file' }] };
}

async function validateTraces(file: string): Promise<ValidatedFile> {
  const issues: Issue[] = [];
  let traces = 0;
  const ids = new Map<string, number>();
  for await (const line of readTraceFile(file)) {
    if (!line.ok) {
      issues.push(...line.issues);
      continue;
    }
    const first = ids.get(line.trace.id);
    if (first !== undefined) {
      issues.push({ file, line: line.line, path: 'id', message: `duplicate trace id ${line.trace.id} (first on line ${first})` });
      continue;
    }
    ids.set(line.trace.id, line.line);
    traces++;
  }
  return { file, kind: 'traces', traces, issues };
}

async function validateSuite(file: string): Promise<ValidatedFile> {
  try {
    const suite = await loadSuite(file);
    const issues: Issue[] = [];
    for (const f of [...suite.traceFiles, ...(suite.candidate.kind === 'recorded' ? suite.candidate.traceFiles : [])]) {
      issues.push(...(await validateTraces(f)).issues);
    }
    return { file, kind: 'suite', issues };
  } catch (error) {
    return { file, kind: 'suite', issues: issuesOf(error, file) };
  }
}

async function validateCatalog(file: string): Promise<ValidatedFile> {
  try {
    await loadToolCatalog(file);
    return { file, kind: 'tool catalog', issues: [] };
  } catch (error) {
    return { file, kind: 'tool catalog', issues: issuesOf(error, file) };
  }
}

function issuesOf(error: unknown, file: string): Issue[] {
  if (error instanceof ConfigError) return error.issues;
  if (error instanceof ShadowgateError) return [{ file, message: error.message }];
  throw error;
}
