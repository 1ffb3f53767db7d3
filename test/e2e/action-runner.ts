/**
 * Runs a composite action's steps here, as a GitHub runner would: each `run:` step with bash
 * (`bash --noprofile --norc -eo pipefail`, GitHub's `shell: bash`) in order, in the workspace, with
 * the step's `env` (its `${{ inputs.* }}`, `${{ steps.*.outputs.* }}` and `${{ github.token }}`
 * expressions evaluated), a GITHUB_OUTPUT file of its own whose outputs later steps read, and the
 * environment variables the test gives (those GitHub sets). A step that fails ends the action, as on
 * GitHub. `uses:` steps (actions/setup-node) cannot run here: they are skipped and listed in `skipped`.
 * Anything else (an `if:`, another expression, a `${{ }}` inside a script) is refused rather than
 * run differently from GitHub.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';

interface ActionStep {
  name?: string;
  id?: string;
  uses?: string;
  with?: Record<string, string>;
  run?: string;
  shell?: string;
  env?: Record<string, string>;
}

export interface ActionFile {
  inputs: Record<string, { required?: boolean; default?: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: ActionStep[] };
}

export interface ActionRun {
  code: number;
  /** The action's outputs, from its `outputs:` expressions. */
  outputs: Record<string, string>;
  /** What the steps printed, stdout and stderr, in order. */
  log: string;
  /** The `uses:` steps not run here. */
  skipped: string[];
}

export function readAction(file: string): ActionFile {
  return parse(readFileSync(file, 'utf8')) as ActionFile;
}

const KNOWN_KEYS = new Set(['name', 'id', 'uses', 'with', 'run', 'shell', 'env']);

/** `name=value` and `name<<delimiter` … `delimiter` entries of a GITHUB_OUTPUT file. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      if (end < 0) throw new Error(`GITHUB_OUTPUT: no closing delimiter for ${heredoc[1]}`);
      outputs[heredoc[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    } else if (line !== '') {
      throw new Error(`GITHUB_OUTPUT: cannot read line ${JSON.stringify(line)}`);
    }
  }
  return outputs;
}

/** Runs a script with bash, asynchronously (a server in this process, the fake GitHub API, must keep answering). */
function bash(script: string, cwd: string, env: Record<string, string>): Promise<{ status: number; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ status: code ?? 1, output }));
  });
}

export async function runAction(action: ActionFile, options: { cwd: string; inputs: Record<string, string>; env: Record<string, string> }): Promise<ActionRun> {
  if (action.runs.using !== 'composite') throw new Error(`not a composite action: ${action.runs.using}`);
  for (const name of Object.keys(options.inputs)) if (!(name in action.inputs)) throw new Error(`the action has no input ${name}`);
  const steps: Record<string, Record<string, string>> = {};
  const evaluate = (text: string): string =>
    text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => {
      let m: RegExpExecArray | null;
      if ((m = /^inputs\.([\w-]+)$/.exec(expr))) {
        const input = action.inputs[m[1]!];
        if (!input) throw new Error(`no input ${m[1]}`);
        if (m[1]! in options.inputs) return options.inputs[m[1]!]!;
        if (input.required) throw new Error(`input ${m[1]} is required`);
        return evaluate(input.default ?? '');
      }
      if ((m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr))) return steps[m[1]!]?.[m[2]!] ?? '';
      if (expr === 'github.token') return options.env.GITHUB_TOKEN ?? '';
      throw new Error(`the local runner does not evaluate \${{ ${expr} }}`);
    });

  const outputsOf = () => Object.fromEntries(Object.entries(action.outputs).map(([k, o]) => [k, evaluate(o.value)]));

  const scratch = mkdtempSync(join(tmpdir(), 'sg-action-run-'));
  let log = '';
  const skipped: string[] = [];
  try {
    for (const [i, step] of action.runs.steps.entries()) {
      const label = step.name ?? `step ${i + 1}`;
      const unknown = Object.keys(step).filter((k) => !KNOWN_KEYS.has(k));
      if (unknown.length > 0) throw new Error(`${label}: the local runner does not handle ${unknown.join(', ')}`);
      if (step.uses) {
        skipped.push(`${label} (${step.uses})`);
        continue;
      }
      if (step.shell !== 'bash') throw new Error(`${label}: shell ${step.shell}, not bash`);
      if (step.run!.includes('${{')) throw new Error(`${label}: an expression inside the script; inputs reach it through env`);
      const script = join(scratch, `step-${i}.sh`);
      const output = join(scratch, `output-${i}`);
      writeFileSync(script, step.run!);
      writeFileSync(output, '');
      const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, evaluate(String(v))]));
      const result = await bash(script, options.cwd, { ...options.env, ...env, GITHUB_OUTPUT: output });
      log += `## ${label}\n${result.output}`;
      if (step.id) steps[step.id] = parseOutputFile(readFileSync(output, 'utf8'));
      // A failing step ends the action; the outputs of the steps before it still count, as on GitHub.
      if (result.status !== 0) return { code: result.status, outputs: outputsOf(), log, skipped };
    }
    return { code: 0, outputs: outputsOf(), log, skipped };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
