#!/usr/bin/env node
// Model-provider layer under a rate limit: 1,000 refund-triage traces through a
// tool-loop candidate (`openai:gpt-4.1-mini`, 4 model calls a trace) against a fake
// OpenAI-compatible server, with the SQLite store, then the same run again from the
// response cache.
//
//   npm run bench:providers              # until package.json has it:
//   npm run build && node bench/providers.mjs
//   node bench/providers.mjs --rpm 2000 --inflight 64 --traces-at-once 128 --latency 40 --traces 1000
//
// Both the server and the traces are synthetic. The server (node:http on 127.0.0.1, a
// random port, run in this process) answers POST /v1/chat/completions with the scripted
// model of fixtures/refund-triage/fake-model.mjs after a fixed latency, and enforces a
// requests-per-minute limit over a sliding 60 s window: a request over it gets HTTP 429
// with `retry-after` (whole seconds) and an OpenAI-shaped error body; rejected requests do
// not count against the window. The traces are the 480 bundled ones cycled to 1,000, each
// copy with its ticket id (so its id, caseId and every model request) made unique by a
// `-b<n>` suffix, written to a temporary folder. The run itself happens in a child process,
// so that the server's event loop is not the client's.
//
// Checks (exit 1 when one fails): run 1 stores exactly one result per trace (no trace
// lost or duplicated) and every one is `completed`; run 2, on the same store, is served
// wholly from the response cache and sends nothing to the server. Throughput is reported
// against two yardsticks, and the 90% target is judged on the second:
//   - R/60: the limit's long-run rate. A sliding 60 s window lets a client send R
//     requests at once and R more 60 s later, so a run shorter than a few minutes can
//     beat R/60 by design; this share alone says little.
//   - ideal: the requests served divided by the wall time of an ideal client with the
//     same limits: no overhead, starting each request the moment both the window and
//     its in-flight cap allow (request i starts no sooner than 60 s after request i-R,
//     and the window counts from arrival at the server).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const WINDOW_MS = 60_000;
const DEFAULTS = { rpm: 2_000, inflight: 64, tracesAtOnce: 128, latency: 40, traces: 1_000 };

const args = process.argv.slice(2);
if (args[0] === '--child') {
  await child(JSON.parse(args[1]));
} else {
  await parent(parseOptions(args));
}

function parseOptions(list) {
  const options = { ...DEFAULTS };
  const names = { '--rpm': 'rpm', '--inflight': 'inflight', '--traces-at-once': 'tracesAtOnce', '--latency': 'latency', '--traces': 'traces' };
  for (let i = 0; i < list.length; i += 2) {
    const key = names[list[i]];
    const value = Number(list[i + 1]);
    if (!key || !Number.isFinite(value) || value <= 0) throw new Error(`usage: node bench/providers.mjs [${Object.keys(names).map((n) => `${n} N`).join('] [')}]`);
    options[key] = value;
  }
  return options;
}

