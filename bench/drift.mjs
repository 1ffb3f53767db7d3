#!/usr/bin/env node
// Drift throughput and peak memory: N synthetic production traces (made here, not
// recorded) spread over eight weeks, written line by line to a temporary file, then
// `shadowgate drift` over them (4 windows of 7d against the previous one, thresholds
// on), as the CLI runs it.
//
//   npm run bench:drift                  # N = 100,000 and 1,000,000
//   npm run bench:drift -- 250000        # one size
//
// Each size runs in its own process so that its peak RSS is its own, once with Node's
// default heap and once with the heap capped at 96 MB: the default lets V8 grow its heap
// with the allocation rate, and the cap shows what the run needs, the same at every N.
// Generating the file is not timed; the drift run is, and reads the file twice (once
// for the latest recordedAt, once to fold the windows).
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [, script, first, second] = process.argv;
const DAY = 86_400_000;
const START = Date.parse('2026-09-07T00:00:00Z');
const SPAN = 56 * DAY;

if (first === '--child') {
  await child(Number(second));
} else {
  const sizes = first ? [Number(first)] : [100_000, 1_000_000];
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  console.log('        N    file  heap       seconds     lines/s   peak RSS   exit');
  for (const n of sizes) {
    for (const heap of [null, 96]) {
      const flags = heap ? [`--max-old-space-size=${heap}`] : [];
      const out = spawnSync(process.execPath, [...flags, script, '--child', String(n)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
      if (out.status !== 0) throw new Error(`bench child failed for N=${n}`);
      const r = JSON.parse(out.stdout.trim().split('\n').at(-1));
      console.log(
        `${n.toLocaleString('en').padStart(9)}  ${`${Math.round(r.fileMb)} MB`.padStart(6)}  ${(heap ? `${heap} MB` : 'default').padEnd(8)}  ${r.seconds.toFixed(2).padStart(8)}  ${Math.round(r.perSecond).toLocaleString('en').padStart(10)}  ${`${r.peakRssMb.toFixed(0)} MB`.padStart(9)}  ${String(r.exit).padStart(5)}`,
      );
    }
  }
}

async function child(n) {
  const { runCli } = await import('../dist/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'sg-bench-drift-'));
  try {
    const file = join(dir, 'traces.jsonl');
    await writeTraces(file, n);
    writeFileSync(join(dir, 'drift.yaml'), 'thresholds:\n  maxJsd: 0.05\n  toolRatio: { max: 2 }\n  agreement: { maxDrop: 0.05 }\n');
    let stdout = '';
    const io = { stdout: { write: (s) => (stdout += s) }, stderr: process.stderr, env: {}, cwd: dir };
    const started = performance.now();
    const exit = await runCli(['drift', 'traces.jsonl', '--config', 'drift.yaml', '--windows', '4', '--json', 'drift.json'], io);
    const seconds = (performance.now() - started) / 1000;
    // The last week issues refunds three times as often: the run must see it and exit 1.
    if (exit !== 1 || !stdout.includes('toolRatio.max')) throw new Error(`expected the shift to be found (exit ${exit}):\n${stdout}`);
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    console.log(JSON.stringify({ n, seconds, perSecond: n / seconds, peakRssMb, fileMb: statSync(file).size / 1e6, exit }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** N traces in time order over eight weeks, streamed to the file (never held in memory). */
async function writeTraces(file, n) {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) {
    const at = START + Math.floor((i / n) * SPAN);
    const lastWeek = at >= START + SPAN - 7 * DAY;
    const refunds = lastWeek ? i % 5 < 3 : i % 5 === 0;
    const action = refunds ? 'refund' : 'deny';
    const trace = {
      schema: 'shadowgate.trace/v1',
      id: `t${i}`,
      workflow: 'bench',
      recordedAt: new Date(at).toISOString(),
      input: { ticket: i },
      steps: [
        { type: 'llm', model: 'gpt-4.1-mini', output: { toolCalls: [{ id: `c${i}`, name: 'get_order', args: { id: i } }] }, usage: { inputTokens: 1200, outputTokens: 40 }, latencyMs: 700 + (i % 300) },
        { type: 'tool', id: `c${i}`, name: 'get_order', args: { id: i }, result: { ok: true }, latencyMs: 40 },
        { type: 'tool', name: refunds ? 'issue_refund' : 'send_customer_email', args: { id: i }, result: { ok: true }, latencyMs: 60 + (i % 50) },
      ],
      outcome: { status: i % 17 === 0 ? 'escalated' : 'completed', decision: { action } },
      human: { decision: { action: i % 23 === 0 ? 'escalate' : action }, ...(i % 4 === 0 ? { verdict: i % 40 === 0 ? 'edited' : 'accepted' } : {}) },
    };
    if (!out.write(`${JSON.stringify(trace)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
