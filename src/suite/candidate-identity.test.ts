import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importSpecifiers, moduleGraph } from './candidate-identity.js';

describe('importSpecifiers', () => {
  it('finds static, side-effect, re-export, dynamic and require specifiers written as literals', () => {
    const source = [
      "import a from './a.mjs';",
      "import { b,\n  c as d } from \"./b.js\";",
      "import * as e from '../e.js';",
      "import './side-effect.js';",
      "export { f } from './f.js';",
      "export * from './g.js';",
      "export * as h from 'h-pkg/sub';",
      "const i = await import('./i.js');",
      "const j = require('@scope/j');",
      "import fs from 'node:fs';",
      'const k = await import(name); // computed: not followed',
    ].join('\n');
    expect(importSpecifiers(source)).toEqual(['./a.mjs', './b.js', '../e.js', './side-effect.js', './f.js', './g.js', 'h-pkg/sub', './i.js', '@scope/j', 'node:fs']);
  });
});

describe('moduleGraph', () => {
  let dir: string | undefined;
  afterEach(() => dir && rmSync(dir, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(join(dir!, path, '..'), { recursive: true });
    writeFileSync(join(dir!, path), text);
  };

  it('follows relative imports recursively and records package versions as Node would find them', () => {
    dir = mkdtempSync(join(tmpdir(), 'sg-graph-'));
    write('agents/main.mjs', "import { h } from './lib/helper.mjs';\nimport x from 'fake-pkg/sub.js';\nimport fs from 'node:fs';\nexport const run = () => h();");
    write('agents/lib/helper.mjs', "export * from './deep';\nexport const h = () => 1;");
    write('agents/lib/deep.js', 'export const d = 2;');
    write('node_modules/fake-pkg/package.json', '{"name":"fake-pkg","version":"1.2.3"}');
    const graph = moduleGraph(join(dir, 'agents/main.mjs'));
    expect(Object.keys(graph.files).sort()).toEqual(['lib/deep.js', 'lib/helper.mjs', 'main.mjs']);
    expect(graph.packages).toEqual({ 'fake-pkg': '1.2.3' });

    // A change two imports away, or a new installed version, changes the graph.
    write('agents/lib/deep.js', 'export const d = 3;');
    const changed = moduleGraph(join(dir, 'agents/main.mjs'));
    expect(changed.files['lib/deep.js']).not.toBe(graph.files['lib/deep.js']);
    expect(changed.files['main.mjs']).toBe(graph.files['main.mjs']);
    write('node_modules/fake-pkg/package.json', '{"name":"fake-pkg","version":"1.2.4"}');
    expect(moduleGraph(join(dir, 'agents/main.mjs')).packages).toEqual({ 'fake-pkg': '1.2.4' });
  });

  it('records an import that resolves to nothing, and a package that is not installed, rather than skipping them', () => {
    dir = mkdtempSync(join(tmpdir(), 'sg-graph-'));
    write('main.mjs', "import './gone.mjs';\nimport 'absent-pkg';");
    expect(moduleGraph(join(dir, 'main.mjs'))).toEqual({
      files: { 'main.mjs': expect.any(String), 'main.mjs → ./gone.mjs': 'missing' },
      packages: { 'absent-pkg': null },
    });
  });

  it("follows a package's own imports map (#rules) and its own name through its exports, under every condition, to its files", () => {
    dir = mkdtempSync(join(tmpdir(), 'sg-graph-'));
    write('agent/package.json', JSON.stringify({
      name: 'agent-pkg',
      type: 'module',
      imports: { '#rules': { import: './rules.mjs', require: './rules.cjs' }, '#lib/*': './lib/*.mjs', '#dep': 'fake-dep' },
      exports: { '.': './main.mjs', './policy': './policy.mjs' },
    }));
    write('agent/main.mjs', "import { decide } from '#rules';\nimport { h } from '#lib/helper';\nimport 'agent-pkg/policy';\nimport '#dep';\nimport '#nowhere';\nexport const run = () => decide();");
    write('agent/rules.mjs', "export const decide = () => 'approve';");
    write('agent/rules.cjs', "exports.decide = () => 'approve';");
    write('agent/lib/helper.mjs', 'export const h = 1;');
    write('agent/policy.mjs', 'export const limit = 500;');
    write('agent/node_modules/fake-dep/package.json', '{"name":"fake-dep","version":"2.0.0"}');
    const graph = moduleGraph(join(dir, 'agent/main.mjs'));
    expect(Object.keys(graph.files).sort()).toEqual(['lib/helper.mjs', 'main.mjs', 'main.mjs → #nowhere', 'policy.mjs', 'rules.cjs', 'rules.mjs']);
    expect(graph.files['main.mjs → #nowhere']).toBe('missing');
    // With no package.json to map it through (or one that is not JSON), an import map entry is missing, not a crash.
    write('lone/main.mjs', "import '#rules';");
    write('lone/package.json', '{not json');
    expect(moduleGraph(join(dir, 'lone/main.mjs')).files['main.mjs → #rules']).toBe('missing');
    expect(graph.packages).toEqual({ 'fake-dep': '2.0.0' });
    // A change behind either is a change of the candidate.
    for (const file of ['agent/rules.mjs', 'agent/policy.mjs', 'agent/lib/helper.mjs']) {
      const before = moduleGraph(join(dir, 'agent/main.mjs'));
      write(file, `export const changed = ${JSON.stringify(file)};`);
      expect(moduleGraph(join(dir, 'agent/main.mjs'))).not.toEqual(before);
    }
  });

  it("takes a package linked to local code (a workspace's) by its files, not its version, which does not change with them", () => {
    dir = mkdtempSync(join(tmpdir(), 'sg-graph-'));
    write('agents/main.mjs', "import { decide } from 'agent-core';\nexport const run = () => decide();");
    write('packages/agent-core/package.json', '{"name":"agent-core","version":"1.0.0","main":"index.mjs"}');
    write('packages/agent-core/index.mjs', "export const decide = () => 'approve';");
    write('packages/agent-core/node_modules/dep/index.js', 'left out');
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(join(dir, 'packages/agent-core'), join(dir, 'node_modules/agent-core'));
    const before = moduleGraph(join(dir, 'agents/main.mjs')).packages['agent-core'];
    expect(before).toMatch(/^local:[0-9a-f]{64}$/);
    write('packages/agent-core/node_modules/dep/index.js', 'changed, and still left out');
    expect(moduleGraph(join(dir, 'agents/main.mjs')).packages['agent-core']).toBe(before);
    // A file linked into the package is read as the file it links to.
    write('shared/rules.json', '{"limit": 500}');
    symlinkSync(join(dir, 'shared/rules.json'), join(dir, 'packages/agent-core/rules.json'));
    const linked = moduleGraph(join(dir, 'agents/main.mjs')).packages['agent-core'];
    expect(linked).not.toBe(before);
    write('shared/rules.json', '{"limit": 900}');
    expect(moduleGraph(join(dir, 'agents/main.mjs')).packages['agent-core']).not.toBe(linked);
    write('packages/agent-core/index.mjs', "export const decide = () => 'deny';");
    const after = moduleGraph(join(dir, 'agents/main.mjs')).packages['agent-core'];
    expect(after).toMatch(/^local:/);
    expect(after).not.toBe(before);
  });
});
