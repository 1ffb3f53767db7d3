// The bundled refund-triage traces cycled under new ids, for the benches that need more of them
// than are bundled, each copy making model requests of its own.
import { once } from 'node:events';
import { createWriteStream, readFileSync, readdirSync } from 'node:fs';
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
