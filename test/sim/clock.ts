/**
 * The virtual clock: @sinonjs/fake-timers over timers, Date and performance,
 * so the product's own code (rate limiters on performance.now, SDK retry
 * back-off, deadlines, waiter sleeps) and the models' latencies all run on
 * simulated time while their CPU is real. Time moves only when nothing can
 * run: {@link settle} runs microtasks, then jumps to the next timer.
 */
import { type Clock, install } from "@sinonjs/fake-timers";
import { SimError, SimReason } from "./errors.ts";

/**
 * Installs the virtual clock at `now`; `uninstall()` it when done.
 *
 * @example
 * const clock = installClock(Date.parse("2026-01-01T00:00:00Z"));
 * try { await settle(clock, work()); } finally { clock.uninstall(); }
 */
export function installClock(now: number): Clock {
  return install({
    toFake: [
      "setTimeout",
      "clearTimeout",
      "setInterval",
      "clearInterval",
      "setImmediate",
      "clearImmediate",
      "Date",
      "performance",
    ],
    now,
    // Many thousands of timers run in one simulated hour.
    loopLimit: 10_000_000,
  });
}

/**
 * Runs the virtual clock until `work` settles, moving time only when nothing
 * else can run, and returns what it returns.
 *
 * @throws {SimError} `STALLED` when `work` waits on something no timer will ever bring.
 * @example
 * const report = await settle(clock, planner.run(request, remainingMs, logger));
 */
export async function settle<T>(clock: Clock, work: Promise<T>): Promise<T> {
  let done = false;
  const watched = work.finally(() => {
    done = true;
  });
  watched.catch(() => {});
  while (!done) {
    // One real macrotask turn runs every microtask the last timer set off.
    await new Promise((resolve) => realSetImmediate(resolve));
    if (done) break;
    if (clock.countTimers() === 0) {
      await waitForRealWork(clock, () => done);
      continue;
    }
    clock.next();
  }
  return watched;
}

/** The real timers, kept before any clock is installed. */
const realSetTimeout = globalThis.setTimeout.bind(globalThis);
const realSetImmediate = globalThis.setImmediate.bind(globalThis);
/** How long work may wait on real I/O (the SDK loading a module on its first call) with no timer pending. */
const REAL_WAIT_MS = 10_000;

/**
 * With no timer pending, only real work (a module the SDK loads on its first
 * call) can move `work` on: waits for it in real time, until a timer is
 * pending again or `work` is done.
 *
 * @throws {SimError} `STALLED` when neither happens within {@link REAL_WAIT_MS}.
 */
async function waitForRealWork(clock: Clock, done: () => boolean): Promise<void> {
  const until = process.hrtime.bigint() + BigInt(REAL_WAIT_MS) * 1_000_000n;
  while (!done() && clock.countTimers() === 0) {
    if (process.hrtime.bigint() > until) throw new SimError(SimReason.STALLED);
    await new Promise((resolve) => realSetTimeout(resolve, 1));
  }
}

/**
 * Runs `fn` on a virtual clock installed at `start` and removes the clock after, however `fn` ends.
 *
 * @example
 * const elapsed = await onVirtualClock(Date.parse("2026-01-01T00:00:00Z"), async () => {
 *   const t0 = Date.now();
 *   await sts.send(new GetCallerIdentityCommand({}));
 *   return Date.now() - t0; // 50: the modelled latency, in virtual ms
 * });
 */
export async function onVirtualClock<T>(
  start: number,
  fn: (clock: Clock) => Promise<T>,
): Promise<T> {
  const clock = installClock(start);
  try {
    return await settle(clock, fn(clock));
  } finally {
    clock.uninstall();
  }
}
