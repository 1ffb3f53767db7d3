/**
 * The deployment files: the Dockerfile, the Kubernetes manifests under deploy/kubernetes/ and
 * the workflows that shard a suite. Every container, and every workflow step that runs shards or
 * finalizes them, is run here as Kubernetes or GitHub Actions would run it (the kubelet's
 * `$(VAR)` expansion, `sh -c`, `bash -eo pipefail`, the job's env and matrix), with
 * `shadowgate` (also `npx shadowgate` and `node …/bin/shadowgate.js`) replaced by a stub that
 * records its arguments and exits as told. Each recorded command line is then parsed by the
 * CLI's own commander program (createProgram, its actions replaced by no-ops), so a command or
 * flag the CLI lacks, or a value it refuses, fails here; the `--shard i/n` of a set of shards
 * must cover 1…n once each, with n the Indexed Job's completions or the matrix's size.
 *
 * There is no Docker daemon in the test environment, so the Dockerfile is checked as text:
 * its stages, base image, toolchain, installs, user and entrypoint, and that what it copies
 * exists in the repository.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError, type Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { createProgram } from '../src/cli/program.js';
import type { CliIo } from '../src/cli/io.js';
import { extractInvocations } from './cli-invocations.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');

// ---------------------------------------------------------------------------------------------
// The Dockerfile, as text

interface Instruction {
  op: string; // upper case: FROM, RUN, COPY, …
  args: string;
}
interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Its stages, each with its instructions; `\`-continued lines joined, comments left out. */
function parseDockerfile(text: string): Stage[] {
  const lines = text.split(/\r?\n/).filter((l) => !/^\s*#/.test(l));
  const joined = lines.join('\n').replace(/\\\r?\n/g, ' ');
  const stages: Stage[] = [];
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const op = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (op === 'FROM') {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ image: from![1]!, name: from![2], instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ op, args });
    }
  }
  return stages;
}

const dockerfile = parseDockerfile(read('Dockerfile'));
const finalStage = dockerfile.at(-1)!;
const runsOf = (stage: Stage) => stage.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
const jsonArray = (stage: Stage, op: string): string[] | undefined => {
  const found = stage.instructions.filter((i) => i.op === op).at(-1);
  return found ? (JSON.parse(found.args) as string[]) : undefined;
};
const ENTRYPOINT = jsonArray(finalStage, 'ENTRYPOINT') ?? [];
const CMD = jsonArray(finalStage, 'CMD') ?? [];

/**
 * Whether .dockerignore keeps a path out of the build context: a pattern (matched from the
 * context's root, `*` within one name, as Docker does) matching the path or a folder above it.
 */
const dockerignore = read('.dockerignore')
  .split(/\r?\n/)
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const ignoredByDocker = (path: string) => {
  const parts = path.replace(/\/$/, '').split('/');
  return dockerignore.some((pattern) => {
    const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    return parts.some((_, i) => re.test(parts.slice(0, i + 1).join('/')));
  });
};

// ---------------------------------------------------------------------------------------------
// The Kubernetes manifests

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: unknown; fieldRef?: unknown };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: Array<{ secretRef?: { name: string }; configMapRef?: unknown }>;
}
interface PodSpec {
  restartPolicy?: string;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
}
interface JobSpec {
  completionMode?: string;
  completions?: number;
  parallelism?: number;
  podFailurePolicy?: { rules: Array<{ action: string; onExitCodes?: { operator: string; values: number[] } }> };
  template: { spec: PodSpec };
}
interface Manifest {
  file: string;
  kind: string;
  metadata: { name: string };
  spec?: JobSpec & { jobTemplate?: { spec: JobSpec } };
  stringData?: Record<string, string>;
  data?: Record<string, string>;
}

const k8sDir = 'deploy/kubernetes';
const manifests: Manifest[] = readdirSync(join(root, k8sDir))
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .flatMap((f) =>
    parseAllDocuments(read(join(k8sDir, f))).flatMap((doc) => {
      if (doc.errors.length > 0) throw new Error(`${k8sDir}/${f}: ${doc.errors[0]!.message}`);
      const value = doc.toJS() as Omit<Manifest, 'file'> | null;
      return value ? [{ ...value, file: `${k8sDir}/${f}` }] : [];
    }),
  );
