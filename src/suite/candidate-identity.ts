import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** What a module candidate runs: every local file it imports, directly or not, and the packages it imports. */
export interface ModuleGraph {
  /** Path relative to the entry module's folder (forward slashes) → sha256 of the file, or `missing` for an import that resolves to no file. */
  files: Record<string, string>;
  /**
   * Package name → the installed version (from its package.json, found as Node looks for it), or
   * null when it is not installed; for a package linked to a folder outside any node_modules (a
   * workspace's package, `npm install ../pkg`), `local:` and the digest of its files, since its
   * version does not change when its code does.
   */
  packages: Record<string, string | null>;
}

// Specifiers written as string literals: static `import … from`, side-effect `import '…'`,
// `export … from`, dynamic `import('…')` and `require('…')`. A specifier computed at run time
// cannot be known without running the module; those are not followed.
const SPECIFIERS = [
  /\bimport\s*(?:type\s+)?(?:[\w*$\s{},]*?\s*from\s*)?(['"])([^'"\n]+)\1/g,
  /\bexport\s*(?:type\s+)?(?:\*(?:\s*as\s+[\w$]+)?|\{[^}]*\})\s*from\s*(['"])([^'"\n]+)\1/g,
  /\bimport\s*\(\s*(['"])([^'"\n]+)\1\s*[,)]/g,
  /\brequire\s*\(\s*(['"])([^'"\n]+)\1\s*\)/g,
];

/** The specifiers a module's source imports, in order of first appearance. */
export function importSpecifiers(source: string): string[] {
  const found = new Map<number, string>();
  for (const pattern of SPECIFIERS) for (const m of source.matchAll(pattern)) found.set(m.index, m[2]!);
  return [...new Set([...found.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s))];
}

const EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.json'];

/** A relative specifier as Node (and a TypeScript loader) would find it: the file, the file with an extension, or a folder's index. */
function resolveRelative(from: string, specifier: string): string | null {
  const base = resolve(dirname(from), specifier.split(/[?#]/)[0]!);
  if (isFile(base)) return base;
  // `./helper.js` written for a `helper.ts` source.
  const ts = base.replace(/\.(m|c)?js$/, '.$1ts');
  if (ts !== base && isFile(ts)) return ts;
  for (const ext of EXTENSIONS) if (isFile(base + ext)) return base + ext;
  for (const ext of EXTENSIONS) if (isFile(join(base, `index${ext}`))) return join(base, `index${ext}`);
  return null;
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
const packageName = (specifier: string) => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');

/**
 * The version of the package Node would load for an import from `from`: the nearest
 * node_modules/<name>/package.json up the folders; for a link to local code, its files' digest.
 */
function installedVersion(from: string, name: string): string | null {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const folder = join(dir, 'node_modules', name);
    const manifest = join(folder, 'package.json');
    if (existsSync(manifest)) {
      const real = realpathSync(folder);
      if (!real.split(sep).includes('node_modules')) return `local:${folderDigest(real)}`;
      try {
        const version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: unknown }).version;
        return typeof version === 'string' ? version : null;
      } catch {
        return null;
      }
    }
    if (dirname(dir) === dir) return null;
  }
}

/** sha256 over a folder's files (paths and bytes, in sorted order; a link to a file as the file), node_modules, __pycache__, dot-folders and links to folders left out. */
export function folderDigest(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== '__pycache__' && !entry.name.startsWith('.')) walk(path);
      } else if (entry.isFile() || (entry.isSymbolicLink() && isFile(path))) {
        hash.update(`${relative(root, path).split(sep).join('/')}\0`).update(readFileSync(path)).update('\0');
      }
    }
  };
  walk(root);
  return hash.digest('hex');
}

/**
 * The resolved import graph of a module: each local file it reaches through relative
 * specifiers (recursively) with its content hash, and each package it imports with its
 * installed version. A candidate's identity must change when any of these does, or a
 * `--resume`, a noise floor or a promotion would credit one program with another's evidence.
 * Packages are identified by version and not followed: their own files are theirs to version.
 */
export function moduleGraph(entry: string): ModuleGraph {
  const root = dirname(entry);
  const files: Record<string, string> = {};
  const packages: Record<string, string | null> = {};
  const key = (file: string) => relative(root, file).split(sep).join('/');
  const queue = [entry];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (seen.has(file)) continue;
    seen.add(file);
    let source: string;
    try {
      source = readFileSync(file, 'utf8');
    } catch {
      files[key(file)] = 'missing';
      continue;
    }
    files[key(file)] = sha256(source);
    if (extname(file) === '.json') continue;
    for (const specifier of importSpecifiers(source)) {
      if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('file:')) {
        const path = specifier.startsWith('file:') ? new URL(specifier).pathname : specifier;
        const target = resolveRelative(file, path);
        if (target) queue.push(target);
        else files[`${key(file)} → ${specifier}`] = 'missing';
      } else if (specifier.startsWith('#') || isSelfReference(file, specifier)) {
        // A package's own imports map (`#rules`) or its own name (`my-agent/rules`): its files, as Node maps them.
        // No package.json (or one that is not JSON): nothing to map `#…` through, which Node would refuse too.
        const scope = packageScope(file);
        const targets = !scope ? [] : specifier.startsWith('#') ? mapTargets(scope.manifest.imports, specifier) : mapTargets(scope.manifest.exports, `.${specifier.slice(packageName(specifier).length)}`);
        if (targets.length === 0) files[`${key(file)} → ${specifier}`] = 'missing';
        for (const target of scope ? targets : []) {
          if (target.startsWith('./')) {
            const local = resolveRelative(join(scope!.dir, 'package.json'), target);
            if (local) queue.push(local);
            else files[`${key(file)} → ${specifier} → ${target}`] = 'missing';
          } else if (!isBuiltin(target)) {
            const name = packageName(target);
            if (!(name in packages)) packages[name] = installedVersion(file, name);
          }
        }
      } else if (!isBuiltin(specifier)) {
        const name = packageName(specifier);
        if (!(name in packages)) packages[name] = installedVersion(file, name);
      }
    }
  }
  return { files, packages };
}

interface PackageScope {
  dir: string;
  manifest: { name?: unknown; imports?: unknown; exports?: unknown };
}

/** The package a file belongs to, as Node finds it: the nearest package.json up its folders (null where there is none, or it is not JSON). */
function packageScope(file: string): PackageScope | null {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (isFile(manifest)) {
      try {
        const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as unknown;
        return parsed !== null && typeof parsed === 'object' ? { dir, manifest: parsed as PackageScope['manifest'] } : null;
      } catch {
        return null;
      }
    }
    if (dirname(dir) === dir || dir.split(sep).at(-1) === 'node_modules') return null;
  }
}

/** An import of the package's own name, which Node maps through its own `exports`. */
function isSelfReference(file: string, specifier: string): boolean {
  const scope = packageScope(file);
  return scope !== null && scope.manifest.name === packageName(specifier) && scope.manifest.exports !== undefined && scope.manifest.exports !== null;
}

/**
 * Every target an `imports` or `exports` map of a package.json gives a specifier (`#rules`) or
 * subpath (`./rules`, `.`), under any condition (`import`, `require`, `node`, `default`, …):
 * whichever Node picks is among them. The exact key, else the pattern (`#lib/*`, `./*`) with the
 * longest prefix, its `*` replaced. None where the map has no entry for it.
 */
function mapTargets(map: unknown, subpath: string): string[] {
  if (map === undefined || map === null) return [];
  // `exports: "./index.js"`, or a map of conditions alone, is the package's `.`.
  const keyed = typeof map === 'object' && !Array.isArray(map) && Object.keys(map).some((k) => k.startsWith('.') || k.startsWith('#'));
  const entries: Record<string, unknown> = keyed ? (map as Record<string, unknown>) : { '.': map };
  if (Object.hasOwn(entries, subpath)) return leaves(entries[subpath], null);
  let best: { prefix: string; value: unknown; rest: string } | null = null;
  for (const [pattern, value] of Object.entries(entries)) {
    const star = pattern.indexOf('*');
    if (star < 0) continue;
    const [prefix, suffix] = [pattern.slice(0, star), pattern.slice(star + 1)];
    if (subpath.length >= pattern.length - 1 && subpath.startsWith(prefix) && subpath.endsWith(suffix) && (!best || prefix.length > best.prefix.length)) {
      best = { prefix, value, rest: subpath.slice(prefix.length, subpath.length - suffix.length) };
    }
  }
  return best ? leaves(best.value, best.rest) : [];
}

/** The string targets of a map entry (a string, an array of fallbacks, conditions nested at any depth), each `*` replaced by `rest`. */
function leaves(value: unknown, rest: string | null): string[] {
  if (typeof value === 'string') return [rest === null ? value : value.replaceAll('*', rest)];
  if (Array.isArray(value)) return value.flatMap((v) => leaves(v, rest));
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap((v) => leaves(v, rest));
  return [];
}

/** A file (or a link to one) is there; any failure to look (no entry, a name too long, a file taken for a folder) is none. */
export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** sha256 of each file's bytes, keyed by its path relative to `dir`: recorded traces as evidence of what the candidate is. */
export function fileContents(files: readonly string[], dir: string): Record<string, string> {
  return Object.fromEntries(files.map((f) => [relative(dir, f).split(sep).join('/'), existsSync(f) ? sha256(readFileSync(f)) : 'missing']));
}
