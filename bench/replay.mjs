#!/usr/bin/env node
// Replay throughput and peak memory: N synthetic traces through a trivial module
// candidate, with the SQLite store and the JSON results file, as `shadowgate run` does.
//
//   npm run bench:replay                 # N = 1,000, 10,000 and 100,000
//   npm run bench:replay -- 10000        # one size
//
// Each size runs in its own process so that its peak RSS is its own. The traces
// are synthetic (made here, not recorded) and written to a temporary folder.
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

const [, script, first, second] = process.argv;

if (first === '--child') {
  await child(Number(second));
} else {
  const sizes = first ? [Number(first)] : [1_000, 10_000, 100_000];
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  console.log('      N   seconds   traces/s   peak RSS');
  for (const n of sizes) {
    const out = spawnSync(process.execPath, [script, '--child', String(n)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (out.status !== 0) throw new Error(`bench child failed for N=${n}`);
    const r = JSON.parse(out.stdout.trim().split('\n').at(-1));
    console.log(
      `${String(n).padStart(7)}   ${r.seconds.toFixed(2).padStart(7)}   ${Math.round(r.perSecond).toLocaleString('en').padStart(8)}   ${(r.peakRssMb).toFixed(0).padStart(5)} MB`,
    );
  }
}

async function child(n) {
  const { loadSuite, runSuite, createSqliteStore, writeRunJson } = await import('../dist/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'sg-bench-'));
  try {
    await writeTraces(join(dir, 'traces.jsonl'), n);
    writeFileSync(
      join(dir, 'tools.yaml'),
      'tools:\n  - name: lookup\n    effect: read\n  - name: act\n    effect: write-reversible\n    ack: { ok: true }\n',
    );
    writeFileSync(
      join(dir, 'agent.mjs'),
      'export async function run(input, ctx) {\n  const r = await ctx.tools.lookup({ id: input.id });\n  if (r.ok) await ctx.tools.act({ id: input.id });\n  return { decision: { action: r.ok ? "act" : "skip" } };\n}\n',
    );
    writeFileSync(
      join(dir, 'suite.yaml'),
      'name: bench\ntraces: traces.jsonl\ntools: tools.yaml\ncandidate: { kind: module, module: agent.mjs }\ngate: { agreement: { min: 0.5 } }\n',
    );
    const suite = await loadSuite(join(dir, 'suite.yaml'));
    const store = createSqliteStore(join(dir, 'bench.db'));
    const started = performance.now();
    const outcome = await runSuite(suite, { store, concurrency: 8, cwd: dir });
    writeRunJson(join(dir, 'results.json'), outcome, store.results(outcome.meta.runId));
    const seconds = (performance.now() - started) / 1000;
    store.close();
    if (outcome.counts.total !== n) throw new Error(`expected ${n} results, got ${outcome.counts.total}`);
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    console.log(JSON.stringify({ n, seconds, perSecond: n / seconds, peakRssMb }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function writeTraces(file, n) {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) {
    const ok = i % 3 !== 0;
    const trace = {
      schema: 'shadowgate.trace/v1',
      id: `t${i}`,
      workflow: 'bench',
      input: { id: i },
      steps: [
        { type: 'tool', name: 'lookup', args: { id: i }, result: { ok } },
        ...(ok ? [{ type: 'tool', name: 'act', args: { id: i }, result: { ok: true } }] : []),
      ],
      outcome: { status: 'completed', decision: { action: ok ? 'act' : 'skip' } },
      human: { decision: { action: i % 10 === 0 ? 'skip' : ok ? 'act' : 'skip' } },
      metadata: { synthetic: true },
    };
    if (!out.write(`${JSON.stringify(trace)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