const secrets = manifests.filter((m) => m.kind === 'Secret');
const jobSpecOf = (m: Manifest): JobSpec | undefined => (m.kind === 'Job' ? m.spec : m.kind === 'CronJob' ? m.spec?.jobTemplate?.spec : undefined);
const workloads = manifests.flatMap((m) => {
  const job = jobSpecOf(m);
  return job ? [{ manifest: m, job }] : [];
});

/** A container's environment as the kubelet builds it: literal values, and keys of the Secrets in the manifests. */
function containerEnv(where: string, c: Container): Record<string, string> {
  const secretValue = (name: string, key?: string): Record<string, string> => {
    const secret = secrets.find((s) => s.metadata.name === name);
    if (!secret) throw new Error(`${where}: no Secret ${name} in ${k8sDir}`);
    const all = { ...secret.stringData, ...Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])) };
    if (key === undefined) return all;
    if (!(key in all)) throw new Error(`${where}: Secret ${name} has no key ${key}`);
    return { [key]: all[key]! };
  };
  const env: Record<string, string> = {};
  for (const from of c.envFrom ?? []) {
    if (!from.secretRef) throw new Error(`${where}: envFrom other than a Secret is not simulated`);
    Object.assign(env, secretValue(from.secretRef.name));
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) env[e.name] = secretValue(e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key)[e.valueFrom.secretKeyRef.key]!;
    else throw new Error(`${where}: env ${e.name} is neither a value nor a Secret's key`);
  }
  return env;
}

/**
 * The kubelet's expansion of `command` and `args`: `$(NAME)` becomes the variable's value when
 * the container defines it and stays as written otherwise, `$$` becomes `$`. (So the shell's
 * `$((…))` reaches the shell untouched.)
 */
function expandK8s(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([^)]*)\)/g, (whole, name: string | undefined) => {
    if (whole === '$$') return '$';
    return name !== undefined && Object.hasOwn(env, name) ? env[name]! : whole;
  });
}

/** What the container executes: the image's entrypoint and command unless the manifest overrides them. */
function containerArgv(c: Container, env: Record<string, string>): string[] {
  const argv = c.command ? [...c.command, ...(c.args ?? [])] : [...ENTRYPOINT, ...(c.args ?? CMD)];
  return argv.map((a) => expandK8s(a, env));
}

// ---------------------------------------------------------------------------------------------
// Running scripts with a stub shadowgate

