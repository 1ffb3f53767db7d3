export interface RateLimits {
  /** Requests in flight at once. */
  concurrency?: number;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((done) => setTimeout(done, ms)),
};

/**
 * Keeps one provider's requests within its limits: a concurrency cap and
 * sliding one-minute windows of requests and tokens, the way providers count
 * them. A request's tokens are estimated up front and corrected when it ends.
 */
export function createRateLimiter(limits: RateLimits, clock: Clock = realClock) {
  // A request is stamped here when it may start, and by the provider when it arrives, a little later.
  // Counting a second more than a minute keeps the two windows from disagreeing at their edges, where a
  // 429 would cost its request a whole window.
  const WINDOW = 61_000;
  const requests: number[] = [];
  const tokens: { at: number; n: number }[] = [];
  let inFlight = 0;
  const waiting: (() => void)[] = [];

  const prune = (t: number) => {
    while (requests.length && requests[0]! <= t - WINDOW) requests.shift();
    while (tokens.length && tokens[0]!.at <= t - WINDOW) tokens.shift();
  };
  const tokenSum = () => tokens.reduce((s, x) => s + x.n, 0);

  async function slot(): Promise<void> {
    if (limits.concurrency === undefined || inFlight < limits.concurrency) {
      inFlight++;
      return;
    }
    await new Promise<void>((done) => waiting.push(done));
    inFlight++;
  }

  return {
    /** Waits until a request of about `estimatedTokens` may start; returns its release function. */
    async acquire(estimatedTokens = 0): Promise<(actualTokens?: number) => void> {
      await slot();
      for (;;) {
        const t = clock.now();
        prune(t);
        const rpmWait =
          limits.requestsPerMinute !== undefined && requests.length >= limits.requestsPerMinute
            ? requests[requests.length - limits.requestsPerMinute]! + WINDOW - t
            : 0;
        let tpmWait = 0;
        if (limits.tokensPerMinute !== undefined && tokens.length > 0 && tokenSum() + estimatedTokens > limits.tokensPerMinute) {
          tpmWait = tokens[0]!.at + WINDOW - t;
        }
        const wait = Math.max(rpmWait, tpmWait);
        if (wait <= 0) break;
        await clock.sleep(wait);
      }
      const at = clock.now();
      requests.push(at);
      const entry = { at, n: estimatedTokens };
      tokens.push(entry);
      let released = false;
      return (actualTokens) => {
        if (released) return;
        released = true;
        if (actualTokens !== undefined) entry.n = actualTokens;
        inFlight--;
        waiting.shift()?.();
      };
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
