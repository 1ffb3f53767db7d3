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

/** sha256 over a folder's files (paths and bytes, in sorted order; a link to a file as the file), node_modules, dot-folders and links to folders left out. */
function folderDigest(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) walk(path);
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
      } else if (!isBuiltin(specifier)) {
        const name = packageName(specifier);
        if (!(name in packages)) packages[name] = installedVersion(file, name);
      }
    }
  }
  return { files, packages };
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
