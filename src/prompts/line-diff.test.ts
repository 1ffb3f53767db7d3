import { describe, expect, it } from 'vitest';
import { diffHunks, diffLines, diffStat, renderUnifiedDiff, type DiffLine } from './line-diff.js';

/** Applying a diff to the old text must give the new one, and keep every old line once. */
function check(a: string, b: string, lines: DiffLine[]) {
  const split = (t: string) => (t === '' ? [] : t.replace(/\n$/, '').split('\n'));
  expect(lines.filter((l) => l.kind !== 'add').map((l) => l.text)).toEqual(split(a));
  expect(lines.filter((l) => l.kind !== 'del').map((l) => l.text)).toEqual(split(b));
  expect(lines.filter((l) => l.kind !== 'add').map((l) => l.a)).toEqual(split(a).map((_, i) => i + 1));
  expect(lines.filter((l) => l.kind !== 'del').map((l) => l.b)).toEqual(split(b).map((_, i) => i + 1));
}

describe('diffLines', () => {
  it('marks a changed line as a deletion then an addition, with line numbers on both sides', () => {
    expect(diffLines('a\nb\nc\n', 'a\nx\nc\n')).toEqual([
      { kind: 'same', text: 'a', a: 1, b: 1 },
      { kind: 'del', text: 'b', a: 2 },
      { kind: 'add', text: 'x', b: 2 },
      { kind: 'same', text: 'c', a: 3, b: 3 },
    ]);
  });

  it('finds a shortest edit script: the classic ABCABBA → CBABAC has 5 edits', () => {
    const a = 'A\nB\nC\nA\nB\nB\nA';
    const b = 'C\nB\nA\nB\nA\nC';
    const lines = diffLines(a, b);
    check(a, b, lines);
    const { added, deleted } = diffStat(lines);
    expect(added + deleted).toBe(5);
  });

  it('handles empty texts and texts with nothing in common', () => {
    expect(diffLines('', '')).toEqual([]);
    expect(diffLines('', 'x\ny')).toEqual([{ kind: 'add', text: 'x', b: 1 }, { kind: 'add', text: 'y', b: 2 }]);
    expect(diffLines('x\ny', 'p\nq')).toEqual([
      { kind: 'del', text: 'x', a: 1 }, { kind: 'del', text: 'y', a: 2 },
      { kind: 'add', text: 'p', b: 1 }, { kind: 'add', text: 'q', b: 2 },
    ]);
  });

  it('is a valid, minimal-length diff on random texts', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const text = () => Array.from({ length: Math.floor(rand() * 12) }, () => 'abcd'[Math.floor(rand() * 4)]).join('\n');
    // The edit distance with insertions and deletions only: n + m − 2·LCS, by dynamic programming.
    const distance = (x: string[], y: string[]) => {
      const dp = Array.from({ length: x.length + 1 }, () => new Array<number>(y.length + 1).fill(0));
      for (let i = 1; i <= x.length; i++) for (let j = 1; j <= y.length; j++) dp[i]![j] = x[i - 1] === y[j - 1] ? dp[i - 1]![j - 1]! + 1 : Math.max(dp[i - 1]![j]!, dp[i]![j - 1]!);
      return x.length + y.length - 2 * dp[x.length]![y.length]!;
    };
    for (let n = 0; n < 300; n++) {
      const a = text();
      const b = text();
      const lines = diffLines(a, b);
      check(a, b, lines);
      const { added, deleted } = diffStat(lines);
      expect(added + deleted).toBe(distance(a ? a.split('\n') : [], b ? b.split('\n') : []));
    }
  });
});

describe('hunks and the unified diff', () => {
  const old = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n');
  const changed = old.replace('line 3\n', 'line three\n').replace('line 18\n', '');

  it('keeps three lines of context and splits distant changes into hunks', () => {
    const hunks = diffHunks(diffLines(old, changed));
    expect(hunks.map(({ aStart, aLines, bStart, bLines }) => ({ aStart, aLines, bStart, bLines }))).toEqual([
      { aStart: 1, aLines: 6, bStart: 1, bLines: 6 },
      { aStart: 15, aLines: 6, bStart: 15, bLines: 5 },
    ]);
  });

  it('prints ---/+++ headers, @@ ranges and marked lines, coloured only when asked', () => {
    const plain = renderUnifiedDiff('a\nb\n', 'a\nc\n', { a: 'p.v1', b: 'p.v2' });
    expect(plain).toBe('--- p.v1\n+++ p.v2\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n');
    expect(plain).not.toContain('\u001b[');
    const coloured = renderUnifiedDiff('a\nb\n', 'a\nc\n', { a: 'p.v1', b: 'p.v2' }, { color: true });
    expect(coloured).toContain('\u001b[31m-b\u001b[0m');
    expect(coloured).toContain('\u001b[32m+c\u001b[0m');
    expect(renderUnifiedDiff('same\n', 'same\n', { a: 'x', b: 'y' })).toBe('  (no changes between x and y)\n');
  });
});
