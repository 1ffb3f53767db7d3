import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { writeReportFolder } from './write.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sg-report-folder-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

it('writes the Markdown, the HTML and the other files (text or written by a function) into a new folder', () => {
  const out = join(dir, 'a', 'b');
  const files = writeReportFolder(out, { markdown: '# md', html: '<p>h</p>', files: { 'x.json': '{}\n', 'y.xml': (file) => writeFileSync(file, '<y/>') } }, {});
  expect(files).toEqual(['report.md', 'report.html', 'x.json', 'y.xml'].map((f) => join(out, f)));
  expect(files.map((f) => readFileSync(f, 'utf8'))).toEqual(['# md', '<p>h</p>', '{}\n', '<y/>']);
});

it('appends the Markdown to $GITHUB_STEP_SUMMARY when that is set, under the names given', () => {
  const summary = join(dir, 'summary.md');
  writeFileSync(summary, 'before\n');
  const names = { markdown: 'diff.md', html: 'diff.html' };
  writeReportFolder(join(dir, 'r'), { markdown: '# one', html: '', files: {}, names }, { GITHUB_STEP_SUMMARY: summary });
  writeReportFolder(join(dir, 's'), { markdown: '# two', html: '', files: {} }, {});
  expect(readFileSync(summary, 'utf8')).toBe('before\n# one\n');
  expect(readdirSync(join(dir, 'r')).sort()).toEqual(['diff.html', 'diff.md']);
});
