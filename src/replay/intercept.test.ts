import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdInterception, SandboxBlockedError, sandboxed, unsandboxed, type RequestHandler } from './intercept.js';

describe('sandboxed', () => {
  let hits = 0;
  let base = '';
  const server = createServer((_, res) => {
    hits++;
    res.end('real');
  });
  let release: () => void;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    release = holdInterception();
  });
  afterAll(() => {
    release();
    server.close();
  });

  /** A handler that answers with its own name, so that a request shows which sandbox saw it. */
  const named = (name: string, seen: string[]): RequestHandler => ({
    request: async (request) => {
      seen.push(new URL(request.url).pathname);
      await new Promise((r) => setTimeout(r, 5));
      return new Response(name);
    },
    blocked: (method, target) => new SandboxBlockedError(`${method} ${target}`),
  });

  it('gives each concurrent sandbox its own requests, through timers and promises', async () => {
    const a: string[] = [];
    const b: string[] = [];
    const run = (name: string, seen: string[]) =>
      sandboxed(named(name, seen), async () => {
        const out: string[] = [];
        for (let i = 0; i < 3; i++) {
          await new Promise((r) => setTimeout(r, 1));
          out.push(await (await fetch(`${base}/${name}/${i}`)).text());
        }
        return out;
      });
    const [outA, outB] = await Promise.all([run('a', a), run('b', b)]);
    expect(outA).toEqual(['a', 'a', 'a']);
    expect(outB).toEqual(['b', 'b', 'b']);
    expect(a).toEqual(['/a/0', '/a/1', '/a/2']);
    expect(b).toEqual(['/b/0', '/b/1', '/b/2']);
    expect(hits).toBe(0);
  });

  it('lets the harness through, outside a sandbox and from unsandboxed inside one', async () => {
    expect(await (await fetch(`${base}/outside`)).text()).toBe('real');
    const inner = await sandboxed(named('x', []), () => unsandboxed(async () => (await fetch(`${base}/harness`)).text()));
    expect(inner).toBe('real');
    expect(hits).toBe(2);
  });
});
