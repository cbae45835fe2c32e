/**
 * Bounds on how hard and how long the functions push on AWS APIs: a
 * token-bucket rate limiter for per-second API quotas, a bounded-concurrency
 * map, and a deadline as an AbortSignal that every call and wait honours.
 *
 * Plumbing that knows no product part: imports nothing of the project
 * outside lib/ (its error base, lib/errors).
 *
 * @module
 */
import { LambdaSvidError } from "../errors/index.ts";

/** Clock and sleep, injectable so rate limiting can be tested without waiting. */
export interface Timer {
  now(): number;
  /**
   * Resolves `ms` from now. When `signal` aborts first, an implementation may
   * settle early and let go of its timer; callers that must stop at once use
   * {@link sleep}, which rejects at the abort whatever the timer does.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * Wall-clock time and `setTimeout`, so a virtual clock that fakes those drives it too.
 *
 * @example
 * const limiter = new RateLimiter(20, 20, realTimer);
 */
export const realTimer: Timer = {
  now: () => performance.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      // Cleared at the abort: an abandoned sleep must not keep a finished process alive.
      const done = () => {
        clearTimeout(timeout);
        resolve();
      };
      const timeout = setTimeout(() => {
        signal?.removeEventListener("abort", done);
        resolve();
      }, ms);
      signal?.addEventListener("abort", done, { once: true });
    }),
};

/**
 * Waits `ms` on `timer`; rejects with the signal's reason as soon as `signal`
 * aborts (at once if it already has), so a back-off never outlives a deadline.
 *
 * @example
 * await sleep(retryDelayMs, deadline.signal);
 */
export function sleep(ms: number, signal?: AbortSignal, timer: Timer = realTimer): Promise<void> {
  return untilAborted(timer.sleep(ms, signal), signal);
}

/**
 * Admits calls at some rate: what an API client waits on before each call,
 * whether the rate is this process's alone or shared with others.
 *
 * @example
 * async function issue(rate: Limiter, signal: AbortSignal) {
 *   await rate.acquire(signal);
 *   return pca.send(new IssueCertificateCommand(input), { abortSignal: signal });
 * }
 */
export interface Limiter {
  /**
   * Resolves when the caller may make one call, callers served in arrival
   * order; rejects with the signal's reason as soon as `signal` aborts.
   */
  acquire(signal?: AbortSignal): Promise<void>;
}

/**
 * Admits at most `ratePerSecond` calls per second on average, with bursts of
 * up to `burst`. Waiters are served in arrival order.
 *
 * @example
 * const issueRate = new RateLimiter(20);
 * await issueRate.acquire();
 * await pca.send(new IssueCertificateCommand(...));
 */
export class RateLimiter implements Limiter {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly ratePerSecond: number,
    readonly burst = Math.max(1, Math.floor(ratePerSecond)),
    private readonly timer: Timer = realTimer,
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError(`rate must be positive, got ${ratePerSecond}`);
    this.tokens = burst;
    this.last = timer.now();
  }

  /**
   * Resolves when the caller may make one call; rejects with the signal's
   * reason as soon as `signal` aborts, without waiting for its turn.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.take());
    this.queue = turn;
    return untilAborted(turn, signal);
  }

  private async take(): Promise<void> {
    this.refill();
    if (this.tokens < 1) {
      await this.timer.sleep(((1 - this.tokens) / this.ratePerSecond) * 1000);
      this.refill();
    }
    this.tokens -= 1;
  }

  private refill(): void {
    const now = this.timer.now();
    this.tokens = Math.min(
      this.burst,
      this.tokens + ((now - this.last) / 1000) * this.ratePerSecond,
    );
    this.last = now;
  }
}

/**
 * Runs `fn` over `items` with at most `concurrency` in flight, preserving
 * order in the result. `shouldStart` is asked before each item starts; once it
 * says no, the remaining items are not started and come back as `undefined`.
 */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
  shouldStart: () => boolean = () => true,
): Promise<Array<R | undefined>> {
  const results: Array<R | undefined> = new Array(items.length).fill(undefined);
  let next = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped && next < items.length) {
      if (!shouldStart()) {
        stopped = true;
        return;
      }
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** Reasons work is abandoned by the limits. */
export const LimitsReason = {
  DEADLINE: "deadline: reached before the work finished",
} as const;
export type LimitsReason = (typeof LimitsReason)[keyof typeof LimitsReason];

/**
 * The reason a deadline signal aborts with: the work was abandoned because time ran out, not because it failed.
 *
 * @example
 * if (signal.reason instanceof DeadlineError) report("not-reached");
 */
export class DeadlineError extends LambdaSvidError {
  declare readonly reason: LimitsReason;

  constructor() {
    super(LimitsReason.DEADLINE);
    this.name = "DeadlineError";
  }
}

/**
 * An AbortSignal that aborts with a {@link DeadlineError} `ms` from now, at
 * once when `ms` is not positive, and never when it is infinite (outside
 * Lambda). `clear` stops the timer once the work is done.
 *
 * @example
 * const deadline = deadlineSignal(context.getRemainingTimeInMillis() - marginMs);
 * try {
 *   await client.send(command, { abortSignal: deadline.signal });
 * } finally {
 *   deadline.clear();
 * }
 */
export function deadlineSignal(ms: number): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  if (ms <= 0) {
    controller.abort(new DeadlineError());
    return { signal: controller.signal, clear: () => {} };
  }
  if (!Number.isFinite(ms)) return { signal: controller.signal, clear: () => {} };
  // Unreferenced: a pending deadline must not keep a finished process alive.
  const timer = setTimeout(() => controller.abort(new DeadlineError()), ms).unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/**
 * Settles as `work` does, unless `signal` aborts first: then rejects with the
 * signal's reason at once. For waits that do not take a signal themselves
 * (older SDK clients' retry back-off, queued turns), so a caller is never
 * held past its deadline; the abandoned work's result is ignored.
 *
 * @example
 * const out = await untilAborted(pca.send(command, { abortSignal: signal }), signal);
 */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const aborted = () => reject(signal.reason);
    signal.addEventListener("abort", aborted, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", aborted);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", aborted);
        reject(err);
      },
    );
  });
}