async function parent(options) {
  const server = await startFakeOpenAI(options);
  const { rpm, inflight, tracesAtOnce, latency, traces } = options;
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  console.log(
    `fake server 127.0.0.1:${server.port}: ${rpm.toLocaleString('en')} requests/min over a sliding 60 s window, ${latency} ms latency; ` +
      `client: ${inflight} requests in flight, ${tracesAtOnce} traces at once; ${traces.toLocaleString('en')} traces`,
  );
  let r;
  try {
    const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify({ ...options, port: server.port })], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    const [code] = await once(proc, 'exit');
    if (code !== 0) throw new Error(`bench child failed (exit ${code})`);
    r = JSON.parse(out.trim().split('\n').at(-1));
  } finally {
    server.close();
  }

  const allowed = rpm / 60;
  const ideal = idealSeconds(r.run1.served, rpm, inflight, latency);
  const achieved = r.run1.served / r.run1.seconds;
  const idealShare = ideal / r.run1.seconds;
  const rows = [
    ['run', 'seconds', 'served', '429s', 'retries', 'model calls', 'cache hits', 'results', 'statuses'],
    ['1 (network)', r.run1.seconds.toFixed(2), r.run1.served, r.run1.rejected, r.run1.modelCalls.retries, r.run1.modelCalls.requests, r.run1.modelCalls.cacheHits, `${r.run1.results} (${r.run1.distinct} ids)`, fmtStatuses(r.run1.statuses)],
    ['2 (cache)', r.run2.seconds.toFixed(2), r.run2.served, r.run2.rejected, r.run2.modelCalls.retries, r.run2.modelCalls.requests, r.run2.modelCalls.cacheHits, `${r.run2.results} (${r.run2.distinct} ids)`, fmtStatuses(r.run2.statuses)],
  ];
  console.log('');
  printTable(rows);
  console.log('');
  console.log(`allowed (R/60):     ${allowed.toFixed(1)} requests/s`);
  console.log(`achieved:           ${achieved.toFixed(1)} requests/s = ${pct(achieved / allowed)} of R/60 (a sliding window allows a first burst of R; see the header)`);
  console.log(`ideal client:       ${ideal.toFixed(2)} s for ${r.run1.served.toLocaleString('en')} requests = ${(r.run1.served / ideal).toFixed(1)} requests/s`);
  console.log(`achieved vs ideal:  ${pct(idealShare)} — target 90%: ${idealShare >= 0.9 ? 'met' : 'NOT met'}`);
  console.log(`served per second:  ${r.run1.perSecond.join(' ')}`);
  const cacheShare = r.run2.modelCalls.requests ? r.run2.modelCalls.cacheHits / r.run2.modelCalls.requests : 0;
  console.log(`cache re-run:       ${pct(cacheShare)} of ${r.run2.modelCalls.requests.toLocaleString('en')} model calls from the cache, ${r.run2.served} requests to the server, ${r.run2.seconds.toFixed(2)} s`);

  const failures = [];
  for (const [name, run] of [['run 1', r.run1], ['run 2', r.run2]]) {
    if (run.results !== traces) failures.push(`${name}: ${run.results} results for ${traces} traces`);
    if (run.distinct !== run.results) failures.push(`${name}: ${run.results - run.distinct} duplicated trace id(s)`);
    if (run.total !== traces) failures.push(`${name}: outcome counts ${run.total} traces`);
    const other = Object.entries(run.statuses).filter(([s]) => s !== 'completed');
    if (other.length) failures.push(`${name}: statuses other than completed: ${fmtStatuses(Object.fromEntries(other))}${run.firstError ? ` (first: ${run.firstError})` : ''}`);
  }
  if (r.run1.served !== r.run1.modelCalls.network) failures.push(`run 1: server served ${r.run1.served}, transport counted ${r.run1.modelCalls.network} network requests`);
  if (r.run2.modelCalls.cacheHits !== r.run2.modelCalls.requests || r.run2.modelCalls.requests === 0) failures.push(`run 2: cache-hit share ${pct(cacheShare)}, not 100%`);
  if (r.run2.served !== 0 || r.run2.rejected !== 0) failures.push(`run 2: ${r.run2.served + r.run2.rejected} request(s) reached the server`);
  if (failures.length) {
    console.log(`\nFAILED:\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  } else {
    console.log('\nchecks passed: no trace lost or duplicated, all completed, the re-run made no request');
  }
}

/**
 * The wall time of an ideal client for `n` requests: each starts as soon as a slot
 * of `inflight` is free and 60 s have passed since request i-R started, and takes
 * exactly the server's latency.
 */
function idealSeconds(n, rpm, inflight, latency) {
  const start = new Float64Array(n);
  const slots = new Float64Array(Math.min(inflight, n)); // when each slot is next free
  let end = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 1; j < slots.length; j++) if (slots[j] < slots[s]) s = j;
    start[i] = Math.max(slots[s], i >= rpm ? start[i - rpm] + WINDOW_MS : 0);
    slots[s] = start[i] + latency;
    end = Math.max(end, slots[s]);
  }
  return end / 1000;
}

/** A fake OpenAI Chat Completions server with a sliding-window requests-per-minute limit. */
async function startFakeOpenAI({ rpm, latency }) {
  const { openAIChatCompletion } = await import('../fixtures/refund-triage/fake-model.mjs');
  const stats = { served: 0, rejected: 0, servedAt: [] };
  const window = []; // arrival times of accepted requests, oldest first
  let head = 0;
  const t0 = performance.now();
  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (req.method === 'GET' && url === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(stats));
      return;
    }
    if (req.method !== 'POST' || url !== '/v1/chat/completions') {
      req.resume();
      sendJson(res, 404, { error: { message: `unknown endpoint ${req.method} ${url}`, type: 'invalid_request_error', param: null, code: 'unknown_url' } });
      return;
    }
    const now = performance.now();
    while (head < window.length && window[head] <= now - WINDOW_MS) head++;
    if (head > 4096 && head * 2 > window.length) window.splice(0, head), (head = 0);
    if (window.length - head >= rpm) {
      req.resume();
      stats.rejected++;
      const waitMs = window[head] + WINDOW_MS - now;
      const seconds = Math.max(1, Math.ceil(waitMs / 1000));
      sendJson(
        res,
        429,
        {
          error: {
            message: `Rate limit reached for gpt-4.1-mini on requests per min (RPM): Limit ${rpm}, Used ${rpm}, Requested 1. Please try again in ${Math.ceil(waitMs)}ms.`,
            type: 'requests',
            param: null,
            code: 'rate_limit_exceeded',
          },
        },
        { 'retry-after': String(seconds), 'x-ratelimit-limit-requests': String(rpm), 'x-ratelimit-remaining-requests': '0' },
      );
      return;
    }
    window.push(now);
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let answer;
      try {
        answer = openAIChatCompletion(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch (error) {
        sendJson(res, 400, { error: { message: `bad request: ${error.message}`, type: 'invalid_request_error', param: null, code: null } });
        return;
      }
      setTimeout(() => {
        stats.served++;
        stats.servedAt.push(Math.round(performance.now() - t0));
        sendJson(res, 200, answer, { 'x-ratelimit-limit-requests': String(rpm), 'x-ratelimit-remaining-requests': String(Math.max(0, rpm - (window.length - head))) });
      }, latency);
    });
  });
  server.keepAliveTimeout = 120_000;
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: server.address().port, close: () => server.close() };
}

function sendJson(res, status, body, headers = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function child({ port, rpm, inflight, tracesAtOnce, traces }) {
  const { loadSuite, runSuite, createSqliteStore } = await import('../dist/index.js');
  const dir = mkdtempSync(join(tmpdir(), 'sg-bench-providers-'));
  const serverStats = async () => (await fetch(`http://127.0.0.1:${port}/stats`)).json();
  try {
    await writeTraces(join(dir, 'traces.jsonl'), traces);
    const fixtures = join(ROOT, 'fixtures/refund-triage');
    writeFileSync(
      join(dir, 'suite.yaml'),
      `name: bench-providers
traces: traces.jsonl
tools: ${JSON.stringify(join(fixtures, 'tools.yaml'))}
reference: human
candidate:
  kind: tool-loop
  model: openai:gpt-4.1-mini
  baseURL: http://127.0.0.1:${port}/v1
  prompt: ${JSON.stringify(join(fixtures, 'prompts/triage.v4.hbs'))}
  limits: { requestsPerMinute: ${rpm}, concurrency: ${inflight} }
compare:
  decision: { fields: [action, amount], numericTolerance: 0.01 }
  effects: { ignoreArgs: [idempotency_key, note, reason] }
`,
    );
    const suite = await loadSuite(join(dir, 'suite.yaml'));
    const store = createSqliteStore(join(dir, 'bench.db'));
    const env = { OPENAI_API_KEY: 'sk-bench-not-a-key' };
    const run = async () => {
      const before = await serverStats();
      const started = performance.now();
      const outcome = await runSuite(suite, { store, env, concurrency: tracesAtOnce, cwd: dir });
      const seconds = (performance.now() - started) / 1000;
      const after = await serverStats();
      const statuses = {};
      const ids = new Set();
      let results = 0;
      let firstError;
      for (const result of store.results(outcome.meta.runId)) {
        results++;
        ids.add(result.traceId);
        statuses[result.status] = (statuses[result.status] ?? 0) + 1;
        if (result.status !== 'completed' && firstError === undefined) firstError = JSON.stringify(result.error ?? result.status).slice(0, 300);
      }
      const startMs = after.servedAt[before.served] ?? 0;
      const perSecond = [];
      for (const at of after.servedAt.slice(before.served)) {
        const s = Math.floor((at - startMs) / 1000);
        perSecond[s] = (perSecond[s] ?? 0) + 1;
      }
      return {
        seconds,
        served: after.served - before.served,
        rejected: after.rejected - before.rejected,
        modelCalls: outcome.modelCalls,
        total: outcome.counts.total,
        results,
        distinct: ids.size,
        statuses,
        firstError,
        perSecond: Array.from(perSecond, (x) => x ?? 0),
      };
    };
    const run1 = await run();
    const run2 = await run();
    store.close();
    console.log(JSON.stringify({ run1, run2 }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `n` traces: the bundled refund-triage traces in order, cycled; the k-th copy (k ≥ 1)
 * of a trace has `-b<k>` after its id and after its ticket id wherever that appears
 * (input, caseId, tool arguments), so that every copy makes its own model requests.
 */
async function writeTraces(file, n) {
  const folder = join(ROOT, 'traces/refund-triage');
  const lines = readdirSync(folder)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readFileSync(join(folder, f), 'utf8').split('\n').filter((l) => l.trim()));
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(i / lines.length);
    let line = lines[i % lines.length];
    if (k > 0) {
      const trace = JSON.parse(line);
      const ticket = trace.input.ticket_id;
      line = line.replace(new RegExp(`${ticket}(?![0-9A-Za-z])`, 'g'), `${ticket}-b${k}`);
      const copy = JSON.parse(line);
      copy.id = `${trace.id}-b${k}`;
      copy.caseId = `${trace.caseId ?? `case-${ticket}`}-b${k}`;
      line = JSON.stringify(copy);
    }
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

function fmtStatuses(statuses) {
  return Object.entries(statuses).map(([s, n]) => `${s} ${n}`).join(', ') || '-';
}

function pct(x) {
  return `${(100 * x).toFixed(1)}%`;
}

function printTable(rows) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  for (const row of rows) console.log(row.map((v, c) => (c === 0 || c >= 7 ? String(v).padEnd(widths[c]) : String(v).padStart(widths[c]))).join('   ').trimEnd());
}
