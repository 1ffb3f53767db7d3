// What the benches share: their command line (names of runs, then `--flag N` pairs), their
// `--child` entry (each measured setting in a process of its own), and their tables.

/**
 * Runs `child(setting)` when this process is a bench's child (`--child <JSON>`), else
 * `parent(parse(args))`.
 */
export async function benchMain(parse, parent, child) {
  const args = process.argv.slice(2);
  if (args[0] === '--child') await child(JSON.parse(args[1]));
  else await parent(parse(args));
}

/**
 * Splits a bench's arguments into the names it knows (`names`, an object keyed by name) and
 * `--flag N` values (`flags`: flag → option key), each value checked by `valid(key, n)`;
 * anything else throws the usage line of `script`.
 */
export function parseBenchArgs(list, { script, names, flags, valid }) {
  const picked = [];
  const values = {};
  for (let i = 0; i < list.length; i++) {
    if (names[list[i]]) {
      picked.push(list[i]);
      continue;
    }
    const key = flags[list[i]];
    const value = Number(list[++i]);
    if (!key || !Number.isFinite(value) || !valid(key, value)) {
      throw new Error(`usage: node ${script} [${Object.keys(names).join('|')}]… [${Object.keys(flags).map((f) => `${f} N`).join('] [')}]`);
    }
    values[key] = value;
  }
  return { names: picked, values };
}

/** A results' statuses as `completed 3, error 1`, or `-`. */
export function fmtStatuses(statuses) {
  return Object.entries(statuses).map(([s, n]) => `${s} ${n}`).join(', ') || '-';
}

/** Prints rows (the first is the header) as aligned columns: those in `left` padded on the right, the others on the left. */
export function printTable(rows, left) {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)));
  for (const row of rows) console.log(row.map((v, c) => (left.has(c) ? String(v).padEnd(widths[c]) : String(v).padStart(widths[c]))).join('  ').trimEnd());
}
