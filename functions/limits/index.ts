/**
 * Bounds on how hard the functions push on AWS APIs: a token-bucket rate
 * limiter for per-second API quotas and a bounded-concurrency map.
 */

/** Clock and sleep, injectable so rate limiting can be tested without waiting. */
export interface Timer {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realTimer: Timer = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Admits at most `ratePerSecond` calls per second on average, with bursts of
 * up to `burst`. Waiters are served in arrival order.
 *
 * @example
 * const issueRate = new RateLimiter(20);
 * await issueRate.acquire();
 * await pca.send(new IssueCertificateCommand(...));
 */
export class RateLimiter {
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

  /** Resolves when the caller may make one call. */
  acquire(): Promise<void> {
    const turn = this.queue.then(() => this.take());
    this.queue = turn;
    return turn;
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
