import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';
import { spelledOut } from './braces.js';
import { ConfigError, type Issue } from '../errors.js';
import { parseModelSpec } from '../providers/registry.js';
import { canonicalJson } from '../trace/canonical.js';
import { declaredArguments, duplicateToolNames, toolSchemaProblems, ToolCatalogSchema, undecidedEffects, type ToolCatalog } from '../trace/catalog.js';
import { SuiteFileSchema, type SuiteFile } from './schema.js';
import { jsonSchemaProblems } from '../trace/schema-check.js';
import { loadYamlFile } from './yaml.js';
import { fileContents, folderDigest, isFile, moduleGraph } from './candidate-identity.js';
import { policyProblems } from '../policy/check.js';

type CandidateOf<K> = Extract<SuiteFile['candidate'], { kind: K }>;

/** A candidate with its paths made absolute and its files found. */
export type ResolvedCandidate =
  | CandidateOf<'tool-loop'>
  | CandidateOf<'module'>
  | CandidateOf<'command'>
  | (Omit<CandidateOf<'recorded'>, 'traces'> & { traceFiles: string[] });

/** A suite with every path made absolute, its files found and its catalog loaded. */
export interface ResolvedSuite extends Omit<SuiteFile, 'candidate' | 'traces' | 'tools'> {
  file: string;
  traceFiles: string[];
  catalogFile: string;
  catalog: ToolCatalog;
  candidate: ResolvedCandidate;
  /** sha256 of the suite's definition and tool catalog. */
  suiteHash: string;
  /** sha256 of what decides what a run's figures mean (`evidenceHashOf`): `phase` credits a run only under the same. */
  evidenceHash: string;
  /** sha256 of the candidate's definition and what runs (a module's import graph and package versions, a prompt, recorded traces): see `identify`. */
  candidateHash: string;
  /** What the candidate is, in a few words: `module:rules-v2.mjs`, `replay`. */
  candidateLabel: string;
  /** The candidate as written and the folder its paths are relative to: enough to run it again later. */
  candidateSource: CandidateSource;
}

