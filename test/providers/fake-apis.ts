import { http, HttpResponse, type JsonBodyType } from 'msw';
import { setupServer } from 'msw/node';
import {
  anthropicMessage,
  anthropicMessageStream,
  openAIChatCompletion,
  openAIChatStream,
  openAIResponse,
  openAIResponseStream,
  // @ts-expect-error -- a plain JavaScript fixture without type declarations
} from '../../fixtures/refund-triage/fake-model.mjs';

export const OPENAI_URL = 'https://api.openai.com/v1/chat/completions';
export const OPENAI_RESPONSES_URL = 'https://api.openai.com/v1/responses';
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
  // A request with `stream: true` gets the same answer as server-sent events, in the API's own event shapes.
  const handler = (answer: (body: Record<string, unknown>) => Record<string, unknown>, stream: (body: Record<string, unknown>) => string) =>
    async ({ request }: { request: Request }) => {
      const body = (await request.json()) as Record<string, unknown>;
      seen.push({ url: request.url, body, headers: Object.fromEntries(request.headers.entries()) });
      const override = overrides.shift();
      const custom = override ? await override(body, () => answer(body)) : undefined;
      if (custom) return custom;
      if (body.stream === true) return new HttpResponse(stream(body), { headers: { 'content-type': 'text/event-stream; charset=utf-8' } });
      return HttpResponse.json(answer(body) as JsonBodyType);
    };
  const server = setupServer(
    http.post(OPENAI_URL, handler(openAIChatCompletion, openAIChatStream)),
    http.post(OPENAI_RESPONSES_URL, handler(openAIResponse, openAIResponseStream)),
    http.post(LOCAL_URL, handler(openAIChatCompletion, openAIChatStream)),
    http.post(ANTHROPIC_URL, handler(anthropicMessage, anthropicMessageStream)),
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
