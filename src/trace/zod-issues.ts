import type { z } from 'zod';
import type { Issue } from '../errors.js';

export function formatPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/**
 * Turns a zod error into located issues. Unknown keys get one issue each, with
 * the key in the path, so that a misspelled key is named where it stands.
 * `locate` maps a key path to a line (for YAML); JSONL passes a fixed line.
 */
export function zodIssues(
  error: z.ZodError,
  file: string,
  line: number | ((path: readonly PropertyKey[], key?: string) => number | undefined),
): Issue[] {
  const at = typeof line === 'number' ? () => line : line;
  const issues: Issue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const path = [...issue.path, key];
        issues.push({ file, line: at(issue.path, key), path: formatPath(path), message: 'unknown key' });
      }
      continue;
    }
    issues.push({ file, line: at(issue.path), path: formatPath(issue.path), message: issue.message });
  }
  return issues;
}
