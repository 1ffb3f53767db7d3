/**
 * The names a trace pattern spells out with braces, as a shell would: `{w1,w2}.jsonl` is
 * `w1.jsonl` and `w2.jsonl`, `w{1..3}.jsonl` is `w1.jsonl` to `w3.jsonl`, groups nest and
 * combine. A pattern without braces is its one name. A brace group that is neither a list nor a
 * range of integers (`{a}`, `{01..03}`, one left open, an escaped `\{`) stays as written, as
 * does a pattern that would spell out more than `limit` names: the glob reads those as it will.
 */
export function expandBraces(pattern: string, limit = 10_000): string[] {
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
  return expand(pattern, 0) ? names : [pattern];
}

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
        const range = /^(-?[1-9]\d*|-?0)\.\.(-?[1-9]\d*|-?0)$/.exec(inner);
        if (!range) return { start: i, end: j };
        const [a, b] = [Number(range[1]), Number(range[2])];
        const step = a <= b ? 1 : -1;
        if (Math.abs(b - a) >= 10_000) return { start: i, end: j };
        return { start: i, end: j, alternatives: Array.from({ length: Math.abs(b - a) + 1 }, (_, k) => String(a + k * step)) };
      }
    }
    return undefined; // left open: nothing after it is a group
  }
  return undefined;
}