const scratch = mkdtempSync(join(tmpdir(), 'sg-deploy-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const stubs = join(scratch, 'bin');
mkdirSync(stubs);
const stub = (name: string, body: string) => {
  writeFileSync(join(stubs, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(stubs, name), 0o755);
};
// Each call writes its arguments, NUL-separated, to a file of its own (shards run at once).
stub('shadowgate', 'f=$(mktemp "$SG_RECORD/call.XXXXXX")\nprintf \'%s\\0\' "$@" > "$f"\nexit "${SG_STUB_EXIT:-0}"');
stub('npx', 'while [ $# -gt 0 ]; do case "$1" in --yes|-y|--no-install|--no) shift;; *) break;; esac; done\nif [ "$1" = shadowgate ]; then shift; exec shadowgate "$@"; fi\necho "npx $1: not simulated" >&2; exit 127');
stub('node', `case "$1" in */bin/shadowgate.js) shift; exec shadowgate "$@";; esac\nexec '${process.execPath}' "$@"`);

interface Execution {
  status: number | null;
  output: string;
  calls: string[][]; // the arguments of each shadowgate call
}

let executions = 0;
/** Runs argv with the stubs first on PATH, in a folder of its own, and returns what shadowgate was called with. */
function execute(argv: string[], env: Record<string, string>, exit: number): Execution {
  const dir = join(scratch, `run-${++executions}`);
  const record = join(dir, '.calls');
  mkdirSync(record, { recursive: true });
  const res = spawnSync(argv[0]!, argv.slice(1), {
    cwd: dir,
    encoding: 'utf8',
    timeout: 20_000,
    env: { PATH: `${stubs}:${process.env.PATH ?? ''}`, HOME: dir, ...env, SG_RECORD: record, SG_STUB_EXIT: String(exit) },
  });
  const calls = readdirSync(record).map((f) => readFileSync(join(record, f), 'utf8').split('\0').slice(0, -1));
  return { status: res.status, output: `${res.stdout}${res.stderr}${res.error ? String(res.error) : ''}`, calls };
}

// ---------------------------------------------------------------------------------------------
// The CLI as commander parses it

const quiet: CliIo = { stdout: { write: () => true }, stderr: { write: () => true }, env: {}, cwd: root };

/** null when the CLI takes these arguments (its actions replaced, nothing runs); else commander's complaint. */
async function cliRefuses(args: string[]): Promise<string | null> {
  const program = createProgram(quiet, () => {});
  const silence = (cmd: Command) => {
    cmd.action(() => {});
    cmd.commands.forEach(silence);
  };
  program.commands.forEach(silence);
  try {
    await program.parseAsync(args, { from: 'user' });
    return null;
  } catch (error) {
    if (error instanceof CommanderError) return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? null : error.message;
    throw error;
  }
}

const shardOf = (call: string[]) => {
  const at = call.findIndex((a) => a === '--shard' || a.startsWith('--shard='));
  if (at < 0) return undefined;
  const value = call[at] === '--shard' ? call[at + 1]! : call[at]!.slice('--shard='.length);
  const m = /^(\d+)\/(\d+)$/.exec(value);
  return m ? { i: Number(m[1]), n: Number(m[2]), value } : { i: NaN, n: NaN, value };
};
const runIdOf = (call: string[]) => {
  const at = call.indexOf('--run-id');
  return at < 0 ? undefined : call[at + 1];
};
const isShard = (call: string[]) => ['run', 'gate'].includes(call[0]!) && shardOf(call) !== undefined;

/** The problems of one set of shards: `i/n` must be 1…n, each once, n as expected, one run id. */
function shardProblems(calls: string[][], expectedN: number): string[] {
  const shards = calls.filter(isShard).map((c) => ({ ...shardOf(c)!, runId: runIdOf(c) }));
  const problems: string[] = [];
  const ns = [...new Set(shards.map((s) => s.n))];
  if (ns.length !== 1 || ns[0] !== expectedN) problems.push(`shards split in ${ns.join(', ') || 'nothing'} where ${expectedN} run`);
  const indices = shards.map((s) => s.i).sort((a, b) => a - b);
  const want = Array.from({ length: expectedN }, (_, k) => k + 1);
  if (JSON.stringify(indices) !== JSON.stringify(want)) problems.push(`shard indices ${shards.map((s) => s.value).join(', ')}: not 1…${expectedN} once each`);
  const ids = [...new Set(shards.map((s) => s.runId))];
  if (ids.length !== 1) problems.push(`shards of one run name run ids ${ids.join(', ')}`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// GitHub Actions: a job's steps as the runner runs them

interface WorkflowStep {
  name?: string;
  run?: string;
  env?: Record<string, string>;
  shell?: string;
}
interface WorkflowJob {
  env?: Record<string, string>;
  needs?: string | string[];
  outputs?: Record<string, string>;
  strategy?: { matrix?: Record<string, unknown> };
  steps?: WorkflowStep[];
}
interface Workflow {
  file: string;
  env?: Record<string, string>;
  jobs: Record<string, WorkflowJob>;
}

const GITHUB = { run_id: '4242', run_attempt: '1' };
const workflows: Workflow[] = readdirSync(join(root, '.github/workflows'))
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((f) => ({ ...(parse(read(`.github/workflows/${f}`)) as Omit<Workflow, 'file'>), file: `.github/workflows/${f}` }));

/** `${{ … }}` as the runner evaluates it, for the contexts these steps use; anything else is an error naming it. */
function evaluate(wf: Workflow, text: string, ctx: { matrix: Record<string, unknown>; env: Record<string, string> }): string {
  return text.replace(/\$\{\{\s*([\s\S]*?)\s*\}\}/g, (_, expr: string) => {
    let m: RegExpExecArray | null;
    if ((m = /^matrix\.([\w-]+)$/.exec(expr)) && m[1]! in ctx.matrix) return String(ctx.matrix[m[1]!]);
    if ((m = /^github\.(run_id|run_attempt)$/.exec(expr))) return GITHUB[m[1] as keyof typeof GITHUB];
    if ((m = /^env\.([\w-]+)$/.exec(expr)) && m[1]! in ctx.env) return ctx.env[m[1]!]!;
    // A secret: a stand-in value (a database URL whose password is made up).
    if ((m = /^secrets\.([\w-]+)$/.exec(expr))) return `postgres://sg:made-up-${m[1]}@db.example:5432/shadowgate`;
    if ((m = /^needs\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr))) {
      const output = wf.jobs[m[1]!]?.outputs?.[m[2]!];
      if (output === undefined) throw new Error(`${wf.file}: ${expr} names no output`);
      return evaluate(wf, output, { matrix: {}, env: {} });
    }
    throw new Error(`${wf.file}: the simulation does not know \${{ ${expr} }}`);
  });
}

/** Every combination of a job's matrix (lists only), or one empty one. */
function matrixOf(wf: Workflow, job: WorkflowJob): Array<Record<string, unknown>> {
  const matrix = job.strategy?.matrix;
  if (!matrix) return [{}];
  let combos: Array<Record<string, unknown>> = [{}];
  for (const [key, values] of Object.entries(matrix)) {
    if (!Array.isArray(values)) throw new Error(`${wf.file}: matrix.${key} is not a list (include/exclude are not simulated)`);
    combos = combos.flatMap((c) => values.map((v: unknown) => ({ ...c, [key]: v })));
  }
  return combos;
}

const mentionsShadowgate = (run: string | undefined) => run !== undefined && extractInvocations('', run).length > 0;
/** The jobs that run shards or finalize them: every other job's commands are checked statically by github.test.ts. */
const shardJobs = workflows.flatMap((wf) =>
  Object.entries(wf.jobs)
    .filter(([, job]) => (job.steps ?? []).some((s) => mentionsShadowgate(s.run) && /--shard\b|shadowgate finalize\b/.test(s.run!)))
    .map(([name, job]) => ({ wf, name, job })),
);

interface StepExecution extends Execution {
  where: string;
  step: WorkflowStep;
}
/** Runs a job's shadowgate steps, in order, once per matrix combination, as `bash -eo pipefail` with the job's env. */
function runJob(wf: Workflow, name: string, job: WorkflowJob, exit: number): StepExecution[][] {
  return matrixOf(wf, job).map((matrix) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...wf.env, ...job.env })) env[k] = evaluate(wf, String(v), { matrix, env });
    return (job.steps ?? [])
      .filter((s) => mentionsShadowgate(s.run))
      .map((step) => {
        if (step.shell && step.shell !== 'bash') throw new Error(`${wf.file}: ${name}: shell ${step.shell} is not simulated`);
        const stepEnv = { ...env };
        for (const [k, v] of Object.entries(step.env ?? {})) stepEnv[k] = evaluate(wf, String(v), { matrix, env: stepEnv });
        const script = evaluate(wf, step.run!, { matrix, env: stepEnv });
        const where = `${wf.file}: ${name}${Object.keys(matrix).length ? ` ${JSON.stringify(matrix)}` : ''}: ${step.name ?? step.run!.split('\n')[0]}`;
        return { where, step, ...execute(['bash', '--noprofile', '--norc', '-eo', 'pipefail', '-c', script], stepEnv, exit) };
      });
  });
}

