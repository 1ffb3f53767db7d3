/**
 * The packed package, installed into an empty project, works there: its bin, `init`, a run of
 * what `init` wrote, and the `shadowgate/vitest` entry point.
 *
 * Tests never reach the network, and `npm install <tarball>` must fetch the registry's
 * metadata of every dependency even when their tarballs are cached, so the install is done
 * the way npm lays a tarball out, without npm's resolver: the tarball made by `npm pack` is
 * unpacked into node_modules/shadowgate, its `bin` entries are linked into node_modules/.bin,
 * and each of its declared dependencies (and the vitest peer) is linked from this repository's
 * node_modules. Only the declared ones: a module the package imports but does not declare
 * fails here, as it would for a user. Slow (a pack, a run in child processes): a generous
 * timeout, no speed assertion.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

interface Manifest {
  name: string;
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
}

let work: string;
let app: string;

/** The environment of a user's shell: none of the npm_* variables the test runner's own `npm test` set. */
const userEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));

function inApp(command: string, args: string[]) {
  const r = spawnSync(command, args, { cwd: app, encoding: 'utf8', env: { ...userEnv(), CI: 'true', npm_config_update_notifier: 'false' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ is not built: run `npm run build` (npm test does it first)');
  work = mkdtempSync(join(tmpdir(), 'sg-pack-'));
  // --ignore-scripts: dist/ is built already; packing must not rebuild it under tests that run it.
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [packed] = JSON.parse(out) as [{ filename: string }];
  app = join(work, 'app');
  const installed = join(app, 'node_modules', 'shadowgate');
  mkdirSync(installed, { recursive: true });
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'app', private: true, type: 'module', devDependencies: { shadowgate: `file:../${packed.filename}` } }, null, 2)}\n`);
  execFileSync('tar', ['-xzf', join(work, packed.filename), '-C', installed, '--strip-components=1']);
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Manifest;
  for (const [name, target] of Object.entries(manifest.bin)) {
    const link = join(app, 'node_modules', '.bin', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(relative(dirname(link), join(installed, target)), link);
  }
  for (const dep of [...Object.keys(manifest.dependencies), ...Object.keys(manifest.peerDependencies)]) {
    const link = join(app, 'node_modules', dep);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', dep), link, 'dir');
  }
}, 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package, installed in an empty project', () => {
  it('holds the license, the changelog, the init templates and the JSON Schemas', () => {
    const installed = join(app, 'node_modules', 'shadowgate');
    for (const f of ['LICENSE', 'CHANGELOG.md', 'templates/init/suite.yaml', 'templates/init/github-workflow.yml', 'schema/tools.schema.json']) {
      expect(existsSync(join(installed, f)), f).toBe(true);
    }
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect((JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { license: string }).license).toBe('MIT');
  });

  it('npx shadowgate --help lists the commands, init among them', { timeout: 120_000 }, () => {
    const { code, stdout } = inApp('npx', ['--offline', 'shadowgate', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: shadowgate /);
    expect(stdout).toMatch(/^ {2}init \[options\] \[dir\]/m);
  });

  it('npx shadowgate init scaffolds a project, and running its suite exits 0', { timeout: 300_000 }, () => {
    const init = inApp('npx', ['--offline', 'shadowgate', 'init']);
    expect(init.code).toBe(0);
    const run = inApp('npx', ['--offline', 'shadowgate', 'run', 'suite.yaml']);
    expect({ code: run.code, stderr: run.stderr.replace(/^access-requests: .*\n/gm, '') }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toContain('gate: PASS');
  });

  it("import 'shadowgate/vitest' resolves to the package's entry point and its exports", { timeout: 120_000 }, () => {
    const script = "const m = await import('shadowgate/vitest'); console.log(JSON.stringify({ url: import.meta.resolve('shadowgate/vitest'), keys: Object.keys(m).sort() }));";
    const { code, stdout, stderr } = inApp(process.execPath, ['--input-type=module', '-e', script]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const { url, keys } = JSON.parse(stdout) as { url: string; keys: string[] };
    expect(url).toBe(pathToFileURL(join(app, 'node_modules/shadowgate/dist/vitest/index.js')).href);
    expect(keys).toEqual(expect.arrayContaining(['shadowgateMatchers', 'runSuite']));
  });
});
