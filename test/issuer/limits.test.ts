import { describe, expect, it } from "vitest";
import { mapConcurrent, RateLimiter, type Timer } from "../../functions/limits/index.ts";

/** A clock that only moves when the limiter sleeps, so rates are checked exactly and instantly. */
function fakeTimer(): Timer & { slept: number[] } {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe("RateLimiter", () => {
  it("admits a burst, then one call per 1/rate seconds", async () => {
    const timer = fakeTimer();
    const limiter = new RateLimiter(10, 2, timer);
    for (let i = 0; i < 6; i++) await limiter.acquire();
    expect(timer.now()).toBeCloseTo(400, 6);
    expect(timer.slept.length).toBe(4);
  });

  it("serves concurrent waiters in order without exceeding the rate", async () => {
    const timer = fakeTimer();
    const limiter = new RateLimiter(5, 1, timer);
    const order: number[] = [];
    await Promise.all([0, 1, 2, 3].map((i) => limiter.acquire().then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3]);
    expect(timer.now()).toBeCloseTo(600, 6);
  });

  it("rejects a non-positive rate", () => {
    expect(() => new RateLimiter(0)).toThrow("rate must be positive, got 0");
  });
});

describe("mapConcurrent", () => {
  it("never runs more than the bound at once and keeps order", async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapConcurrent([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      return n * 2;
    });
    expect(out).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(peak).toBe(3);
  });

  it("stops starting new items once told to, leaving them undefined", async () => {
    let started = 0;
    const out = await mapConcurrent(
      [1, 2, 3, 4, 5],
      1,
      async (n) => n,
      () => started++ < 2,
    );
    expect(out).toEqual([1, 2, undefined, undefined, undefined]);
  });
});
