#!/usr/bin/env node
// Replay throughput and peak memory: N traces through a module candidate, with the SQLite
// store and the JSON results file, as `shadowgate run` does.
//
//   npm run bench:replay                          # N = 10,000 and 40,000, synthetic and bundled-size traces
//   npm run bench:replay -- 10000                 # one size
//   npm run bench:replay -- 10000 --traces bundled --workers 2 --commit-every 1
//
//   --traces synthetic   two tool calls a trace (made here, not recorded), a trivial candidate
//   --traces bundled     the bundled refund-triage traces (about 9 KB, seven tool calls each),
//                        repeated under new ids up to N, replayed by agents/policy-v1.mjs
//   --workers <n>        the candidate pool's size, where the build has one (`shadowgate run
//                        --workers`); a build without it runs the candidate in one process, and
//                        the table says so. Default: 1, then the machine's available cores.
//   --commit-every <n>   results committed per transaction (default: the run's own, 500 or 100 ms)
//   --concurrency <n>    traces in flight (default 8)
//   --store postgres     the PostgreSQL store at SHADOWGATE_BENCH_PG_URL (a schema of its own) instead of a SQLite file
//
// Each size runs in its own process so that its peak RSS is its own. CPU s is the harness
// process's own CPU time (user + system, every thread of it: the store's writer thread too);
// main thread CPU s, its main thread's alone (Linux, from /proc; n/a elsewhere). A worker
// pool's children are counted apart (read from /proc, see watchPool): their CPU time summed,
// and their peak RSS summed (each child's own high-water mark, so an upper bound of what they
// held at once). SHADOWGATE_BENCH_DIST=<dist folder> measures another
// build (an older one, for a before/after) with this same bench.
import childProcess, { spawnSync } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The unit of the times in /proc/<pid>/stat (USER_HZ), 100 on Linux. */
const USER_HZ = 100;
const DIST = resolve(process.env.SHADOWGATE_BENCH_DIST ?? join(ROOT, 'dist'));
const [, script, ...args] = process.argv;
const flag = (name) => {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
};

