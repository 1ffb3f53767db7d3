import { describe, expect, it } from 'vitest';
import { coverageCheck, coverageOf, FIRST_LOCATIONS, mergeCoverage, uniqueIssues } from './coverage.js';

const issue = (line: number, path = 'steps') => ({ file: 'traces/a.jsonl', line, path, message: 'bad' });

describe('coverage', () => {
  it('counts each unreadable line once, however many issues it has, and keeps the first locations', () => {
    const issues = [issue(2), issue(2, 'input'), ...Array.from({ length: 8 }, (_, i) => issue(10 + i))];
    const c = coverageOf(40, issues);
    expect(c.unreadable).toBe(9);
    expect(c.lines).toBe(40);
    expect(c.firstLocations).toEqual(['traces/a.jsonl:2', ...Array.from({ length: FIRST_LOCATIONS - 1 }, (_, i) => `traces/a.jsonl:${10 + i}`)]);
    expect(coverageOf(40, [], { traces: 3, first: ['t1', 't2', 't3'] })).toEqual({ lines: 40, unreadable: 0, infrastructureMissing: 3, infrastructureFirst: ['t1', 't2', 't3'], firstLocations: [] });
  });

  it('is inconclusive below its minimum, never a fail, and counts infrastructure losses as missing evidence', () => {
    const c = coverageCheck({ lines: 10, unreadable: 1, firstLocations: ['a:1'] }, 1);
    expect(c).toMatchObject({ status: 'inconclusive', value: 0.9 });
    expect(c.reason).toBe('1 of 10 trace line(s) unreadable (a:1): coverage 90.0% (9/10 lines read into a result) < 100.0%; set gate.coverage.min to accept some loss');
    const infra = coverageCheck({ lines: 10, unreadable: 0, infrastructureMissing: 2, infrastructureFirst: ['t4', 't9'], firstLocations: [] }, 0.9);
    expect(infra).toMatchObject({ status: 'inconclusive', value: 0.8 });
    expect(infra.reason).toContain('2 trace(s) without an outcome because of the infrastructure (t4, t9)');
    expect(coverageCheck({ lines: 10, unreadable: 1, firstLocations: ['a:1'] }, 0.9).status).toBe('pass');
    expect(coverageCheck({ lines: 0, unreadable: 0, firstLocations: [] }, 1)).toMatchObject({ status: 'inconclusive', value: null });
  });

  it('merges shards as the unsharded run: lines read summed, the bad lines (every shard reports them) once', () => {
    const bad = [issue(3), issue(7)];
    // Unsharded: 20 lines, 2 bad. Shards read 8 and 10 of the 18 good ones, and each sees the 2 bad lines.
    const shards = [
      { coverage: coverageOf(8 + 2, bad), issues: bad },
      { coverage: coverageOf(10 + 2, bad), issues: bad },
    ];
    expect(mergeCoverage(shards)).toEqual(coverageOf(20, bad));
    expect(uniqueIssues(shards.flatMap((s) => s.issues))).toEqual(bad);
    // A shard that does not say what it read leaves coverage unknown: inconclusive, not skipped.
    expect(mergeCoverage([shards[0]!, { coverage: null, issues: [] }])).toBeNull();
    expect(coverageCheck(null, 1)).toMatchObject({ status: 'inconclusive', value: null });
  });
});
