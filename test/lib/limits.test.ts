import { install } from "@sinonjs/fake-timers";
import { describe, expect, it } from "vitest";
import {
  DeadlineError,
  deadlineSignal,
  LimitsReason,
  mapConcurrent,
  RateLimiter,
  realTimer,
  sleep,
  type Timer,
  untilAborted,
} from "../../lib/limits/index.ts";

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

  it("a waiter gives up when its signal aborts, without waiting for its turn", async () => {
    const limiter = new RateLimiter(0.1, 1);
    await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(controller.signal);
    const started = performance.now();
    controller.abort(new DeadlineError());
    await expect(waiting).rejects.toBeInstanceOf(DeadlineError);
    expect(performance.now() - started).toBeLessThan(1_000);
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

describe("deadlines", () => {
  it("a deadline signal aborts with a DeadlineError once its time is up", async () => {
    const deadline = deadlineSignal(30);
    expect(deadline.signal.aborted).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.signal.reason).toBeInstanceOf(DeadlineError);
    expect((deadline.signal.reason as DeadlineError).reason).toBe(LimitsReason.DEADLINE);
    expect((deadline.signal.reason as DeadlineError).message).toBe(
      "deadline: reached before the work finished",
    );
  });

  it("a deadline already past has aborted; an infinite one never does", () => {
    expect(deadlineSignal(-5).signal.aborted).toBe(true);
    const never = deadlineSignal(Number.POSITIVE_INFINITY);
    expect(never.signal.aborted).toBe(false);
    never.clear();
  });

  it("clear stops the timer, so a finished run is never aborted later", async () => {
    const deadline = deadlineSignal(20);
    deadline.clear();
    await new Promise((r) => setTimeout(r, 50));
    expect(deadline.signal.aborted).toBe(false);
  });

  it("untilAborted settles as the work does, or rejects with the signal's reason as soon as it aborts", async () => {
    await expect(untilAborted(Promise.resolve(7), undefined)).resolves.toBe(7);
    const deadline = deadlineSignal(20);
    const never = new Promise<number>(() => {});
    await expect(untilAborted(never, deadline.signal)).rejects.toBeInstanceOf(DeadlineError);
    await expect(untilAborted(Promise.resolve(1), deadline.signal)).rejects.toBeInstanceOf(
      DeadlineError,
    );
  });
});

describe("sleep", () => {
  it("waits on the given timer", async () => {
    const timer = fakeTimer();
    await sleep(1_500, undefined, timer);
    expect(timer.slept).toEqual([1_500]);
    expect(timer.now()).toBe(1_500);
  });

  it("rejects with the signal's reason as soon as it aborts, and the real timer lets go of its timeout", async () => {
    const clock = install({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const controller = new AbortController();
      const waiting = sleep(60_000, controller.signal);
      expect(clock.countTimers()).toBe(1);
      await clock.tickAsync(1_000);
      controller.abort(new DeadlineError());
      await expect(waiting).rejects.toBeInstanceOf(DeadlineError);
      expect(clock.countTimers()).toBe(0);
    } finally {
      clock.uninstall();
    }
  });

  it("a signal that has already aborted rejects at once without starting a timer", async () => {
    const clock = install({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const controller = new AbortController();
      controller.abort(new DeadlineError());
      await expect(sleep(60_000, controller.signal)).rejects.toBeInstanceOf(DeadlineError);
      expect(clock.countTimers()).toBe(0);
    } finally {
      clock.uninstall();
    }
  });

  it("the real timer resolves after its time when nothing aborts", async () => {
    const clock = install({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      let done = false;
      const waiting = realTimer.sleep(500, new AbortController().signal).then(() => {
        done = true;
      });
      await clock.tickAsync(499);
      expect(done).toBe(false);
      await clock.tickAsync(1);
      await waiting;
      expect(done).toBe(true);
    } finally {
      clock.uninstall();
    }
  });
});