export interface CandidateSource {
  raw: SuiteFile['candidate'];
  dir: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The digest of a file's bytes (links followed), or its path where it cannot be read. */
function fileDigest(path: string): string {
  try {
    return sha256(readFileSync(path).toString('latin1'));
  } catch {
    return `unreadable:${path}`;
  }
}

/** Loads a suite file, validates it and everything it names, and reports every problem at once. */
export async function loadSuite(file: string): Promise<ResolvedSuite> {
  const suiteFile = resolve(file);
  const { value: raw, lineOf } = await loadYamlFile(suiteFile, SuiteFileSchema);
  const dir = dirname(suiteFile);
  const issues: Issue[] = [];
  const problem = (path: string, message: string) => issues.push({ file: suiteFile, line: lineOf(path.split('.')), path, message });

  const traceFiles = await findFiles(raw.traces, dir, 'traces', problem);

  const catalogFile = resolve(dir, raw.tools);
  let catalog: ToolCatalog = { tools: [] };
  if (!existsSync(catalogFile)) problem('tools', `tool catalog not found: ${catalogFile}`);
  else {
    try {
      catalog = await loadToolCatalog(catalogFile);
    } catch (error) {
      if (error instanceof ConfigError) issues.push(...error.issues);
      else throw error;
    }
  }

  const candidate = await resolveCandidate(raw.candidate, dir, problem);
  if (raw.reference === 'recorded' && candidate.kind === 'recorded') {
    // The recorded agent held to its own recording agrees with itself on every trace it shares with it: the same file, a link to it, or a copy.
    const own = new Set(traceFiles.map(fileDigest));
    const shared = candidate.traceFiles.filter((f) => own.has(fileDigest(f)));
    if (shared.length > 0) problem('candidate.traces', `${shared.map((f) => relative(dir, f)).join(', ')} ${shared.length === 1 ? 'is' : 'are'} among the suite's own traces, and the reference is the recorded outcome: the candidate would be compared with itself (use reference: human, or another set of traces)`);
  }
  for (const p of policyProblems(raw.policy, raw.gate, existsSync(catalogFile) && issues.every((i) => i.file !== catalogFile) ? declaredArguments(catalog) : null)) problem(p.path, p.message);
  if (issues.length > 0) throw new ConfigError(issues, 'fix the listed keys; `shadowgate validate` checks a suite without running it');

  const { candidate: _c, traces: _t, tools: _tools, ...rest } = raw;
  return {
    ...rest,
    file: suiteFile,
    traceFiles,
    catalogFile,
    catalog,
    // The suite without its candidate: runs of other candidates on the same suite share it.
    suiteHash: sha256(canonicalJson({ suite: { ...raw, candidate: undefined }, catalog })),
    evidenceHash: evidenceHashOf(raw, catalog),
    ...identify(raw.candidate, candidate, dir),
    candidateSource: { raw: raw.candidate, dir },
  };
}

/**
 * What may change between a suite's runs without changing what their figures mean: its free
 * text, its phase and the checks and promotion thresholds that judge the figures, the review
 * sample drawn, and the candidate (whose identity is its own hash).
 */
const NOT_EVIDENCE = ['description', 'phase', 'gate', 'promotion', 'review', 'candidate'] as const;

/**
 * The digest of everything else in a suite and its tool catalog: the traces it reads, the
 * reference and comparator that decide agreement, the mocks, budgets, policy, sandbox, pricing,
 * trials and SLA. Runs of a suite of the same name made under other such rules (a looser
 * comparator, a chosen subset of traces) are no evidence for it now. Pure.
 */
export function evidenceHashOf(raw: Record<string, unknown>, catalog: ToolCatalog): string {
  const rules = Object.fromEntries(Object.entries(raw).filter(([key]) => !(NOT_EVIDENCE as readonly string[]).includes(key)));
  return sha256(canonicalJson({ rules, catalog }));
}

/**
 * The candidate's hash and a label for it. The hash is the candidate's identity: everything that
 * runs or stands in for it — its definition, a module's resolved import graph (each local file
 * it imports, recursively, and the installed version of each package it imports), a tool loop's
 * prompt template, a recorded candidate's trace files. Evidence (resume, noise floor, baselines,
 * phase promotion) is credited only to the identity that produced it.
 */
function identify(raw: SuiteFile['candidate'], candidate: ResolvedCandidate, dir: string, label?: string) {
  const fileText = (p: string | undefined) => (p && existsSync(p) ? readFileSync(p, 'utf8') : '');
  return {
    candidate,
    candidateHash: sha256(
      canonicalJson({
        candidate: raw,
        module: candidate.kind === 'module' ? moduleGraph(candidate.module) : undefined,
        prompt: candidate.kind === 'tool-loop' ? fileText(candidate.prompt) : undefined,
        traces: candidate.kind === 'recorded' ? fileContents(candidate.traceFiles, dir) : undefined,
        // A command's program is whatever files its arguments name (`agent.py`, or within a shell line), with the local Python
        // modules they import and a `-m` module: their contents are its identity; a folder it names (`node pkg`), all its files.
        files: candidate.kind === 'command' ? fileContents(commandFiles(candidate).files, candidate.cwd!) : undefined,
        folders: candidate.kind === 'command' ? Object.fromEntries(commandFiles(candidate).folders.map((f) => [relative(candidate.cwd!, f), folderDigest(f)])) : undefined,
        // A JavaScript or TypeScript program's imports run too: each one's import graph, as a module candidate's.
        graphs: candidate.kind === 'command' ? commandFiles(candidate).files.filter((f) => /\.[cm]?[jt]s$/.test(f)).map(moduleGraph) : undefined,
      }),
    ),
    candidateLabel:
      label ??
      (candidate.kind === 'module'
        ? `module:${basename(candidate.module)}`
        : candidate.kind === 'command'
          ? `command:${candidate.command.map((a) => basename(a)).join(' ')}`
          : candidate.kind === 'recorded'
          ? `recorded:${candidate.traceFiles.length} file(s)`
          : `${candidate.model}${candidate.promptVersion ? `@${candidate.promptVersion}` : ''}`),
  };
}

/**
 * The suite with another candidate, for `compare`: `spec` is `key=value` pairs joined by
 * commas (`model=openai:gpt-4.1,prompt=prompts/triage.v5.hbs`, `module=agents/v3.mjs`), or
 * one value whose form says what it is (`openai:gpt-4.1`, `….hbs`, `….mjs`, `….jsonl`). A model or a
 * prompt changes a tool-loop candidate (the suite's own, if it is one); `traces` (a file or a glob)
 * is a `recorded` candidate, another set of recorded runs paired by case and trial; paths are relative to `cwd`.
 */
export async function withCandidate(suite: ResolvedSuite, name: string, spec: string, cwd: string): Promise<ResolvedSuite> {
  const fields = parseCandidateSpec(spec);
  const where = `--candidate ${name}=${spec}`;
  const problems: Issue[] = [];
  const problem = (path: string, message: string) => problems.push({ file: where, path, message });
  let raw: SuiteFile['candidate'];
  if (fields.module !== undefined) {
    raw = { kind: 'module', module: fields.module };
  } else if (fields.traces !== undefined) {
    raw = { kind: 'recorded', traces: [fields.traces] };
  } else {
    const base = suite.candidate.kind === 'tool-loop' ? suite.candidate : undefined;
    const model = fields.model ?? base?.model;
    if (!model) throw new ConfigError([{ file: where, message: 'name a model (model=provider:name): the suite\'s candidate is not a tool loop' }]);
    const { prompt: _p, promptVersion: _v, baseURL: suiteBaseURL, ...kept } = base ?? { kind: 'tool-loop' as const, model };
    // The suite's server is for the suite's model: a spec that names a model names its server too (baseURL=…), or the provider's own.
    raw = {
      ...kept,
      ...(suiteBaseURL && !fields.model && !fields.baseURL ? { baseURL: suiteBaseURL } : {}),
      kind: 'tool-loop',
      model,
      ...(fields.baseURL ? { baseURL: fields.baseURL } : {}),
      ...((fields.prompt ?? base?.prompt) ? { prompt: fields.prompt ?? base?.prompt } : {}),
      ...(fields.promptVersion ? { promptVersion: fields.promptVersion } : {}),
    };
  }
  const candidate = await resolveCandidate(raw, cwd, problem);
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...suite, ...identify(raw, candidate, cwd, name), candidateSource: { raw, dir: cwd } };
}