if (args[0] === '--child') {
  await child(JSON.parse(args[1]));
} else {
  const sizes = args[0] && /^\d+$/.test(args[0]) ? [Number(args[0])] : [10_000, 40_000];
  const kinds = flag('--traces') ? [flag('--traces')] : ['synthetic', 'bundled'];
  const pool = hasWorkers();
  const workers = flag('--workers') ? [Number(flag('--workers'))] : pool ? [...new Set([1, availableParallelism()])] : [1];
  const commitEvery = flag('--commit-every') ? Number(flag('--commit-every')) : undefined;
  const concurrency = flag('--concurrency') ? Number(flag('--concurrency')) : 8;
  console.log(`node ${process.version}, ${process.platform}/${process.arch}, ${availableParallelism()} core(s), build ${DIST === join(ROOT, 'dist') ? 'dist' : DIST}`);
  if (!pool) console.log('this build has no worker pool (--workers): the candidate runs in the harness process, 1 worker');
  if (sizes.some((n) => n < 5_000)) console.log('under 5,000 traces the start of each candidate process weighs on traces/s: compare builds or worker counts at 10,000 or more');
  console.log('traces           N  workers   seconds   traces/s   CPU s   main thread CPU s   peak RSS   children: CPU s   peak RSS');
  for (const kind of kinds) {
    for (const n of sizes) {
      for (const w of workers) {
        const setting = { n, kind, workers: pool ? w : undefined, commitEvery, concurrency, store: flag('--store') ?? 'sqlite' };
        const out = spawnSync(process.execPath, [script, '--child', JSON.stringify(setting)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
        if (out.status !== 0) throw new Error(`bench child failed for ${JSON.stringify(setting)}`);
        const r = JSON.parse(out.stdout.trim().split('\n').at(-1));
        console.log(
          `${kind.padEnd(9)} ${String(n).padStart(7)}  ${String(pool ? w : 1).padStart(7)}   ${r.seconds.toFixed(2).padStart(7)}   ${Math.round(r.perSecond).toLocaleString('en').padStart(8)}   ${r.cpuSeconds.toFixed(1).padStart(5)}   ${(r.mainCpuSeconds === null || r.mainCpuSeconds === undefined ? 'n/a' : r.mainCpuSeconds.toFixed(1)).padStart(17)}   ${r.peakRssMb.toFixed(0).padStart(5)} MB   ${
            r.children ? `${r.childCpuSeconds.toFixed(1).padStart(15)}   ${r.childrenPeakRssSumMb.toFixed(0).padStart(5)} MB` : '           none'
          }`,
        );
      }
    }
  }
}

/** Whether the build has the candidate pool: its CLI takes `--workers`. */
function hasWorkers() {
  const program = join(DIST, 'cli/program.js');
  return existsSync(program) && readFileSync(program, 'utf8').includes("'--workers");
}

async function child({ n, kind, workers, commitEvery, concurrency = 8, store: storeKind = 'sqlite' }) {
  const pool = watchPool();
  const { loadSuite, runSuite, createSqliteStore, writeRunJson } = await import(pathToFileURL(join(DIST, 'index.js')).href);
  const dir = mkdtempSync(join(tmpdir(), 'sg-bench-'));
  try {
    if (kind === 'bundled') await bundledSuite(dir, n);
    else await syntheticSuite(dir, n);
    const suite = await loadSuite(join(dir, 'suite.yaml'));
    const store = storeKind === 'postgres' ? await postgresStore(n) : createSqliteStore(join(dir, 'bench.db'));
    const started = performance.now();
    const cpu = process.cpuUsage();
    const mainCpu = mainThreadCpu();
    const outcome = await runSuite(suite, {
      store,
      concurrency,
      cwd: dir,
      ...(workers ? { workers } : {}),
      ...(commitEvery ? { commit: { results: commitEvery } } : {}),
    });
    // As `shadowgate run --json` writes it (a build before Store.resultsJson parsed and wrote each result again).
    writeRunJson(join(dir, 'results.json'), outcome, store.resultsJson ? store.resultsJson(outcome.meta.runId) : store.results(outcome.meta.runId));
    const seconds = (performance.now() - started) / 1000;
    const { user, system } = process.cpuUsage(cpu);
    const mainCpuSeconds = mainCpu === null ? null : mainThreadCpu() - mainCpu;
    store.close();
    if (outcome.counts.total !== n) throw new Error(`expected ${n} results, got ${outcome.counts.total}`);
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    const children = pool.stop();
    console.log(JSON.stringify({ n, seconds, perSecond: n / seconds, cpuSeconds: (user + system) / 1e6, mainCpuSeconds, peakRssMb, ...children }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The CPU time (s) of this process's main thread alone (Linux: /proc), or null. */
function mainThreadCpu() {
  const stat = readFileSyncSafe(`/proc/self/task/${process.pid}/stat`);
  if (!stat) return null;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/**
 * The worker pool's children, seen from outside: every process the run forks is sampled from
 * /proc (Linux) every 20 ms until it ends, and its last sample kept: CPU time (utime + stime)
 * and peak RSS (VmHWM, a high-water mark, so a late sample loses nothing). What a child does in
 * its last 20 ms may be missed from its CPU time. Where /proc is absent the figures are null.
 */
function watchPool() {
  const seen = new Map();
  const sample = () => {
    for (const [pid, last] of seen) {
      if (last.gone) continue;
      const status = readFileSyncSafe(`/proc/${pid}/status`);
      const stat = readFileSyncSafe(`/proc/${pid}/stat`);
      if (!status || !stat) {
        last.gone = true;
        continue;
      }
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (hwm) last.hwmKb = Number(hwm[1]);
      last.cpu = (Number(fields[11]) + Number(fields[12])) / USER_HZ;
    }
  };
  const timer = setInterval(sample, 20);
  const original = childProcess.fork;
  childProcess.fork = function (...a) {
    const proc = original.apply(this, a);
    const last = { hwmKb: 0, cpu: 0, gone: false };
    seen.set(proc.pid, last);
    // Its figures as late as they can be read: when its channel closes (it is ending) and at its exit.
    proc.once('disconnect', sample);
    return proc;
  };
  syncBuiltinESMExports();
  return {
    stop() {
      clearInterval(timer);
      childProcess.fork = original;
      syncBuiltinESMExports();
      if (seen.size === 0) return { children: 0, childCpuSeconds: null, childPeakRssMb: null };
      const all = [...seen.values()];
      return {
        children: all.length,
        childCpuSeconds: all.reduce((sum, c) => sum + c.cpu, 0),
        childPeakRssMb: Math.max(...all.map((c) => c.hwmKb)) / 1024,
        childrenPeakRssSumMb: all.reduce((sum, c) => sum + c.hwmKb, 0) / 1024,
      };
    },
  };
}

function readFileSyncSafe(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

async function syntheticSuite(dir, n) {
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
  await writeLines(join(dir, 'traces.jsonl'), n, (i) => {
    const ok = i % 3 !== 0;
    return {
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
  });
}

/** The bundled refund-triage suite, its traces repeated under new ids and case ids up to N. */
async function bundledSuite(dir, n) {
  const folder = join(ROOT, 'traces/refund-triage');
  const bundled = [];
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.jsonl')).sort()) {
    for await (const line of createInterface({ input: createReadStream(join(folder, file)) })) if (line.trim()) bundled.push(JSON.parse(line));
  }
  const fixtures = join(ROOT, 'fixtures/refund-triage');
  writeFileSync(
    join(dir, 'suite.yaml'),
    `name: bench-bundled
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
  await writeLines(join(dir, 'traces.jsonl'), n, (i) => {
    const t = bundled[i % bundled.length];
    const round = Math.floor(i / bundled.length);
    return { ...t, id: `${t.id}-${round}`, ...(t.caseId ? { caseId: `${t.caseId}-${round}` } : {}) };
  });
}

async function writeLines(file, n, make) {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) if (!out.write(`${JSON.stringify(make(i))}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

/** A PostgreSQL store in a fresh schema of the server at SHADOWGATE_BENCH_PG_URL. */
async function postgresStore(n) {
  const url = process.env.SHADOWGATE_BENCH_PG_URL;
  if (!url) throw new Error('--store postgres needs SHADOWGATE_BENCH_PG_URL, the URL of a PostgreSQL server to write to');
  const { createPostgresStore } = await import(pathToFileURL(join(DIST, 'store/postgres.js')).href);
  return createPostgresStore(url, { schema: `sg_bench_replay_${process.pid}_${n}` });
}
