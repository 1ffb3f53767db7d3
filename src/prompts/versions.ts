import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { glob } from 'tinyglobby';
import { parse as parseYaml } from 'yaml';
import { NotFoundError, UsageError } from '../errors.js';

/** One version of a prompt template: `<dir>/<name>.<version>.hbs`. */
export interface PromptVersion {
  version: string;
  file: string;
}

/** The versions of one prompt in one folder, oldest first (natural order: v3 < v4 < v10). */
export interface PromptFamily {
  name: string;
  dir: string;
  versions: PromptVersion[];
}

/** `triage.v4.hbs` → `{ name: 'triage', version: 'v4' }`; null for a name with no version (`triage.hbs`) or another extension. */
export function parsePromptFileName(file: string): { name: string; version: string } | null {
  const match = /^([^.]+)\.(.+)\.hbs$/.exec(basename(file));
  return match ? { name: match[1]!, version: match[2]! } : null;
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Natural order of versions: numbers inside compare as numbers, so v3 < v4 < v10 and 1.9 < 1.10. */
export function compareVersions(a: string, b: string): number {
  return collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Groups template files into prompts by folder and name, versions in natural order. Pure. */
export function groupPromptFiles(files: readonly string[]): PromptFamily[] {
  const families = new Map<string, PromptFamily>();
  for (const file of files) {
    const parsed = parsePromptFileName(file);
    if (!parsed) continue;
    const dir = dirname(file);
    const key = `${dir}\u0000${parsed.name}`;
    const family = families.get(key) ?? { name: parsed.name, dir, versions: [] };
    family.versions.push({ version: parsed.version, file });
    families.set(key, family);
  }
  for (const f of families.values()) f.versions.sort((x, y) => compareVersions(x.version, y.version));
  return [...families.values()].sort((x, y) => x.name.localeCompare(y.name) || x.dir.localeCompare(y.dir));
}

/**
 * Where prompts are looked for: `--dir` when given; else the folder of the suite's
 * prompt template, when a suite names one; else every `fixtures/<workflow>/prompts/` under `cwd`.
 */
export async function promptDirs(cwd: string, options: { dir?: string; suitePrompt?: string } = {}): Promise<string[]> {
  if (options.dir) {
    const dir = resolve(cwd, options.dir);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new NotFoundError(`--dir ${options.dir}: no such folder`, 'name the folder that holds the <name>.<version>.hbs templates');
    return [dir];
  }
  if (options.suitePrompt) return [dirname(options.suitePrompt)];
  const dirs = await glob(['fixtures/*/prompts'], { cwd, absolute: true, onlyDirectories: true, expandDirectories: false });
  return dirs.map((d) => d.replace(/\/$/, '')).sort();
}

/** The prompts in these folders (their `*.hbs` files, not below). */
export function findPromptFamilies(dirs: readonly string[]): PromptFamily[] {
  const files = dirs.flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.hbs')).map((f) => join(dir, f)));
  return groupPromptFiles(files);
}

/** The file of one version of a prompt; a clear error naming what there is when it is not found or is ambiguous. */
export function findPromptVersion(families: readonly PromptFamily[], name: string, version: string, cwd: string): PromptVersion {
  const named = families.filter((f) => f.name === name);
  if (named.length === 0) {
    const known = families.map((f) => f.name);
    throw new NotFoundError(
      `no prompt named ${name}${families.length ? ` (found: ${[...new Set(known)].join(', ')})` : ''}`,
      'prompts are <name>.<version>.hbs files; `shadowgate prompt list` shows them, --dir says where to look',
    );
  }
  if (named.length > 1) {
    throw new UsageError(`prompt ${name} is in several folders: ${named.map((f) => relative(cwd, f.dir) || '.').join(', ')}`, 'pick one with --dir');
  }
  const family = named[0]!;
  const found = family.versions.find((v) => v.version === version) ?? family.versions.find((v) => `${name}.${v.version}` === version);
  if (!found) {
    throw new NotFoundError(`prompt ${name} has no version ${version} in ${relative(cwd, family.dir) || '.'}`, `its versions: ${family.versions.map((v) => v.version).join(', ')}`);
  }
  return found;
}

/**
 * Which suites under `cwd/suites` run which prompt file (their candidate's `prompt`),
 * read from the YAML without validating the rest: a suite that does not parse is left out.
 */
export async function suitesByPrompt(cwd: string): Promise<Map<string, string[]>> {
  const files = await glob(['suites/**/*.{yaml,yml}'], { cwd, absolute: true });
  const uses = new Map<string, string[]>();
  for (const file of files.sort()) {
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(file, 'utf8'));
    } catch {
      continue;
    }
    const prompt = (doc as { candidate?: { prompt?: unknown } } | null)?.candidate?.prompt;
    if (typeof prompt !== 'string') continue;
    const target = resolve(dirname(file), prompt);
    uses.set(target, [...(uses.get(target) ?? []), relative(cwd, file)]);
  }
  return uses;
}
