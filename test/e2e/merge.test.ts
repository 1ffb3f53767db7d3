import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, copyExample } from './helpers.js';

// `merge` of the shards of a run must give the unsharded run's metrics, checks and verdict,
// in every phase, with and without a baseline, however many shards. The traces are the
// example's first 60 (a subset, so that the 60 runs below stay quick).
let dir: string;
let cleanup: () => void;
const PHASES = ['shadow', 'suggest', 'auto-with-review', 'auto'] as const;

const PHASE_SETTINGS: Record<(typeof PHASES)[number], string> = {
  shadow: '',
  suggest: 'gate:\n  agreement: { min: 0.85, bound: lower }\n  overrideRate: { max: 0.2 }\n  regressions: { max: 0 }\n',
  // Stratified: the sample is drawn over the whole run, which a shard alone cannot do.
  'auto-with-review': 'review: { sampleRate: 0.3, seed: 7, stratify: decision }\ngate:\n  agreement: { min: 0.85, bound: lower }\n  sampleErrorRate: { max: 0.2 }\n  regressions: { max: 0 }\n',
  // A generous SLA: latency is measured afresh on every run, so adherence must not hang on it.
  auto: 'sla: { latencyMs: 60000 }\ngate:\n  agreement: { min: 0.85, bound: lower }\n  slaAdherence: { min: 0.9 }\n  costTrend: { maxRatio: 1.2 }\n  regressions: { max: 0 }\n',
};

function suite(phase: (typeof PHASES)[number], agent: string): string {
  return [
    `name: merge-${phase}`,
    `phase: ${phase}`,
    'traces: ["../traces/small/*.jsonl"]',
    'tools: ../fixtures/refund-triage/tools.yaml',
    'reference: human',
    'candidate:',
    '  kind: module',
    `  module: ../fixtures/refund-triage/agents/${agent}`,
    'compare:',
    '  decision: { fields: [action, amount], numericTolerance: 0.01 }',
    '  effects: { ignoreArgs: [idempotency_key, note, reason] }',
    PHASE_SETTINGS[phase] || 'gate:\n  agreement: { min: 0.85, bound: lower }\n  regressions: { max: 0 }\n',
  ].join('\n');
}

const readJson = (file: string) => JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
  metrics: Record<string, unknown> & { paired?: unknown; phase?: unknown };
  counts: unknown;
  gate: { verdict: string; checks: { name: string; status: string; value: number | null; reason: string }[] };
};

beforeAll(async () => {
  ({ dir, cleanup } = copyExample());
  mkdirSync(join(dir, 'traces', 'small'));
  const lines = readFileSync(join(dir, 'traces', 'refund-triage', '2026-w46.jsonl'), 'utf8').split('\n').filter(Boolean);
  writeFileSync(join(dir, 'traces', 'small', 'part.jsonl'), `${lines.slice(0, 60).join('\n')}\n`);
  for (const phase of PHASES) {
    writeFileSync(join(dir, 'suites', `base-${phase}.yaml`), suite(phase, 'policy-v1.mjs'));
    writeFileSync(join(dir, 'suites', `cand-${phase}.yaml`), suite(phase, 'regression-v2.mjs'));
    // The baseline: the same phase, the candidate before the change.
    await cli(dir, 'run', `suites/base-${phase}.yaml`, '--json', `out/base-${phase}.json`, '--db', 'db/m.db');
  }
}, 120_000);
afterAll(() => cleanup?.());

// Latency is measured afresh on every run (the latency figures, and the bootstrap over it): every other figure must be equal.
const comparable = (m: Record<string, unknown>) => ({ ...m, latency: undefined });

describe('merge equals the unsharded run', () => {
  for (const phase of PHASES) {
    for (const withBaseline of [false, true]) {
      it(`${phase}, ${withBaseline ? 'with' : 'without'} a baseline, in 1, 2 and 3 shards`, async () => {
        const tag = `${phase}-${withBaseline ? 'b' : 'n'}`;
        const common = [...(withBaseline ? ['--baseline', `out/base-${phase}.json`] : []), '--concurrency', '1', '--db', 'db/m.db'];
        await cli(dir, 'run', `suites/cand-${phase}.yaml`, '--json', `out/${tag}-whole.json`, ...common);
        const whole = readJson(`out/${tag}-whole.json`);
        // The case is worth testing: the phase's figures are there, and so is the pairing with the baseline.
        if (phase !== 'shadow') expect(whole.metrics.phase).toBeDefined();
        expect(whole.metrics.paired !== undefined).toBe(withBaseline);
        if (withBaseline) expect(whole.gate.checks.find((c) => c.name === 'regressions')?.status).toBe('fail');
        for (const count of [1, 2, 3]) {
          const files: string[] = [];
          for (let i = 1; i <= count; i++) {
            files.push(`out/${tag}-${i}of${count}.json`);
            await cli(dir, 'run', `suites/cand-${phase}.yaml`, '--shard', `${i}/${count}`, '--json', files.at(-1)!, ...common);
          }
          const merged = await cli(dir, 'merge', ...files, '--json', `out/${tag}-merged${count}.json`);
          expect(merged.stderr).toBe('');
          const all = readJson(`out/${tag}-merged${count}.json`);
          expect(comparable(all.metrics), `${count} shard(s)`).toEqual(comparable(whole.metrics));
          expect(all.counts).toEqual(whole.counts);
          expect(all.gate.checks.map((c) => [c.name, c.status, c.value])).toEqual(whole.gate.checks.map((c) => [c.name, c.status, c.value]));
          expect(all.gate.verdict).toBe(whole.gate.verdict);
          expect(merged.code).toBe(whole.gate.verdict === 'pass' ? 0 : 1);
        }
      }, 120_000);
    }
  }
});

