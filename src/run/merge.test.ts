import { describe, expect, it } from 'vitest';
import { InputError } from '../errors.js';
import { mergeShards, type RunDocument } from './merge.js';
import type { RunSettings } from './run-suite.js';

// Made-up shards with no results: what is checked here is refused before any result is read.
const settings: RunSettings = {
  gate: { agreement: { min: 0.85, bound: 'lower' } } as RunSettings['gate'],
  trials: 1,
  driftIgnoreArgs: ['note'],
  phase: 'shadow',
  decision: { fields: ['action'] } as unknown as RunSettings['decision'],
  tracesHash: 'traces-hash',
};

function shard(index: number, own: Partial<RunSettings> = {}): RunDocument {
  return {
    schema: 'shadowgate.run/v1',
    runId: `r-${index}`,
    suite: { name: 's', file: 'suites/s.yaml', hash: 'suite-hash' },
    phase: 'shadow',
    candidate: { label: 'c', hash: 'candidate-hash', model: null, promptVersion: null, source: null },
    reference: 'human',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    git: { commit: null, ref: null },
    shard: { index, count: 2 },
    settings: { ...settings, ...own },
    issues: [],
    warnings: [],
    modelCalls: { requests: 0, cacheHits: 0, cassetteHits: 0, network: 0, retries: 0 },
    results: [],
  };
}

const merge = (docs: RunDocument[]) => () => mergeShards(docs, ['a.json', 'b.json'], new Date('2026-01-02T00:00:00Z'));

describe('mergeShards refuses shards run with different settings', () => {
  it.each([
    ['trials', { trials: 3 }, 'run with trials 3, a.json with 1'],
    ['review', { review: { sampleRate: 0.3, seed: 8 } }, 'run with review {"sampleRate":0.3,"seed":8}, a.json with none'],
    ['decision', { decision: { fields: ['action', 'amount'] } as unknown as RunSettings['decision'] }, 'run with decision {"fields":["action","amount"]}'],
    ['baseline', { baseline: { runId: 'base-1', rows: [] } }, 'run with baseline base-1, a.json with none'],
  ] as const)('%s, naming both values (never a verdict over mixed evidence)', (name, own, message) => {
    const run = merge([shard(1), shard(2, own as Partial<RunSettings>)]);
    expect(run).toThrow(InputError);
    expect(run).toThrow(`b.json: settings.${name}: ${message}`);
  });

  it('a shard written before the digest of the trace files was kept: nothing says it read the same traces', () => {
    const { tracesHash: _t, ...older } = settings;
    const run = merge([shard(1), { ...shard(2), settings: older }]);
    expect(run).toThrow('b.json: settings.tracesHash: written by an older shadowgate, which kept no digest of the trace files it read: run the shard again');
  });

  it('and merges shards whose settings agree', () => {
    expect(merge([shard(1), shard(2)])().outcome.trials).toBe(1);
  });
});
