/**
 * The GitHub Action's sticky pull-request comment: one comment per pull request, found by a hidden
 * marker and updated on every run, never a second one. Run as `node dist/action/comment.js` with, in
 * the environment: GITHUB_API_URL, GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_NAME,
 * GITHUB_EVENT_PATH (the event payload), VERDICT, CODE and REPORTS (the report.md files, one per line).
 *
 * Only on `pull_request` events. A token that may not write (a pull request from a fork) is a warning,
 * not a failure: the verdict is the gate's, and the report is still in the job summary.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { forTerminal, noWorkflowCommands } from '../report/escape.js';

/** The hidden first line that marks the comment as this Action's. */
export const COMMENT_MARKER = '<!-- shadowgate-gate-report -->';

/** GitHub refuses comment bodies over 65,536 characters. */
const MAX_BODY = 60_000;

/** The comment: the marker, the verdict, and each suite's report.md (or, when the gate could not run, where to look). */
export function commentBody(verdict: string, code: number, reports: readonly { file: string; markdown: string }[]): string {
  const head = `${COMMENT_MARKER}\n**shadowgate gate: \`${verdict}\`** (exit ${code})\n`;
  const body =
    reports.length === 0
      ? `${head}\nThe gate could not run: the job log says why.\n`
      : `${head}\n${reports.map((r) => r.markdown.trim()).join('\n\n---\n\n')}\n`;
  if (body.length <= MAX_BODY) return body;
  return `${body.slice(0, MAX_BODY)}\n\n… cut short: the whole report is in the job summary and in ${reports.map((r) => r.file).join(', ')}.\n`;
}

interface Comment {
  id: number;
  body?: string | null;
}

/** Calls the GitHub REST API; a status other than 2xx is an error naming the call and the status. */
async function github(api: string, token: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${token}`,
      'x-github-api-version': '2022-11-28',
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!response.ok) throw Object.assign(new Error(`${method} ${path}: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`), { status: response.status });
  return response.status === 204 ? null : response.json();
}

/** Creates the pull request's comment, or updates the one that carries the marker. Returns what it did. */
export async function upsertComment(options: { api: string; token: string; repository: string; pullNumber: number; body: string }): Promise<{ action: 'created' | 'updated'; id: number }> {
  const { api, token, repository, pullNumber, body } = options;
  let mine: Comment | undefined;
  for (let page = 1; !mine; page++) {
    const comments = (await github(api, token, 'GET', `/repos/${repository}/issues/${pullNumber}/comments?per_page=100&page=${page}`)) as Comment[];
    mine = comments.find((c) => c.body?.startsWith(COMMENT_MARKER));
    if (comments.length < 100) break;
  }
  if (mine) {
    await github(api, token, 'PATCH', `/repos/${repository}/issues/comments/${mine.id}`, { body });
    return { action: 'updated', id: mine.id };
  }
  const created = (await github(api, token, 'POST', `/repos/${repository}/issues/${pullNumber}/comments`, { body })) as Comment;
  return { action: 'created', id: created.id };
}

async function main(env: NodeJS.ProcessEnv): Promise<void> {
  if (env.GITHUB_EVENT_NAME !== 'pull_request') {
    process.stdout.write(`no comment: the event is ${env.GITHUB_EVENT_NAME ?? 'unknown'}, not pull_request\n`);
    return;
  }
  const event = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH ?? '', 'utf8')) as { pull_request?: { number?: unknown } };
  const pullNumber = event.pull_request?.number;
  if (typeof pullNumber !== 'number') throw new Error(`${env.GITHUB_EVENT_PATH}: the event has no pull_request.number`);
  if (!env.GITHUB_TOKEN) throw new Error('no token: set the github-token input (the default is the job\'s token)');
  const reports = (env.REPORTS ?? '')
    .split('\n')
    .filter(Boolean)
    .map((file) => ({ file, markdown: readFileSync(file, 'utf8') }));
  const body = commentBody(env.VERDICT ?? 'error', Number(env.CODE), reports);
  try {
    const done = await upsertComment({ api: env.GITHUB_API_URL ?? 'https://api.github.com', token: env.GITHUB_TOKEN, repository: env.GITHUB_REPOSITORY ?? '', pullNumber, body });
    process.stdout.write(`comment ${done.id} ${done.action} on pull request #${pullNumber}\n`);
  } catch (error) {
    const status = (error as { status?: number }).status;
    if (status !== 403 && status !== 404) throw error;
    // A fork's pull request gets a read-only token; a missing `pull-requests: write` permission looks the same.
    process.stdout.write(`::warning::shadowgate: could not comment on pull request #${pullNumber} (HTTP ${status}): the token needs pull-requests: write, which a fork's pull request does not get\n`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  main(process.env).catch((error: unknown) => {
    process.stdout.write(`::error::shadowgate comment: ${noWorkflowCommands(forTerminal(error instanceof Error ? error.message : String(error)), false)}\n`);
    process.exitCode = 1;
  });
}
