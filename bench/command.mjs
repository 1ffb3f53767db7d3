#!/usr/bin/env node
// Command candidates against the same loop as a module: traces per second, and the latency the
// gateway and MCP add to each trace and each call. The loop is fixtures/refund-triage/agents'
// MCP agent: as a module (mcp-loop-module.mjs: ctx.llm.openai, ctx.tools), as a TypeScript
// process (mcp-agent.ts: the official MCP client and OpenAI SDK, jsonl protocol) and as a Python
// one (mcp_agent.py: standard library, http protocol), the two processes in the network namespace
// (Bubblewrap) and with `sandbox: { network: trust-env }`.
//
//   npm run bench:command                                   # every candidate, throughput and latency
//   npm run bench:command -- module ts                      # some candidates (module, ts, py)
//   node bench/command.mjs --traces 300 --workers 2 --latency-traces 100 --latency 0
//
//   --traces <n>          traces per throughput run (default 300): the bundled refund-triage
//                         traces cycled under new ids, as bench/providers.mjs does
//   --workers <n>         the pool's size (`shadowgate run --workers`); default 1, then the
//                         machine's available cores
//   --latency-traces <n>  traces per latency run (default 100; 0 skips the latency runs)
//   --latency <ms>        the fake model server's latency per request (default 0)
//
// The model is fixtures/refund-triage/fake-openai-server.mjs on 127.0.0.1 (in this process), the
// scripted stand-in model, reached through the suite's `candidate.baseURL`, which the module's
// ctx.llm and the gateway both honour. Every run has a fresh store and `cache: false`, so every
// model call reaches the server (checked: served = the model steps recorded). Each run is a child
// process of its own (the server stays here), so that runs share no event loop or pool.
//
// Throughput: N traces at the CLI's default concurrency (4 traces at once), `--workers` w.
// traces/s is N over the run's wall time (runSuite, from the first trace to the last result
// stored, agent processes' start-up included: a process starts when a trace first needs it).
//
// Added latency (method: from the runs' own results, not a micro-benchmark). Each latency run has
// one worker and one trace at a time, so nothing overlaps. For every trace the harness records
// `latencyMs` = its own wall time less its wait for model answers, plus every step's latency
// (supervise.ts, candidateLatency); subtracting the steps' latencies leaves the candidate's own
// time: everything but the provider round trip (which is the same server in every run). For the
// module that is the loop's code and its ctx.tools calls over the pool's channel; for a process,
// the same loop in another runtime plus every hop through the gateway: the jsonl line or HTTP
// POST of the trace, each model call's request to the gateway and back, each MCP request
// (initialize, tools/list, tools/call, session close). The figure is the process's own time less
// the module's on the same trace (paired by trace id), and that divided by the trace's model and
// tool calls: the added latency per call; both are medians over the traces, so that a process's
// first trace (its runtime still loading the SDKs: start-up, not a call's cost) does not weigh
// in. It does not split model calls from tool calls (every trace makes both, 4 model calls and
// 5 or 6 tool calls); the MCP session's set-up and the trace's hand-over are spread over the
// calls too, so the per-call figure is an upper bound of what one call adds. "wall ms/trace" is
// the run's wall time over its traces (model round trips and process start-up included).
//
// Checks (exit 1 when one fails): every run stores one result per trace, all with the module's
// decision on that trace; the server served exactly the model calls the results record.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeOpenAIServer } from '../fixtures/refund-triage/fake-openai-server.mjs';
import { benchMain, fmtStatuses, parseBenchArgs, printTable } from './bench-cli.mjs';
import { writeCycledSuite } from './cycled-traces.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const AGENTS = join(ROOT, 'fixtures/refund-triage/agents');
const CANDIDATES = {
  module: { label: 'module (mcp-loop-module.mjs)', yaml: `kind: module\n  module: ${JSON.stringify(join(AGENTS, 'mcp-loop-module.mjs'))}` },
  ts: {
    label: 'TypeScript process, jsonl',
    yaml: `kind: command\n  command: [node, --import, tsx, ${JSON.stringify(join(AGENTS, 'mcp-agent.ts'))}]\n  cwd: ${JSON.stringify(ROOT)}\n  protocol: jsonl`,
    sandboxed: true,
  },
  py: { label: 'Python process, http', yaml: `kind: command\n  command: [python3, ${JSON.stringify(join(AGENTS, 'mcp_agent.py'))}]\n  protocol: http`, sandboxed: true },
};
const SANDBOXES = ['namespace', 'trust-env'];
const FLAGS = { '--traces': 'traces', '--workers': 'workers', '--latency-traces': 'latencyTraces', '--latency': 'latency' };