describe('merge refuses', () => {
  it('shards paired with different baselines (or one with none)', async () => {
    // Written by the shadow cases above: shard 1 of 2 with the baseline, shard 2 of 2 without.
    const mixed = await cli(dir, 'merge', 'out/shadow-b-1of2.json', 'out/shadow-n-2of2.json');
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/settings\.baseline: run with baseline none, \S*out\/shadow-b-1of2\.json with \S+: run every shard with the same settings/);
  });

  it('shards that read other trace contents (a line changed between them)', async () => {
    // Shard 1 of 2 was written by the shadow case above; shard 2 reads the file with one human decision changed, which is then put back.
    const file = join(dir, 'traces', 'small', 'part.jsonl');
    const original = readFileSync(file, 'utf8');
    const [first, ...rest] = original.split('\n');
    const changed = JSON.parse(first!);
    changed.human.decision = { action: 'deny' };
    try {
      writeFileSync(file, [JSON.stringify(changed), ...rest].join('\n'));
      await cli(dir, 'run', 'suites/cand-shadow.yaml', '--shard', '2/2', '--json', 'out/changed-2of2.json', '--concurrency', '1', '--db', 'db/m.db');
    } finally {
      writeFileSync(file, original);
    }
    const mixed = await cli(dir, 'merge', 'out/shadow-n-1of2.json', 'out/changed-2of2.json');
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/changed-2of2\.json: settings\.tracesHash: read other trace contents than \S*out\/shadow-n-1of2\.json \(trace files digest [0-9a-f]{12}…, there [0-9a-f]{12}…\): every shard must read the same trace files, unchanged/);
    // A shard file written by an older shadowgate kept no digest: nothing says it read the same traces.
    const older = JSON.parse(readFileSync(join(dir, 'out/shadow-n-1of2.json'), 'utf8'));
    delete older.settings.tracesHash;
    writeFileSync(join(dir, 'out/older-1of2.json'), JSON.stringify(older));
    const old = await cli(dir, 'merge', 'out/older-1of2.json', 'out/shadow-n-2of2.json');
    expect(old.code).toBe(2);
    expect(old.stderr).toContain('older-1of2.json: settings.tracesHash: written by an older shadowgate, which kept no digest of the trace files it read: run the shard again');
    // With the file as it was, the same shard merges.
    await cli(dir, 'run', 'suites/cand-shadow.yaml', '--shard', '2/2', '--json', 'out/again-2of2.json', '--concurrency', '1', '--db', 'db/m.db');
    expect((await cli(dir, 'merge', 'out/shadow-n-1of2.json', 'out/again-2of2.json')).stderr).toBe('');
  });
});

describe('merge with a noise floor', () => {
  it('measures the noise floor over every shard\'s A/A run, as the unsharded run does', async () => {
    const common = ['--noise-floor', '--concurrency', '1', '--db', 'db/m.db'];
    await cli(dir, 'run', 'suites/cand-shadow.yaml', '--json', 'out/nf-whole.json', ...common);
    for (const i of [1, 2]) await cli(dir, 'run', 'suites/cand-shadow.yaml', '--shard', `${i}/2`, '--json', `out/nf-${i}.json`, ...common);
    const merged = await cli(dir, 'merge', 'out/nf-1.json', 'out/nf-2.json', '--json', 'out/nf-merged.json');
    expect(merged.stderr).toBe('');
    type Noise = { pairs: number; flips: number; p95LatencyDeltaMs: number | null; runId: string };
    const [whole, all] = [readJson('out/nf-whole.json'), readJson('out/nf-merged.json')].map((d) => d.metrics.noiseFloor as Noise);
    expect(whole!.pairs).toBe(60);
    // Latency (and so its delta) and the A/A run's id differ from run to run; the rest must be equal.
    const comparableNoise = (n: Noise) => ({ ...n, p95LatencyDeltaMs: undefined, runId: undefined });
    expect(comparableNoise(all!)).toEqual(comparableNoise(whole!));
  }, 120_000);
});
