import { execFileSync } from 'node:child_process';
import { relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

/** What `npm pack` would publish, as npm lists it (no build, no network). */
function packedFiles(): Set<string> {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [pack] = JSON.parse(out) as [{ files: { path: string }[] }];
  return new Set(pack.files.map((f) => f.path));
}

/** The published build's settings and the source files it compiles, as tsc reads tsconfig.build.json. */
function buildConfig(): { options: ts.CompilerOptions; sources: string[] } {
  const file = ts.findConfigFile(ROOT, ts.sys.fileExists, 'tsconfig.build.json')!;
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(file, ts.sys.readFile).config, ts.sys, ROOT);
  return { options: parsed.options, sources: parsed.fileNames.map((f) => relative(ROOT, f)) };
}

describe('the published package', () => {
  it('ships the sources its source maps name, so stack frames point at files that exist, and no tests', () => {
    const { options, sources } = buildConfig();
    const files = packedFiles();
    // With source maps, a frame in dist/x.js is shown at src/x.ts: that file must be in the package.
    if (options.sourceMap && !options.inlineSources) expect(sources.filter((s) => !files.has(s))).toEqual([]);
    expect(sources.length).toBeGreaterThan(50);
    expect([...files].filter((f) => f.endsWith('.test.ts') || f.startsWith('src/testing/'))).toEqual([]);
  });
});