await benchMain(parseArgs, parent, child);

function parseArgs(list) {
  const { names, values } = parseBenchArgs(list, {
    script: 'bench/command.mjs',
    names: CANDIDATES,
    flags: FLAGS,
    // Latency and latency traces may be 0 (none); a count of traces or workers may not.
    valid: (key, n) => Number.isInteger(n) && (n > 0 || (n === 0 && (key === 'latencyTraces' || key === 'latency'))),
  });
  return { traces: 300, workers: undefined, latencyTraces: 100, latency: 0, ...values, candidates: names.length ? names : Object.keys(CANDIDATES) };
}

/** Every (candidate, sandbox) the options ask for, the module first: it is the yardstick. */
function variants(candidates) {
  const out = [];
  for (const name of ['module', ...candidates.filter((c) => c !== 'module')]) {
    for (const sandbox of CANDIDATES[name].sandboxed ? SANDBOXES : [null]) out.push({ name, sandbox });
  }
  return out;
}

async function parent(options) {
  const workers = options.workers ? [options.workers] : [...new Set([1, availableParallelism()])];
  console.log(`node ${process.version}, ${process.platform}/${process.arch}, ${availableParallelism()} core(s), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the start`);
  console.log(`fake model server latency ${options.latency} ms; throughput: ${options.traces} traces, 4 at once; latency: ${options.latencyTraces} traces, 1 worker, 1 at a time\n`);
  const server = await startFakeOpenAIServer({ latencyMs: options.latency });
  const failures = [];
  let yardstick; // the module's decisions, by trace id, from its first run
  const check = (where, r) => {
    if (r.results !== r.traces) failures.push(`${where}: ${r.results} results for ${r.traces} traces`);
    const other = Object.entries(r.statuses).filter(([s]) => s !== 'completed' && s !== 'escalated');
    if (other.length) failures.push(`${where}: ${fmtStatuses(Object.fromEntries(other))}${r.firstError ? ` (first: ${r.firstError})` : ''}`);
    if (r.served !== r.modelSteps) failures.push(`${where}: the server served ${r.served} requests, the results record ${r.modelSteps} model calls`);
    yardstick ??= r.decisions;
    const differ = Object.entries(r.decisions).filter(([id, d]) => id in yardstick && yardstick[id] !== d);
    if (differ.length) failures.push(`${where}: ${differ.length} decision(s) differ from the module's (first: ${differ[0][0]})`);
  };
  const run = async (setting) => {
    const before = { ...server.stats };
    const r = await spawnChild({ ...setting, port: server.port });
    r.served = server.stats.served - before.served;
    return r;
  };
  try {
    const rows = [['candidate', 'sandbox', 'workers', 'traces', 'seconds', 'traces/s', 'model calls', 'tool calls', 'statuses']];
    for (const { name, sandbox } of variants(options.candidates)) {
      for (const w of workers) {
        const r = await run({ name, sandbox, workers: w, concurrency: 4, traces: options.traces });
        check(`${name} ${sandbox ?? ''} ${w} worker(s)`, r);
        rows.push([CANDIDATES[name].label, sandbox ?? '-', w, r.traces, r.seconds.toFixed(2), (r.traces / r.seconds).toFixed(1), r.modelSteps, r.toolSteps, fmtStatuses(r.statuses)]);
        console.error(`  ran ${name} ${sandbox ?? ''} ${w} worker(s): ${(r.traces / r.seconds).toFixed(1)} traces/s`);
      }
    }
    console.log('Throughput');
    printTable(rows, new Set([0, 1, rows[0].length - 1]));

    if (options.latencyTraces > 0) {
      const runs = [];
      for (const { name, sandbox } of variants(options.candidates)) {
        const r = await run({ name, sandbox, workers: 1, concurrency: 1, traces: options.latencyTraces });
        check(`${name} ${sandbox ?? ''} latency run`, r);
        runs.push({ name, sandbox, r });
        console.error(`  ran ${name} ${sandbox ?? ''} latency run`);
      }
      const base = runs.find((x) => x.name === 'module')?.r;
      const latency = [['candidate', 'sandbox', 'wall ms/trace', 'own ms/trace', 'calls/trace', 'added ms/trace', 'added ms/call']];
      for (const { name, sandbox, r } of runs) {
        const traces = Object.values(r.perTrace);
        let added = ['-', '-'];
        if (base && name !== 'module') {
          const diffs = Object.entries(r.perTrace).filter(([id]) => id in base.perTrace).map(([id, t]) => ({ ms: t.ownMs - base.perTrace[id].ownMs, calls: t.model + t.tool }));
          added = [median(diffs.map((d) => d.ms)).toFixed(1), median(diffs.map((d) => d.ms / d.calls)).toFixed(2)];
        }
        latency.push([CANDIDATES[name].label, sandbox ?? '-', ((1000 * r.seconds) / r.traces).toFixed(1), median(traces.map((t) => t.ownMs)).toFixed(1), mean(traces.map((t) => t.model + t.tool)).toFixed(2), ...added]);
      }
      console.log('\nLatency (1 worker, 1 trace at a time; medians over the traces): own = a trace\'s time less its model round trips; added = own less the module\'s on the same trace, and that over the trace\'s model and tool calls');
      printTable(latency, new Set([0, 1]));
      const calls = base ? Object.values(base.perTrace) : [];
      if (calls.length) console.log(`the module's traces: ${mean(calls.map((t) => t.model)).toFixed(2)} model calls and ${mean(calls.map((t) => t.tool)).toFixed(2)} tool calls a trace`);
    }
  } finally {
    await server.close();
  }
  console.log(`\nload average ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end`);
  if (failures.length) {
    console.log(`\nFAILED:\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  } else {
    console.log('checks passed: one result per trace, all with the module\'s decision; every model call reached the server');
  }
}

async function spawnChild(setting) {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify(setting)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  const [code] = await once(proc, 'exit');
  if (code !== 0) throw new Error(`bench child failed for ${JSON.stringify(setting)} (exit ${code})`);
  return JSON.parse(out.trim().split('\n').at(-1));
}

async function child({ name, sandbox, workers, concurrency, traces, port }) {
  const { loadSuite, runSuite, createSqliteStore } = await import('../dist/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'sg-bench-command-'));
  try {
    const file = await writeCycledSuite(dir, {
      name: 'bench-command',
      n: traces,
      candidate: `  ${CANDIDATES[name].yaml}\n  baseURL: http://127.0.0.1:${port}/v1`,
      extra: sandbox ? `sandbox: { network: ${sandbox} }\n` : '',
    });
    const suite = await loadSuite(file);
    const store = createSqliteStore(join(dir, 'bench.db'));
    const started = performance.now();
    const outcome = await runSuite(suite, { store, env: { OPENAI_API_KEY: 'sk-bench-not-a-key' }, cache: false, workers, concurrency, cwd: dir });
    const seconds = (performance.now() - started) / 1000;
    const statuses = {};
    const decisions = {};
    const perTrace = {};
    let results = 0;
    let modelSteps = 0;
    let toolSteps = 0;
    let firstError;
    for (const result of store.results(outcome.meta.runId)) {
      results++;
      statuses[result.status] = (statuses[result.status] ?? 0) + 1;
      if (result.error && firstError === undefined) firstError = JSON.stringify(result.error).slice(0, 300);
      decisions[result.traceId] = JSON.stringify(result.decision);
      const model = result.steps.filter((s) => s.type === 'llm');
      const tool = result.steps.filter((s) => s.type === 'tool');
      modelSteps += model.length;
      toolSteps += tool.length;
      const stepsMs = result.steps.reduce((sum, s) => sum + (s.latencyMs ?? 0), 0);
      perTrace[result.traceId] = { ownMs: result.latencyMs === null ? null : result.latencyMs - stepsMs, model: model.length, tool: tool.length };
    }
    store.close();
    console.log(JSON.stringify({ traces, seconds, results, statuses, firstError, modelSteps, toolSteps, decisions, perTrace }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function mean(xs) {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

