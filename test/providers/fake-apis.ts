import { http, HttpResponse, type JsonBodyType } from 'msw';
import { setupServer } from 'msw/node';
// @ts-expect-error -- a plain JavaScript fixture without type declarations
import { anthropicMessage, openAIChatCompletion } from '../../fixtures/refund-triage/fake-model.mjs';

export const OPENAI_URL = 'https://api.openai.com/v1/chat/completions';
export const ANTHROPIC_URL = 'https://api.anthropic.com/v1/messages';
export const LOCAL_URL = 'http://127.0.0.1:8080/v1/chat/completions';

export interface SeenRequest {
  url: string;
  body: Record<string, unknown>;
  headers: Record<string, string>;
}

/** What the next request gets instead of the scripted answer: a status, a changed answer, or a delay. */
export type Override = (body: Record<string, unknown>, answer: () => Record<string, unknown>) => Response | Promise<Response> | undefined;

/**
 * The OpenAI and Anthropic APIs (and an OpenAI-compatible server on loopback),
 * emulated at the HTTP level with msw by the scripted model of the example.
 * Unhandled requests are errors: nothing reaches the network.
 */
export function createFakeApis() {
  const seen: SeenRequest[] = [];
  const overrides: Override[] = [];
  const handler = (answer: (body: Record<string, unknown>) => Record<string, unknown>) =>
    async ({ request }: { request: Request }) => {
      const body = (await request.json()) as Record<string, unknown>;
      seen.push({ url: request.url, body, headers: Object.fromEntries(request.headers.entries()) });
      const override = overrides.shift();
      const custom = override ? await override(body, () => answer(body)) : undefined;
      return custom ?? HttpResponse.json(answer(body) as JsonBodyType);
    };
  const server = setupServer(
    http.post(OPENAI_URL, handler(openAIChatCompletion)),
    http.post(LOCAL_URL, handler(openAIChatCompletion)),
    http.post(ANTHROPIC_URL, handler(anthropicMessage)),
  );
  return {
    server,
    seen,
    /** Queues overrides for the next requests, in order. */
    next(...list: Override[]) {
      overrides.push(...list);
    },
    reset() {
      seen.length = 0;
      overrides.length = 0;
    },
  };
}

export const status = (code: number, headers: Record<string, string> = {}, message = `fake error ${code}`): Override => () =>
  HttpResponse.json({ error: { message, type: 'server_error', code: null } }, { status: code, headers });