/**
 * The suite with a candidate stored with an earlier run, as it is on disk now; null when
 * it cannot be run as it was (a file it names is gone, or its hash has changed since).
 */
export async function withStoredCandidate(suite: ResolvedSuite, source: CandidateSource, hash: string, label: string): Promise<ResolvedSuite | null> {
  const problems: string[] = [];
  const candidate = await resolveCandidate(source.raw, source.dir, (_path, message) => problems.push(message));
  if (problems.length > 0) return null;
  const identified = identify(source.raw, candidate, source.dir, label);
  return identified.candidateHash === hash ? { ...suite, ...identified, candidateSource: source } : null;
}

const SPEC_KEYS = ['model', 'prompt', 'promptVersion', 'module', 'baseURL', 'traces'] as const;
type SpecKey = (typeof SPEC_KEYS)[number];

export function parseCandidateSpec(spec: string): Partial<Record<SpecKey, string>> {
  if (!spec.includes('=')) {
    if (/\.hbs$/.test(spec)) return { prompt: spec };
    if (/\.(mjs|js|cjs)$/.test(spec)) return { module: spec };
    if (/\.jsonl$/.test(spec)) return { traces: spec };
    return { model: spec };
  }
  const fields: Partial<Record<SpecKey, string>> = {};
  for (const part of spec.split(',')) {
    const at = part.indexOf('=');
    const key = part.slice(0, at).trim();
    if (!(SPEC_KEYS as readonly string[]).includes(key)) {
      throw new ConfigError([{ file: `--candidate ${spec}`, path: key, message: `unknown key (use ${SPEC_KEYS.join(', ')})` }]);
    }
    fields[key as SpecKey] = part.slice(at + 1).trim();
  }
  return fields;
}

async function resolveCandidate(
  c: SuiteFile['candidate'],
  dir: string,
  problem: (path: string, message: string) => void,
): Promise<ResolvedCandidate> {
  switch (c.kind) {
    case 'module': {
      const module = resolve(dir, c.module);
      if (!existsSync(module)) problem('candidate.module', `module not found: ${module}`);
      return { ...c, module };
    }
    case 'command': {
      const cwd = resolve(dir, c.cwd ?? '.');
      if (!existsSync(cwd)) problem('candidate.cwd', `folder not found: ${cwd}`);
      return { ...c, cwd };
    }
    case 'recorded': {
      const traceFiles = await findFiles(c.traces, dir, 'candidate.traces', problem);
      const { traces: _traces, ...rest } = c;
      return { ...rest, traceFiles };
    }
    case 'tool-loop': {
      const spec = parseModelSpec(c.model);
      if (!spec.ok) problem('candidate.model', spec.message);
      for (const p of c.decisionSchema ? jsonSchemaProblems(c.decisionSchema) : []) {
        problem(['candidate', 'decisionSchema', ...p.path].join('.'), p.message);
      }
      const prompt = c.prompt === undefined ? undefined : resolve(dir, c.prompt);
      if (prompt && !existsSync(prompt)) problem('candidate.prompt', `prompt template not found: ${prompt}`);
      const promptVersion = c.promptVersion ?? (prompt ? basename(prompt).replace(/\.hbs$/, '') : undefined);
      return { ...c, prompt, promptVersion };
    }
  }
}

