/** The most names a pattern may spell out; past it, which files it names cannot be told (and spelling them would cost). */
const MAX_NAMES = 10_000;

/**
 * The names a trace pattern spells out with braces, as a shell would: `{w1,w2}.jsonl` is
 * `w1.jsonl` and `w2.jsonl`, `w{1..3}.jsonl` is `w1.jsonl` to `w3.jsonl`, a range of letters
 * `{a..e}`, either with a step `{1..9..2}`; groups nest and combine. A pattern without braces is
 * its one name; a group that is neither a list nor a range (`{a}`, one left open, an escaped
 * `\{`) stays as written. `problem` says why a pattern cannot say which files it names: a range
 * not spelt out here (`{+1..3}`, `{A..b}`, `{01..03}`), or more than `limit` names. The glob
 * library may read those its own way, so that a missing file would go unnoticed: the suite is
 * refused instead (name the files, or use a wildcard).
 */
export function spelledOut(pattern: string, limit = MAX_NAMES): { names: string[]; problem?: string } {
  const names: string[] = [];
  const expand = (text: string, from: number): boolean => {
    const group = nextGroup(text, from);
    if (!group) {
      names.push(text);
      return names.length <= limit;
    }
    const head = text.slice(0, group.start);
    const tail = text.slice(group.end + 1);
    const alternatives = group.alternatives;
    if (!alternatives) return expand(text, group.end + 1);
    for (const alternative of alternatives) if (!expand(head + alternative + tail, head.length)) return false;
    return true;
  };
  if (!expand(pattern, 0)) return { names: [pattern], problem: `it names more than ${limit.toLocaleString('en')} files` };
  const range = names.map((name) => UNSPELLED_RANGE.exec(name)?.[1]).find((r) => r !== undefined);
  return range === undefined ? { names } : { names, problem: `the range ${range} is not one shadowgate spells out (integers without a + or a leading zero, or letters of one case, each with an optional step, at most ${MAX_NAMES.toLocaleString('en')} names)` };
}

/** A brace group left with `..` in it: a range spelledOut did not spell out. */
const UNSPELLED_RANGE = /(?:^|[^\\])(\{[^{},]*\.\.[^{},]*\})/;

/** The first brace group at or after `from`: where it opens and closes, and what it stands for (none: it is not a list or a range). */
function nextGroup(text: string, from: number): { start: number; end: number; alternatives?: string[] } | undefined {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') {
      i++;
      continue;
    }
    if (text[i] !== '{') continue;
    let depth = 0;
    const commas: number[] = [];
    for (let j = i; j < text.length; j++) {
      const c = text[j];
      if (c === '\\') j++;
      else if (c === '{') depth++;
      else if (c === ',' && depth === 1) commas.push(j);
      else if (c === '}' && --depth === 0) {
        const inner = text.slice(i + 1, j);
        if (commas.length > 0) {
          const cuts = [i, ...commas, j];
          return { start: i, end: j, alternatives: cuts.slice(1).map((cut, k) => text.slice(cuts[k]! + 1, cut)) };
        }
        const alternatives = rangeOf(inner);
        return alternatives ? { start: i, end: j, alternatives } : { start: i, end: j };
      }
    }
    return undefined; // left open: nothing after it is a group
  }
  return undefined;
}

/**
 * What a range in braces spells out, as a shell does: `1..3` is 1, 2, 3; `e..a..2` is e, c, a;
 * none for anything else (zero-padded numbers, ends of two kinds, a step of 0). Where the glob
 * library reads a stepped range as fewer names, more are required here, never fewer.
 */
function rangeOf(inner: string): string[] | undefined {
  const m = /^(-?(?:[1-9]\d*|0)|[A-Za-z])\.\.(-?(?:[1-9]\d*|0)|[A-Za-z])(?:\.\.(-?[1-9]\d*))?$/.exec(inner);
  if (!m) return undefined;
  const kind = (end: string) => (/^[a-z]$/.test(end) ? 'lower' : /^[A-Z]$/.test(end) ? 'upper' : 'number');
  if (kind(m[1]!) !== kind(m[2]!)) return undefined; // `{1..c}`, `{a..Z}`: not one range
  const letters = kind(m[1]!) !== 'number';
  const [a, b] = letters ? [m[1]!.charCodeAt(0), m[2]!.charCodeAt(0)] : [Number(m[1]), Number(m[2])];
  const step = Math.abs(Number(m[3] ?? 1));
  const count = Math.floor(Math.abs(b - a) / step) + 1;
  if (count > MAX_NAMES) return undefined;
  const sign = a <= b ? 1 : -1;
  return Array.from({ length: count }, (_, k) => (letters ? String.fromCharCode(a + sign * k * step) : String(a + sign * k * step)));
}
