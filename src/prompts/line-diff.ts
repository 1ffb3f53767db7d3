/** One line of a line diff: kept, deleted from the old text, or added in the new one. */
export interface DiffLine {
  kind: 'same' | 'del' | 'add';
  text: string;
  /** 1-based line number in the old text (same, del). */
  a?: number;
  /** 1-based line number in the new text (same, add). */
  b?: number;
}

/** A run of changed lines with up to `context` unchanged lines either side. */
export interface DiffHunk {
  /** First old and new line numbers the hunk covers (1-based; 0 for an empty side), and how many lines of each. */
  aStart: number;
  aLines: number;
  bStart: number;
  bLines: number;
  lines: DiffLine[];
}

const splitLines = (text: string): string[] => {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
};

/**
 * A shortest line diff of two texts (Myers' O((N+M)·D) algorithm, after trimming
 * the common head and tail), in order: every old line appears once as `same` or
 * `del`, every new line once as `same` or `add`, deletions before additions. Pure.
 *
 * @example
 * diffLines('a\nb\n', 'a\nc\n')
 * // [{ kind: 'same', text: 'a', a: 1, b: 1 }, { kind: 'del', text: 'b', a: 2 }, { kind: 'add', text: 'c', b: 2 }]
 */
export function diffLines(oldText: string, newText: string): DiffLine[] {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const out: DiffLine[] = [];
  for (let i = 0; i < head; i++) out.push({ kind: 'same', text: a[i]!, a: i + 1, b: i + 1 });
  for (const op of middle(a.slice(head, a.length - tail), b.slice(head, b.length - tail))) {
    if (op.kind === 'same') out.push({ kind: 'same', text: a[head + op.i]!, a: head + op.i + 1, b: head + op.j + 1 });
    else if (op.kind === 'del') out.push({ kind: 'del', text: a[head + op.i]!, a: head + op.i + 1 });
    else out.push({ kind: 'add', text: b[head + op.j]!, b: head + op.j + 1 });
  }
  for (let t = tail; t > 0; t--) out.push({ kind: 'same', text: a[a.length - t]!, a: a.length - t + 1, b: b.length - t + 1 });
  return out;
}

type Op = { kind: 'same' | 'del' | 'add'; i: number; j: number };

/** Myers' greedy forward search, keeping each round's furthest reaches to walk the path back. */
function middle(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Array<number>(2 * max + 3).fill(0);
  const trace: number[][] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[offset + k - 1]! < v[offset + k + 1]!) ? v[offset + k + 1]! : v[offset + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) (x++, y++);
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk back from (n, m) through the saved rounds: each round adds one edit and a snake of matches.
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && vd[offset + k - 1]! < vd[offset + k + 1]!);
    const prevK = down ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[offset + prevK]!;
    const prevY = d === 0 ? 0 : prevX - prevK;
    while (x > prevX && y > prevY) ops.push({ kind: 'same', i: --x, j: --y });
    if (d > 0) {
      if (down) ops.push({ kind: 'add', i: x, j: --y });
      else ops.push({ kind: 'del', i: --x, j: y });
    }
  }
  return reorder(ops.reverse());
}

/** Within each run of changes, deletions first, the way unified diffs read. */
function reorder(ops: Op[]): Op[] {
  const out: Op[] = [];
  let dels: Op[] = [];
  let adds: Op[] = [];
  const flush = () => {
    out.push(...dels, ...adds);
    dels = [];
    adds = [];
  };
  for (const op of ops) {
    if (op.kind === 'same') {
      flush();
      out.push(op);
    } else (op.kind === 'del' ? dels : adds).push(op);
  }
  flush();
  return out;
}

/** Groups a diff into hunks of changes with `context` unchanged lines around each; none when nothing changed. Pure. */
export function diffHunks(lines: readonly DiffLine[], context = 3): DiffHunk[] {
  const changed = lines.flatMap((l, i) => (l.kind === 'same' ? [] : [i]));
  const hunks: DiffHunk[] = [];
  let start = -1;
  let end = -1;
  const close = () => {
    const slice = lines.slice(start, end + 1);
    const first = (side: 'a' | 'b') => slice.find((l) => l[side] !== undefined)?.[side];
    const count = (side: 'a' | 'b') => slice.filter((l) => l[side] !== undefined).length;
    // An empty side is numbered by the line before it, as `diff -u` does.
    const before = (side: 'a' | 'b') => lines.slice(0, start).reduce((n, l) => (l[side] !== undefined ? l[side]! : n), 0);
    hunks.push({
      aStart: first('a') ?? before('a'),
      aLines: count('a'),
      bStart: first('b') ?? before('b'),
      bLines: count('b'),
      lines: slice,
    });
  };
  for (const i of changed) {
    const from = Math.max(0, i - context);
    if (start >= 0 && from <= end + 1) end = Math.min(lines.length - 1, i + context);
    else {
      if (start >= 0) close();
      start = from;
      end = Math.min(lines.length - 1, i + context);
    }
  }
  if (start >= 0) close();
  return hunks;
}

const COLOR = { del: '\u001b[31m', add: '\u001b[32m', hunk: '\u001b[36m', reset: '\u001b[0m' };

/**
 * A unified diff (`--- old`, `+++ new`, `@@ … @@` hunks, lines marked ' ', '-', '+'),
 * coloured with ANSI codes when `color` is set; "(no changes)" when the texts are equal. Pure.
 */
export function renderUnifiedDiff(oldText: string, newText: string, labels: { a: string; b: string }, options: { context?: number; color?: boolean } = {}): string {
  const hunks = diffHunks(diffLines(oldText, newText), options.context ?? 3);
  if (hunks.length === 0) return `  (no changes between ${labels.a} and ${labels.b})\n`;
  const paint = (code: string, text: string) => (options.color ? `${code}${text}${COLOR.reset}` : text);
  const out = [paint(COLOR.del, `--- ${labels.a}`), paint(COLOR.add, `+++ ${labels.b}`)];
  for (const h of hunks) {
    out.push(paint(COLOR.hunk, `@@ -${h.aStart},${h.aLines} +${h.bStart},${h.bLines} @@`));
    for (const l of h.lines) out.push(l.kind === 'same' ? ` ${l.text}` : l.kind === 'del' ? paint(COLOR.del, `-${l.text}`) : paint(COLOR.add, `+${l.text}`));
  }
  return `${out.join('\n')}\n`;
}

/** Lines added and deleted. */
export function diffStat(lines: readonly DiffLine[]): { added: number; deleted: number } {
  return { added: lines.filter((l) => l.kind === 'add').length, deleted: lines.filter((l) => l.kind === 'del').length };
}