/**
 * What a command runs, as far as its arguments say: each file an argument names (relative to its
 * folder), the program itself included, and each word of an argument that is a file (a shell
 * line, `sh -c "node pkg/index.js"`; `--rules=rules.yaml`); a Python `-m` module's file (a
 * package's `__init__.py` and `__main__.py`); the local modules each Python file imports,
 * recursively, with their packages' `__init__.py`; a folder named to `node` (`node .`, `node
 * pkg`): its package's entry file; and each other folder an argument names within the command's
 * own, whose files all count. A folder outside the command's (`cd /`) is not walked.
 */
function commandFiles(candidate: CandidateOf<'command'>): { files: string[]; folders: string[] } {
  const cwd = candidate.cwd!;
  const files = new Set<string>();
  const folders = new Set<string>();
  const within = (path: string) => path === cwd || (!relative(cwd, path).startsWith('..') && !isAbsolute(relative(cwd, path)));
  const words = candidate.command.flatMap((a) => [a, ...(/[\s=]/.test(a) ? a.split(/[\s'"=;&|()]+/).filter(Boolean) : [])]);
  words.forEach((word, i) => {
    if (words[i - 1] === '-m') for (const f of pythonModule(cwd, word, true)) files.add(f);
    const path = resolve(cwd, word);
    if (isFile(path)) files.add(path);
    else if (isFolder(path) && within(path)) {
      const entry = /(^|\/)node$/.test(words[i - 1] ?? '') ? packageEntry(path) : null;
      if (entry) files.add(entry);
      if (path !== cwd) folders.add(path);
    }
  });
  // A Python program's local imports run too.
  const queue = [...files].filter((f) => f.endsWith('.py'));
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const name of pythonImports(readFileSync(file, 'utf8'))) {
      const found = name.startsWith('.') ? pythonModule(relativeBase(dirname(file), name), name.replace(/^\.+/, '')) : [...pythonModule(dirname(file), name), ...pythonModule(cwd, name)];
      for (const f of found) {
        if (files.has(f)) continue;
        files.add(f);
        queue.push(f);
      }
    }
  }
  return { files: [...files].sort(), folders: [...folders].sort() };
}

/** The folder a relative import starts from: its file's folder for `.`, one up for `..`, and so on. */
function relativeBase(dir: string, name: string): string {
  const dots = /^\.*/.exec(name)![0].length;
  return resolve(dir, ...Array<string>(Math.max(0, dots - 1)).fill('..'));
}

/**
 * The files of module `pkg.rules` under `dir`: `pkg/rules.py` or `pkg/rules/__init__.py` (with
 * `__main__.py` where `main`, as `python -m` runs), and the `__init__.py` of each package on the
 * way, which runs first. None where there is no such module.
 */
function pythonModule(dir: string, name: string, main = false): string[] {
  const parts = name.split('.').filter(Boolean);
  if (parts.length === 0) return isFile(join(dir, '__init__.py')) ? [join(dir, '__init__.py')] : [];
  const base = join(dir, ...parts);
  const module = [`${base}.py`, join(base, '__init__.py')].find(isFile);
  if (!module) return [];
  const found = [module];
  if (main && module.endsWith('__init__.py') && isFile(join(base, '__main__.py'))) found.push(join(base, '__main__.py'));
  for (let i = 1; i < parts.length; i++) {
    const init = join(dir, ...parts.slice(0, i), '__init__.py');
    if (isFile(init)) found.push(init);
  }
  return found;
}

/** The modules a Python source imports (`import a.b, c`, `from .d import e`, `from x import (\n y,\n)`), by dotted name. */
function pythonImports(source: string): string[] {
  const names: string[] = [];
  // A parenthesised import list on several lines, and statements after `;`, read as lines of their own.
  const text = source.replace(/\(([^)]*)\)/g, (_m, inner: string) => `(${inner.replace(/\s+/g, ' ')})`).replace(/;/g, '\n');
  for (const m of text.matchAll(/^[ \t]*(?:from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+([\w*, \t()]+)|import[ \t]+([\w., \t]+))/gm)) {
    if (m[1] !== undefined) {
      names.push(m[1]);
      // `from . import rules`, `from pkg import rules`: each name may be a module of that package.
      const dots = /^\.*/.exec(m[1])![0];
      const base = m[1].slice(dots.length);
      for (const sub of m[2]!.replace(/[()]/g, '').split(',').map((x) => x.trim().split(/\s+/)[0]!).filter((x) => x && x !== '*')) names.push(`${dots}${base ? `${base}.` : ''}${sub}`);
    } else {
      for (const part of m[3]!.split(',')) names.push(part.trim().split(/\s+/)[0]!);
    }
  }
  return names.filter(Boolean);
}

/** The file `node <folder>` runs: its package.json `main`, else its `index.js`. */
function packageEntry(folder: string): string | null {
  let main = 'index.js';
  try {
    const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as { main?: unknown };
    if (typeof manifest.main === 'string') main = manifest.main;
  } catch {
    // No package.json, or not JSON: Node runs index.js.
  }
  const entry = resolve(folder, main);
  return [entry, `${entry}.js`, join(entry, 'index.js')].find(isFile) ?? null;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The files that trace globs name. Each pattern must match a file, and each file it names must be
 * there (one it names as it is, or that braces spell out: `{w1,w2}.jsonl`): a file the suite names
 * that is not there is missing evidence, not a smaller suite (a negated pattern, `!…`, only removes files).
 */
async function findFiles(patterns: string | string[], cwd: string, path: string, problem: (path: string, message: string) => void): Promise<string[]> {
  const list = Array.isArray(patterns) ? patterns : [patterns];
  const options = { cwd, absolute: true, onlyFiles: true, expandDirectories: false };
  // Each pattern with its braces spelt out once (`{w1,w2}.jsonl`: two names), as the checks below and the search read it.
  const entries = list.map((pattern, i) => {
    const negated = pattern.startsWith('!');
    return { pattern, i, negated, ...spelledOut(negated ? pattern.slice(1) : pattern) };
  });
  const positive = entries.filter((e) => !e.negated);
  const at = (i: number) => (Array.isArray(patterns) ? `${path}.${i}` : path);
  // Why a pattern matches no file, or names one that is not there; none when it matches. A file named as it is needs no
  // search (a suite may name a thousand), nor do the names braces spell out (`{w1,w2}.jsonl`): only wildcards are globbed.
  const unmatched = async ({ pattern, names, problem }: (typeof entries)[number]): Promise<string[]> => {
    if (problem) return [`${JSON.stringify(pattern)} cannot say which files it names: ${problem}; name them, or use a wildcard`];
    if (names.length === 1 && !isDynamicPattern(pattern)) return isFile(resolve(cwd, pattern)) ? [] : [`no file matches ${JSON.stringify(pattern)}`];
    const missing = names.filter((name) => !isDynamicPattern(name) && !isFile(resolve(cwd, name)));
    if (missing.length > 0) return missing.map((name) => `no file matches ${JSON.stringify(name)}, which ${JSON.stringify(pattern)} names`);
    return (await glob(names, options)).length > 0 ? [] : [`no file matches ${JSON.stringify(pattern)}`];
  };
  // The search reads the names spelt out, not the braces, which the glob library reads some its own way: a list of
  // paths (`{../a/x,../b/y}.jsonl`) matched nothing, and a stepped range (`w{1..5..2}`) only its ends.
  const spelt = entries.flatMap(({ pattern, negated, names, problem }) => (problem ? [pattern] : names.map((name) => (negated ? `!${name}` : name))));
  const [files, ...found] = await Promise.all([glob(spelt, options), ...positive.map(unmatched)]);
  positive.forEach(({ i }, k) => {
    for (const why of found[k]!) problem(at(i), `${why} (relative to ${cwd})`);
  });
  // A file the list names as it is, and that a negated pattern takes away: which one was meant cannot be told.
  if (positive.length < list.length) {
    const read = new Set(files);
    positive.forEach(({ names, problem: unsaid, i }, k) => {
      if (found[k]!.length > 0 || unsaid) return;
      for (const name of names) {
        if (isDynamicPattern(name) || read.has(resolve(cwd, name))) continue;
        problem(at(i), `${JSON.stringify(name)} is named here and taken away by a negated pattern: name it, or leave it out, not both (relative to ${cwd})`);
      }
    });
  }
  // Every pattern matched, and the negated ones took every file away.
  if (files.length === 0 && found.every((f) => f.length === 0)) problem(path, `no file matches ${JSON.stringify(patterns)} (relative to ${cwd})`);
  return files.sort();
}

/**
 * Loads and validates a tool catalog; duplicate tool names, argument schemas that do not
 * compile and effects still `unknown` are errors.
 */
export async function loadToolCatalog(file: string): Promise<ToolCatalog> {
  const checks = (raw: unknown) => [...duplicateToolNames(raw), ...toolSchemaProblems(raw), ...undecidedEffects(raw)];
  // The check refused every `unknown` effect, so what passes holds decided ones only.
  return (await loadYamlFile(file, ToolCatalogSchema, checks)).value as ToolCatalog;
}
