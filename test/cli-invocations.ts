/**
 * Finding `shadowgate <command> …` in shell scripts (workflow `run:` steps, the action, a
 * container's `sh -c`), for the tests that check every command and flag they call exists in
 * the CLI (test/github.test.ts, test/deploy-manifests.test.ts).
 */

export interface Invocation {
  file: string;
  line: string;
  command: string[]; // e.g. ['gate'] or ['prompt', 'diff']
  words: string[]; // the words after `shadowgate`
  flags: string[]; // every --flag used
}

export const PLACEHOLDER = '__EXPR__';

/** `${{ … }}` expressions become a placeholder word; `\`-continued lines are joined. */
function normaliseScript(script: string): string[] {
  return script
    .replace(/\$\{\{[\s\S]*?\}\}/g, PLACEHOLDER)
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/);
}

/**
 * Every `shadowgate …` (or `node …/bin/shadowgate.js …`) in a command position of a script
 * (start of a line, after `npx`, `;`, `&&`, `||`, `|`, `(`, `$(`), up to the end of that simple
 * command. Words that are expressions or shell variables are placeholders, never commands or
 * flags; `--flag` inside `${VAR:+--flag …}` counts as a flag.
 */
export function extractInvocations(file: string, script: string): Invocation[] {
  const found: Invocation[] = [];
  const start = /(?:(?:^|[;&|(]|\bnpx(?:\s+(?:--yes|-y|--no-install|--no))*)\s*shadowgate|\bnode\s+\S*\bbin\/shadowgate\.js)\s+([^;&|#\n]*)/g;
  for (const raw of normaliseScript(script)) {
    const line = raw.trim();
    if (line.startsWith('#')) continue;
    for (const m of line.matchAll(start)) {
      const rest = m[1]!.replace(/\s+$/, '');
      const words = rest.split(/\s+/).filter(Boolean);
      const command: string[] = [];
      for (const w of words) {
        if (!/^[a-z][a-z0-9-]*$/.test(w)) break; // a flag, a path, a variable or an expression
        command.push(w);
      }
      const flags = [...rest.matchAll(/(?<![\w$-])--[a-z][a-z0-9-]*/g)].map((f) => f[0]);
      found.push({ file, line, command, words, flags });
    }
  }
  return found;
}