// ---------------------------------------------------------------------------------------------

describe('the Dockerfile (checked as text: no Docker daemon here)', () => {
  it('builds in a node:22-bookworm-slim stage with the toolchain better-sqlite3 needs, and runs in a second one', () => {
    expect(dockerfile.map((s) => [s.image, s.name])).toEqual([
      ['node:22-bookworm-slim', 'build'],
      ['node:22-bookworm-slim', 'runtime'],
    ]);
    const build = dockerfile[0]!;
    const install = runsOf(build).find((r) => /apt-get install/.test(r));
    for (const tool of ['python3', 'make', 'g++']) expect(install?.split(/\s+/), tool).toContain(tool);
    expect(runsOf(finalStage).join('\n')).not.toMatch(/apt-get install|g\+\+|python3/);
  });

  it('installs everything, builds, then installs the production dependencies alone, with better-sqlite3 built', () => {
    const runs = runsOf(dockerfile[0]!);
    const at = (re: RegExp) => runs.findIndex((r) => re.test(r));
    const full = at(/npm ci(?![^&]*--omit=dev)/);
    const build = at(/npm run build/);
    const prod = at(/npm ci [^&]*--omit=dev/);
    expect([full, build, prod].every((i) => i >= 0), runs.join('\n')).toBe(true);
    expect(full).toBeLessThan(build);
    expect(build).toBeLessThan(prod);
    // Without install scripts, better-sqlite3's addon is missing unless it is rebuilt.
    if (/--ignore-scripts/.test(runs[prod]!)) expect(runs[prod]).toMatch(/npm rebuild better-sqlite3/);
    // The runtime takes node_modules from the build stage, where the production install was last.
    expect(finalStage.instructions.some((i) => i.op === 'COPY' && /--from=build\s+\/app\/node_modules\b/.test(i.args))).toBe(true);
  });

  it('runs as a user other than root, with shadowgate as its entrypoint and on PATH', () => {
    const user = finalStage.instructions.filter((i) => i.op === 'USER').at(-1)?.args;
    expect(user, 'USER of the final stage').toBeTruthy();
    expect(['root', '0', '0:0']).not.toContain(user);
    expect(ENTRYPOINT[0]).toBe('node');
    // /app/bin/shadowgate.js is the repository's bin/shadowgate.js, copied from the build stage.
    expect(ENTRYPOINT[1]).toMatch(/^\/app\//);
    const script = ENTRYPOINT[1]!.slice('/app/'.length);
    expect(existsSync(join(root, script)), script).toBe(true);
    expect(JSON.parse(read('package.json')).bin.shadowgate).toBe(`./${script}`);
    expect(runsOf(finalStage).join('\n')).toMatch(new RegExp(`ln -s ${ENTRYPOINT[1]!.replace(/\./g, '\\.')} /usr/(local/)?bin/shadowgate\\b`));
  });

  it('copies what exists and is in the build context, and the runtime holds what the package ships', () => {
    const copies = dockerfile.flatMap((s) => s.instructions.filter((i) => i.op === 'COPY').map((i) => ({ stage: s.name, words: i.args.split(/\s+/) })));
    const fromContext = copies.filter((c) => !c.words.some((w) => w.startsWith('--from=')));
    const sources = fromContext.flatMap((c) => c.words.filter((w) => !w.startsWith('--')).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const src of sources) {
      expect(existsSync(join(root, src)), `COPY ${src}`).toBe(true);
      expect(ignoredByDocker(src), `${src} is in .dockerignore`).toBe(false);
    }
    for (const gone of ['node_modules', 'dist', '.git']) expect(ignoredByDocker(gone), gone).toBe(true);
    // package.json "files", less the TypeScript sources (only source maps point at them) and the changelog.
    const files = (JSON.parse(read('package.json')) as { files: string[] }).files.filter((f) => !f.startsWith('!') && f !== 'src' && f !== 'CHANGELOG.md');
    const runtimeCopies = copies.filter((c) => c.stage === finalStage.name).map((c) => c.words.join(' '));
    for (const f of [...files, 'package.json']) expect(runtimeCopies.some((c) => c.includes(`--from=build /app/${f} `)), `the runtime copies ${f}`).toBe(true);
  });
});

describe('the Kubernetes manifests', () => {
  it('parse, and hold a Secret of placeholders, an Indexed Job of shards, a Job that finalizes and a CronJob', () => {
    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual(['CronJob/shadowgate-drift', 'Job/shadowgate-finalize', 'Job/shadowgate-shards', 'Secret/shadowgate']);
    const secret = secrets[0]!;
    expect(Object.keys(secret.stringData ?? {}).sort()).toEqual(['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'SHADOWGATE_DB']);
    for (const [key, value] of Object.entries(secret.stringData!)) expect(value, `${key} is a marked placeholder, never a real secret`).toMatch(/REPLACE_ME/);
    expect(secret.data).toBeUndefined();
    const indexed = workloads.filter((w) => w.job.completionMode === 'Indexed');
    expect(indexed.map((w) => w.manifest.metadata.name)).toEqual(['shadowgate-shards']);
    const { completions, parallelism } = indexed[0]!.job;
    expect(completions).toBeGreaterThan(1);
    expect(parallelism).toBeGreaterThanOrEqual(1);
    expect(parallelism).toBeLessThanOrEqual(completions!);
  });

  it('every pod runs the one image as a non-root user, never restarted in place (podFailurePolicy needs it)', () => {
    const images = new Set<string>();
    for (const { manifest, job } of workloads) {
      const pod = job.template.spec;
      expect(pod.restartPolicy, manifest.file).toBe('Never');
      expect(pod.securityContext?.runAsNonRoot, manifest.file).toBe(true);
      // runAsNonRoot can only check a numeric user; the image's `node` is 1000.
      expect(pod.securityContext?.runAsUser, manifest.file).toBe(1000);
      for (const c of pod.containers) images.add(c.image);
    }
    expect([...images]).toHaveLength(1);
  });

  it('every $(VAR) of a container is one it defines, and every Secret it reads has the key', () => {
    const undefinedRefs: string[] = [];
    for (const { manifest, job } of workloads) {
      for (const c of job.template.spec.containers) {
        const env = containerEnv(manifest.file, c); // throws on a missing Secret or key
        for (const arg of containerArgv(c, env)) for (const m of arg.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) undefinedRefs.push(`${manifest.file}: $(${m[1]})`);
      }
    }
    expect(undefinedRefs).toEqual([]);
  });
});

/** Every container of the manifests, run once per index of an Indexed Job, with the stub exiting `exit`. */
function runContainers(exit: number) {
  return workloads.flatMap(({ manifest, job }) =>
    job.template.spec.containers.flatMap((c) => {
      const indices = job.completionMode === 'Indexed' ? Array.from({ length: job.completions ?? 1 }, (_, i) => i) : [undefined];
      return indices.map((index) => {
        const env = { ...containerEnv(manifest.file, c), ...(index === undefined ? {} : { JOB_COMPLETION_INDEX: String(index) }) };
        const argv = containerArgv(c, env);
        return { manifest, job, container: c, index, argv, ...execute(argv, env, exit) };
      });
    }),
  );
}

describe('the Kubernetes containers, run with a stub shadowgate', () => {
  const runs = runContainers(0);

  it('each calls shadowgate as often as its script says, and the CLI takes every command line', async () => {
    const refused: string[] = [];
    for (const r of runs) {
      expect(r.status, `${r.manifest.file}${r.index === undefined ? '' : ` index ${r.index}`}: ${r.output}`).toBe(0);
      const script = r.argv.slice(0, 2).join(' ') === 'sh -c' ? r.argv[2]! : null;
      // Every shadowgate of a shell script ran (none hides in a branch not taken); without a shell, the entrypoint is the one call.
      expect(r.calls.length, r.manifest.file).toBe(script === null ? 1 : extractInvocations(r.manifest.file, script).length);
      for (const call of r.calls) {
        const why = await cliRefuses(call);
        if (why) refused.push(`${r.manifest.file}: shadowgate ${call.join(' ')}\n    ${why}`);
      }
    }
    expect(refused, refused.join('\n')).toEqual([]);
  });

  it('the Indexed Job runs shards 1…N of one run, N its completions; the finalize Job names that run', () => {
    const indexed = runs.filter((r) => r.job.completionMode === 'Indexed');
    const n = indexed[0]!.job.completions!;
    const calls = indexed.flatMap((r) => r.calls);
    expect(shardProblems(calls, n)).toEqual([]);
    const finalized = runs.flatMap((r) => r.calls.filter((c) => c[0] === 'finalize').map((c) => ({ file: r.manifest.file, runId: c[1] })));
    expect(finalized).toEqual([{ file: `${k8sDir}/finalize-job.yaml`, runId: runIdOf(calls[0]!) }]);
    expect(runs.some((r) => r.calls.some((c) => c[0] === 'drift') && r.manifest.kind === 'CronJob')).toBe(true);
  });

  it("a shard's own gate (exit 1) completes its pod; usage and internal errors (2, 3) fail it", () => {
    for (const [exit, expected] of [
      [1, 0],
      [2, 2],
      [3, 3],
    ] as const) {
      const shards = runContainers(exit).filter((r) => r.job.completionMode === 'Indexed');
      expect(shards.map((r) => r.status), `stub exit ${exit}`).toEqual(shards.map(() => expected));
    }
  });

  it("finalize's and drift's exit codes reach Kubernetes, and a verdict (1) or bad input (2) fails the Job without a retry", () => {
    const others = runContainers(1).filter((r) => r.job.completionMode !== 'Indexed');
    expect(others.map((r) => r.calls[0]?.[0]).sort()).toEqual(['drift', 'finalize']);
    for (const r of others) {
      expect(r.status, r.manifest.file).toBe(1);
      const failJob = r.job.podFailurePolicy?.rules.find((rule) => rule.action === 'FailJob' && rule.onExitCodes?.operator === 'In');
      expect(failJob?.onExitCodes?.values, r.manifest.file).toEqual(expect.arrayContaining([1, 2]));
    }
  });
});

describe('the workflows that shard, run with a stub shadowgate', () => {
  it('are found: the shared-store workflow (one job with its PostgreSQL service, and the matrix) and the results-file one', () => {
    expect(shardJobs.map((j) => `${relative('.github/workflows', j.wf.file)}: ${j.name}`)).toEqual([
      'shard-postgres.yml: shards',
      'shard-postgres.yml: matrix',
      'shard-postgres.yml: matrix-finalize',
      'shard.yml: shard',
    ]);
    const postgres = workflows.find((w) => w.file.endsWith('shard-postgres.yml'))!;
    const service = (postgres.jobs.shards as WorkflowJob & { services?: Record<string, { image: string; options?: string; ports?: string[] }> }).services?.postgres;
    expect(service?.image).toMatch(/^postgres:16\b/);
    expect(service?.options).toMatch(/--health-cmd "pg_isready/);
    const port = service?.ports?.[0]?.split(':')[0];
    expect(postgres.jobs.shards!.env?.SHADOWGATE_DB).toMatch(new RegExp(`^postgres://[^@]+@localhost:${port}/`));
    // A matrix shares no services container: its shards reach one server named by a secret.
    expect(postgres.jobs.matrix!.env?.SHADOWGATE_DB).toBe('${{ secrets.SHADOWGATE_DB }}');
  });

  it('the CLI takes every command line they run', async () => {
    const refused: string[] = [];
    for (const { wf, name, job } of shardJobs) {
      for (const steps of runJob(wf, name, job, 0)) {
        for (const s of steps) {
          expect(s.status, `${s.where}\n${s.output}`).toBe(0);
          for (const call of s.calls) {
            const why = await cliRefuses(call);
            if (why) refused.push(`${s.where}: shadowgate ${call.join(' ')}\n    ${why}`);
          }
        }
      }
    }
    expect(refused, refused.join('\n')).toEqual([]);
  });

  it('each set of shards covers 1…N once, N the matrix size where a matrix splits them, and is finalized under its run id', () => {
    const problems: string[] = [];
    for (const wf of workflows) {
      const jobs = shardJobs.filter((j) => j.wf === wf);
      if (jobs.length === 0) continue;
      const finalizedIds = jobs.flatMap((j) => runJob(wf, j.name, j.job, 0).flat().flatMap((s) => s.calls.filter((c) => c[0] === 'finalize').map((c) => c[1])));
      for (const { name, job } of jobs) {
        const calls = runJob(wf, name, job, 0).flat().flatMap((s) => s.calls);
        if (!calls.some(isShard)) continue;
        const combos = matrixOf(wf, job).length;
        const perCombo = calls.filter(isShard).length / combos;
        // A matrix: one shard per combination; one job: all n shards in it.
        const n = combos > 1 ? combos : shardOf(calls.find(isShard)!)!.n;
        if (combos > 1 && perCombo !== 1) problems.push(`${wf.file}: ${name}: ${perCombo} shards per matrix combination`);
        problems.push(...shardProblems(calls, n).map((p) => `${wf.file}: ${name}: ${p}`));
        const runId = runIdOf(calls.find(isShard)!);
        // Without a run id the shards write results files, which a merge job joins (shard.yml).
        if (runId !== undefined && !finalizedIds.includes(runId)) problems.push(`${wf.file}: ${name}: run ${runId} is never finalized (finalized: ${finalizedIds.join(', ')})`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("a shard step passes on the shard's own gate (exit 1) and fails on 2 and 3; a finalize step fails on its verdict", () => {
    for (const exit of [1, 2, 3]) {
      for (const { wf, name, job } of shardJobs) {
        for (const s of runJob(wf, name, job, exit).flat()) {
          const shards = s.calls.some(isShard);
          const expectPass = shards && exit === 1;
          expect(s.status === 0, `${s.where}, stub exit ${exit}: ${s.output}`).toBe(expectPass);
        }
      }
    }
  });
});

describe('the simulation itself', () => {
  it("expands $(VAR) as the kubelet does and leaves the shell's $((…)) alone", () => {
    expect(expandK8s('finalize $(RUN_ID) $(NOPE) $$(RUN_ID) "$((JOB_COMPLETION_INDEX + 1))/3"', { RUN_ID: 'r1' })).toBe('finalize r1 $(NOPE) $(RUN_ID) "$((JOB_COMPLETION_INDEX + 1))/3"');
  });

  it('records the stub\'s calls with their arguments, through npx and node …/bin/shadowgate.js too', () => {
    const r = execute(['bash', '-c', 'npx shadowgate run "a b.yaml" --shard 2/3 && node /app/bin/shadowgate.js finalize r1 && shadowgate drift'], {}, 0);
    expect(r.status, r.output).toBe(0);
    expect(r.calls.sort()).toEqual([['drift'], ['finalize', 'r1'], ['run', 'a b.yaml', '--shard', '2/3']]);
    expect(execute(['sh', '-c', 'shadowgate run x'], {}, 3).status).toBe(3);
  });

  it('the CLI check refuses a flag or a command the CLI lacks, and a value it rejects', async () => {
    expect(await cliRefuses(['run', 's.yaml', '--run-id', 'r', '--shard', '1/3'])).toBeNull();
    expect(await cliRefuses(['run', 's.yaml', '--no-such-flag'])).toMatch(/unknown option '--no-such-flag'/);
    expect(await cliRefuses(['finalise', 'r1'])).toMatch(/unknown command 'finalise'/);
    expect(await cliRefuses(['run', 's.yaml', '--shard', '4/3'])).toMatch(/--shard/);
  });

  it('the shard check finds a gap, a duplicate and another N', () => {
    const call = (i: number, n: number, id = 'r') => ['run', 's.yaml', '--run-id', id, '--shard', `${i}/${n}`];
    expect(shardProblems([call(1, 3), call(2, 3), call(3, 3)], 3)).toEqual([]);
    expect(shardProblems([call(1, 3), call(2, 3)], 3)).toEqual(['shard indices 1/3, 2/3: not 1…3 once each']);
    expect(shardProblems([call(1, 3), call(1, 3), call(3, 3)], 3)).toEqual(['shard indices 1/3, 1/3, 3/3: not 1…3 once each']);
    expect(shardProblems([call(1, 4), call(2, 4), call(3, 4)], 3)).toEqual(['shards split in 4 where 3 run']);
    expect(shardProblems([call(1, 3), call(2, 3), call(3, 3, 'other')], 3)).toEqual(['shards of one run name run ids r, other']);
  });
});
