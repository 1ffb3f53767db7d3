#!/usr/bin/env node
// Time per shard: the bundled refund-triage traces repeated under new ids up to N, split in n
// shards that `shadowgate run --run-id <id> --shard i/n` writes into one stored run, one shard
// after the other (as n machines would, each on its own), then `shadowgate finalize <id>`.
// Each is the built CLI in a process of its own, timed from start to exit.
//
//   npm run bench:shards                       # 90,000 traces in 3 shards of about 30,000
//   npm run bench:shards -- 30000 --shards 3   # another size or split
//   npm run bench:shards -- 30000 --db postgres://user@127.0.0.1:5432/db   # another store
//
// The store is a SQLite file in a temporary folder unless --db names one (a PostgreSQL URL:
// the run is left there, under a run id of its own). The candidate pool has its default size
// (the machine's available cores), as a run on a machine of that size would.
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'bin/shadowgate.js');
const args = process.argv.slice(2);
const flag = (name) => {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
};
const n = args[0] && /^\d+$/.test(args[0]) ? Number(args[0]) : 90_000;
const shards = Number(flag('--shards') ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'sg-bench-shards-'));
const db = flag('--db') ?? join(dir, 'store.db');
const runId = `bench-shards-${process.pid}-${Date.now()}`;

try {
  await bundledSuite(dir, n);
  console.log(`node ${process.version}, ${availableParallelism()} core(s); ${n.toLocaleString('en')} bundled-size traces in ${shards} shards, one after the other, into one run of ${flag('--db') ? 'the given store' : 'a SQLite file'}`);
  console.log('step              traces   seconds   traces/s   exit');
  for (let i = 1; i <= shards; i++) {
    const { seconds, status, stdout } = cli(['run', 'suite.yaml', '--run-id', runId, '--shard', `${i}/${shards}`, '--db', db]);
    // Exit 1 is the shard's own gate over its share; only 2 and 3 are failures.
    if (status !== 0 && status !== 1) throw new Error(`shard ${i}/${shards} exited ${status}:\n${stdout}`);
    const held = Number(/holding (\d+) traces/.exec(stdout)?.[1] ?? NaN);
    console.log(`shard ${`${i}/${shards}`.padEnd(9)} ${String(held).padStart(9)}   ${seconds.toFixed(1).padStart(7)}   ${Math.round(held / seconds).toLocaleString('en').padStart(8)}   ${status}`);
  }
  const fin = cli(['finalize', runId, '--db', db]);
  if (fin.status !== 0 && fin.status !== 1) throw new Error(`finalize exited ${fin.status}:\n${fin.stdout}`);
  console.log(`finalize          ${String(n).padStart(9)}   ${fin.seconds.toFixed(1).padStart(7)}   ${''.padStart(8)}   ${fin.status}`);
  if (!flag('--db')) console.log(`the SQLite file: ${(statSync(db).size / 1e6).toFixed(0)} MB`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function cli(argv) {
  const started = performance.now();
  const out = spawnSync(process.execPath, [CLI, ...argv], { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } });
  return { seconds: (performance.now() - started) / 1000, status: out.status, stdout: `${out.stdout}${out.stderr}` };
}

/** The bundled refund-triage suite, its traces repeated under new ids and case ids up to N (as bench/replay.mjs --traces bundled). */
async function bundledSuite(into, count) {
  const folder = join(ROOT, 'traces/refund-triage');
  const bundled = [];
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.jsonl')).sort()) {
    for await (const line of createInterface({ input: createReadStream(join(folder, file)) })) if (line.trim()) bundled.push(JSON.parse(line));
  }
  const fixtures = join(ROOT, 'fixtures/refund-triage');
  writeFileSync(
    join(into, 'suite.yaml'),
    `name: bench-shards
traces: traces.jsonl
tools: ${join(fixtures, 'tools.yaml')}
reference: human
candidate: { kind: module, module: ${join(fixtures, 'agents/policy-v1.mjs')} }
compare:
  decision: { fields: [action, amount], numericTolerance: 0.01 }
  effects: { ignoreArgs: [idempotency_key, note, reason] }
gate: { agreement: { min: 0.5 } }
`,
  );
  const out = createWriteStream(join(into, 'traces.jsonl'));
  for (let i = 0; i < count; i++) {
    const t = bundled[i % bundled.length];
    const round = Math.floor(i / bundled.length);
    if (!out.write(`${JSON.stringify({ ...t, id: `${t.id}-${round}`, ...(t.caseId ? { caseId: `${t.caseId}-${round}` } : {}) })}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
