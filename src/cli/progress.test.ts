import { describe, expect, it } from 'vitest';
import type { CliIo } from './io.js';
import { createProgressReporter } from './progress.js';

function io(isTTY: boolean, env: Record<string, string> = {}) {
  let err = '';
  const value: CliIo = {
    stdout: { write: () => true },
    stderr: { write: (s: string) => (err += s), isTTY },
    env,
    cwd: '.',
  };
  return { value, err: () => err };
}

const feed = (reporter: ReturnType<typeof createProgressReporter>, total: number) => {
  for (let done = 0; done <= total; done++) reporter.update({ done, total });
  reporter.done();
};

describe('progress', () => {
  it('prints one plain line per tenth of the run when not a TTY', () => {
    const out = io(false);
    feed(createProgressReporter(out.value, 'suite'), 50);
    const lines = out.err().trim().split('\n');
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe('suite: 0/50 traces (0%)');
    expect(lines.at(-1)).toBe('suite: 50/50 traces (100%)');
  });

  it('prints plain lines on a TTY when CI is set', () => {
    const out = io(true, { CI: 'true' });
    feed(createProgressReporter(out.value, 'suite'), 10);
    expect(out.err()).not.toContain('\r');
  });

  it('redraws one bar in place on an interactive terminal', () => {
    const out = io(true);
    feed(createProgressReporter(out.value, 'suite'), 10);
    expect(out.err()).toMatch(/^\rsuite \[[█░]{24}\] 0\/10/);
    expect(out.err()).toContain(`\rsuite [${'█'.repeat(24)}] 10/10`);
    expect(out.err().endsWith('\n')).toBe(true);
    expect(out.err().trim().split('\n')).toHaveLength(1);
  });
});
