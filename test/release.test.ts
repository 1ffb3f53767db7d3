/**
 * The release set-up: the license, the Changesets files and scripts, and the workflow that
 * publishes a version tag with npm provenance. Read from the files themselves; only the
 * workflow's repository check is run (on package.json files of the test's own).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..');
const read = (f: string) => readFileSync(join(root, f), 'utf8');
const pkg = JSON.parse(read('package.json')) as {
  name: string;
  license: string;
  scripts: Record<string, string>;
  files: string[];
  devDependencies: Record<string, string>;
};

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}

describe('release set-up', () => {
  it('LICENSE is the MIT license package.json names, held by the contributors', () => {
    expect(pkg.license).toBe('MIT');
    expect(read('LICENSE')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} shadowgate contributors\n/);
  });

  it('Changesets: the CLI, its config, the scripts it documents, well-formed pending changesets for this package, and a changelog', () => {
    expect(Object.keys(pkg.devDependencies)).toContain('@changesets/cli');
    expect(pkg.scripts).toMatchObject({ changeset: 'changeset', version: 'changeset version' });
    const config = JSON.parse(read('.changeset/config.json')) as { baseBranch: string; access: string };
    expect(config).toMatchObject({ baseBranch: 'main', access: 'public' });
    const changesets = readdirSync(join(root, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
    // None pending is fine (right after `npm run version`); each one pending must name this package.
    for (const f of changesets) expect(read(join('.changeset', f))).toMatch(new RegExp(`^---\\n"${pkg.name}": (patch|minor|major)\\n---\\n\\n\\S`));
    expect(read('CHANGELOG.md')).toMatch(new RegExp(`^# ${pkg.name}\\n\\n## \\d+\\.\\d+\\.\\d+\\n`));
    expect(pkg.files).toEqual(expect.arrayContaining(['CHANGELOG.md', 'templates', 'schema']));
  });

  it('release.yml: on a v* tag, Node 22, npm ci, build, test, then npm publish with provenance and the NPM_TOKEN secret', () => {
    const wf = parse(read('.github/workflows/release.yml')) as {
      on: { push: { tags: string[] } };
      permissions: Record<string, string>;
      jobs: Record<string, { steps: Step[] }>;
    };
    expect(wf.on).toEqual({ push: { tags: ['v*'] } });
    expect(wf.permissions['id-token']).toBe('write');
    const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
    expect(steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with).toMatchObject({ 'node-version': 22, 'registry-url': 'https://registry.npmjs.org' });
    const runs = steps.flatMap((s) => (s.run ? [s.run.trim()] : []));
    const at = (command: string) => runs.indexOf(command);
    for (const command of ['npm ci', 'npm run build', 'npm test', 'npm publish --provenance --access public']) expect(at(command), command).toBeGreaterThan(-1);
    expect(at('npm ci')).toBeLessThan(at('npm run build'));
    expect(at('npm run build')).toBeLessThan(at('npm test'));
    expect(at('npm test')).toBeLessThan(at('npm publish --provenance --access public'));
    expect(steps.find((s) => s.run?.startsWith('npm publish'))?.env).toEqual({ NODE_AUTH_TOKEN: '${{ secrets.NPM_TOKEN }}' });
    expect(read('.github/workflows/release.yml')).toMatch(/What a maintainer sets up once:/);
    // Before the tests: a package without repository.url fails at once, saying what to set.
    const check = steps.find((s) => s.name === 'Check package.json names its repository')!.run!;
    expect(steps.indexOf(steps.find((s) => s.name === 'Check package.json names its repository')!)).toBeLessThan(steps.findIndex((s) => s.run === 'npm ci'));
    const dir = mkdtempSync(join(tmpdir(), 'sg-release-'));
    try {
      const runCheck = (pkgJson: object) => {
        writeFileSync(join(dir, 'package.json'), JSON.stringify(pkgJson));
        return spawnSync('bash', ['-eo', 'pipefail', '-c', check], { cwd: dir, encoding: 'utf8', env: { ...process.env, GITHUB_REPOSITORY: 'someone/shadowgate' } });
      };
      const without = runCheck({ name: 'shadowgate' });
      expect(without.status).toBe(1);
      expect(without.stderr).toContain('set it to https://github.com/someone/shadowgate');
      expect(runCheck({ name: 'shadowgate', repository: { type: 'git', url: 'git+https://github.com/someone/shadowgate.git' } }).status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
