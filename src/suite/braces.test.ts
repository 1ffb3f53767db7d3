import { describe, expect, it } from 'vitest';
import { glob } from 'tinyglobby';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spelledOut } from './braces.js';

const expandBraces = (pattern: string, limit?: number) => spelledOut(pattern, limit).names;

describe('spelledOut', () => {
  it.each([
    ['w1.jsonl', ['w1.jsonl']],
    ['{w1,w9}.jsonl', ['w1.jsonl', 'w9.jsonl']],
    ['w{1..3}.jsonl', ['w1.jsonl', 'w2.jsonl', 'w3.jsonl']],
    ['w{3..1}', ['w3', 'w2', 'w1']],
    ['{a,{b,c}}x', ['ax', 'bx', 'cx']],
    ['{a,b}/{c,d}', ['a/c', 'a/d', 'b/c', 'b/d']],
    ['{,a}b', ['b', 'ab']],
    ['*.{jsonl,json}', ['*.jsonl', '*.json']],
    ['{x..z}.jsonl', ['x.jsonl', 'y.jsonl', 'z.jsonl']],
    ['{C..A}', ['C', 'B', 'A']],
    ['w{1..5..2}', ['w1', 'w3', 'w5']],
    ['{e..a..2}', ['e', 'c', 'a']],
    ['w{-1..1}', ['w-1', 'w0', 'w1']],
  ])('spells out %s', (pattern, names) => {
    expect(expandBraces(pattern)).toEqual(names);
  });

  it.each(['{a}.jsonl', '\\{a,b}.jsonl', '{a,b.jsonl', '{01..03}.jsonl', 'w{1..20000}.jsonl', '{a..Z}.jsonl', '{1..c}.jsonl', 'w{1..5..0}'])('leaves %s as written (not a list or a plain range, or too many names)', (pattern) => {
    expect(expandBraces(pattern)).toEqual([pattern]);
  });

  it('says why a pattern cannot say which files it names: a range it does not spell out, or too many names', () => {
    expect(spelledOut('w{+1..3}.jsonl').problem).toMatch(/^the range \{\+1\.\.3\} is not one shadowgate spells out/);
    expect(spelledOut('{a,{A..b}}x').problem).toMatch(/^the range \{A\.\.b\}/);
    expect(spelledOut('{01..03}.jsonl').problem).toMatch(/^the range \{01\.\.03\}/);
    expect(spelledOut('{a,b}{c,d}{e,f}', 7).problem).toBe('it names more than 7 files');
    for (const fine of ['w{1..3}.jsonl', '{a}.jsonl', '\\{1..3}.jsonl', '*.{jsonl,json}', 'a..b.jsonl']) expect(spelledOut(fine).problem, fine).toBeUndefined();
  });

  it('gives up past its limit, leaving the pattern as written', () => {
    expect(expandBraces('{a,b}{c,d}{e,f}', 7)).toEqual(['{a,b}{c,d}{e,f}']);
    expect(expandBraces('{a,b}{c,d}{e,f}', 8)).toHaveLength(8);
  });

  it('spells out the names the glob matches, where each is a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-braces-'));
    try {
      const files = ['a.jsonl', 'b.jsonl', 'w1.jsonl', 'w2.jsonl', 'w3.jsonl', 'ax', 'bx', 'cx'];
      for (const f of files) writeFileSync(join(dir, f), '');
      for (const pattern of ['{a,b}.jsonl', 'w{1..3}.jsonl', '{a,{b,c}}x', 'w{3..1}.jsonl', '{a..b}.jsonl']) {
        expect((await glob([pattern], { cwd: dir })).sort()).toEqual([...expandBraces(pattern)].sort());
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
