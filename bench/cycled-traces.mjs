// The bundled refund-triage traces cycled under new ids, for the benches that need more of them
// than are bundled, each copy making model requests of its own.
import { once } from 'node:events';
import { createWriteStream, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * `n` traces: the bundled refund-triage traces in order, cycled; the k-th copy (k ≥ 1)
 * of a trace has `-b<k>` after its id and after its ticket id wherever that appears
 * (input, caseId, tool arguments), so that every copy makes its own model requests.
 */
export async function writeTraces(file, n) {
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

/**
 * A suite in `dir` over `n` cycled traces (`traces.jsonl`), the bundled catalog and the bundled
 * comparison settings, with `candidate` (YAML lines of the `candidate:` block, indented by two)
 * and `extra` (more top-level YAML, ending with a newline). Returns the suite file.
 */
export async function writeCycledSuite(dir, { name, n, candidate, extra = '' }) {
  await writeTraces(join(dir, 'traces.jsonl'), n);
  const fixtures = join(ROOT, 'fixtures/refund-triage');
  const file = join(dir, 'suite.yaml');
  writeFileSync(
    file,
    `name: ${name}
traces: traces.jsonl
tools: ${JSON.stringify(join(fixtures, 'tools.yaml'))}
reference: human
candidate:
${candidate}
compare:
  decision: { fields: [action, amount], numericTolerance: 0.01 }
  effects: { ignoreArgs: [idempotency_key, note, reason] }
${extra}`,
  );
  return file;
}
