import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ShadowgateError } from '../errors.js';
import { compareVersions, findPromptFamilies, findPromptVersion, groupPromptFiles, parsePromptFileName, promptDirs, suitesByPrompt } from './versions.js';

describe('prompt file names and versions', () => {
  it('reads <name>.<version>.hbs and nothing else', () => {
    expect(parsePromptFileName('/p/triage.v4.hbs')).toEqual({ name: 'triage', version: 'v4' });
    expect(parsePromptFileName('triage.1.2.0.hbs')).toEqual({ name: 'triage', version: '1.2.0' });
    expect(parsePromptFileName('triage.hbs')).toBeNull();
    expect(parsePromptFileName('triage.v4.txt')).toBeNull();
  });

  it('sorts versions naturally: v3 < v4 < v10, 1.9 < 1.10', () => {
    expect(['v10', 'v4', 'v3', 'v1'].sort(compareVersions)).toEqual(['v1', 'v3', 'v4', 'v10']);
    expect(['1.10', '1.9', '1.2'].sort(compareVersions)).toEqual(['1.2', '1.9', '1.10']);
  });

  it('groups files by folder and name', () => {
    const families = groupPromptFiles(['/a/triage.v10.hbs', '/a/triage.v3.hbs', '/a/notes.md', '/b/triage.v1.hbs', '/a/reply.v1.hbs']);
    expect(families.map((f) => [f.dir, f.name, f.versions.map((v) => v.version)])).toEqual([
      ['/a', 'reply', ['v1']],
      ['/a', 'triage', ['v3', 'v10']],
      ['/b', 'triage', ['v1']],
    ]);
  });
});

describe('finding prompts on disk', () => {
  const root = mkdtempSync(join(tmpdir(), 'sg-prompts-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  for (const [dir, file] of [['fixtures/one/prompts', 'triage.v3.hbs'], ['fixtures/one/prompts', 'triage.v10.hbs'], ['fixtures/two/prompts', 'reply.v1.hbs'], ['elsewhere', 'triage.v1.hbs']]) {
    mkdirSync(join(root, dir!), { recursive: true });
    writeFileSync(join(root, dir!, file!), 'Hello {{input.name}}\n');
  }
  mkdirSync(join(root, 'suites'));
  writeFileSync(join(root, 'suites/a.yaml'), 'name: a\ncandidate:\n  kind: tool-loop\n  model: replay\n  prompt: ../fixtures/one/prompts/triage.v10.hbs\n');
  writeFileSync(join(root, 'suites/broken.yaml'), 'name: [\n');

  it('looks in every fixtures/*/prompts by default, or in --dir, or next to the suite\'s prompt', async () => {
    expect(await promptDirs(root)).toEqual([join(root, 'fixtures/one/prompts'), join(root, 'fixtures/two/prompts')]);
    expect(await promptDirs(root, { dir: 'elsewhere' })).toEqual([join(root, 'elsewhere')]);
    expect(await promptDirs(root, { suitePrompt: join(root, 'elsewhere/triage.v1.hbs') })).toEqual([join(root, 'elsewhere')]);
    await expect(promptDirs(root, { dir: 'nowhere' })).rejects.toThrow(/--dir nowhere: no such folder/);
  });

  it('finds a version by its name, and says what there is when it is not there', async () => {
    const families = findPromptFamilies(await promptDirs(root));
    expect(findPromptVersion(families, 'triage', 'v10', root).file).toBe(join(root, 'fixtures/one/prompts/triage.v10.hbs'));
    expect(findPromptVersion(families, 'triage', 'triage.v3', root).version).toBe('v3');
    expect(() => findPromptVersion(families, 'triage', 'v4', root)).toThrow(/prompt triage has no version v4 in fixtures\/one\/prompts/);
    try {
      findPromptVersion(families, 'triage', 'v4', root);
    } catch (error) {
      expect((error as ShadowgateError).hint).toBe('its versions: v3, v10');
    }
    expect(() => findPromptVersion(families, 'nope', 'v1', root)).toThrow(/no prompt named nope \(found: reply, triage\)/);
    const both = findPromptFamilies([join(root, 'fixtures/one/prompts'), join(root, 'elsewhere')]);
    expect(() => findPromptVersion(both, 'triage', 'v1', root)).toThrow(/prompt triage is in several folders: elsewhere, fixtures\/one\/prompts/);
  });

  it('tells which suites run which prompt file, skipping suites that do not parse', async () => {
    const uses = await suitesByPrompt(root);
    expect([...uses]).toEqual([[join(root, 'fixtures/one/prompts/triage.v10.hbs'), ['suites/a.yaml']]]);
  });
});
