import { describe, expect, it } from 'vitest';
import { createRateLimiter, type Clock } from './rate-limit.js';

/** A clock that only moves when something sleeps. */
function manualClock(): Clock & { t: number } {
  const clock = {
    t: 0,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}

describe('createRateLimiter', () => {
  it('lets requestsPerMinute requests through at once, and the next one a minute after the first', async () => {
    const clock = manualClock();
    const limiter = createRateLimiter({ requestsPerMinute: 3 }, clock);
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      (await limiter.acquire())();
      starts.push(clock.now());
    }
    expect(starts).toEqual([0, 0, 0, 61_000, 61_000]); // a minute and a second of margin
  });

  it('waits for room in the tokens-per-minute window, counting the tokens a request really used', async () => {
    const clock = manualClock();
    const limiter = createRateLimiter({ tokensPerMinute: 1000 }, clock);
    (await limiter.acquire(800))(300); // estimated 800, used 300
    (await limiter.acquire(600))();
    expect(clock.now()).toBe(0); // 300 + 600 ≤ 1000
    (await limiter.acquire(600))();
    expect(clock.now()).toBe(61_000); // 900 + 600 > 1000: wait until the first minute (and the margin) has passed
  });

  it('holds requests beyond the concurrency cap until one is released', async () => {
    const limiter = createRateLimiter({ concurrency: 2 });
    const a = await limiter.acquire();
    await limiter.acquire();
    let third = false;
    const pending = limiter.acquire().then((release) => {
      third = true;
      return release;
    });
    await new Promise((done) => setTimeout(done, 10));
    expect(third).toBe(false);
    a();
    (await pending)();
    expect(third).toBe(true);
  });
});
