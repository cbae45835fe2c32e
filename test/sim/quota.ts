/**
 * A service quota as AWS enforces it: a token bucket per operation (and per
 * account where AWS counts per account), refilled on the clock the model runs
 * on, so under fake timers a quota is a rate in virtual time. A request that
 * finds the bucket empty is refused at once with the service's throttling
 * error; the SDK's retry strategy then backs off, as it would against AWS.
 */

/** Requests per second, and how many may come at once. */
export interface Quota {
  ratePerSecond: number;
  /** Defaults to one second's worth. */
  burst?: number;
}

/**
 * One token bucket, on `Date.now()` (the virtual clock under fake timers).
 *
 * @example
 * const issue = new TokenBucket({ ratePerSecond: 25 });
 * if (!issue.take()) throw new AwsError("ThrottlingException", "Rate exceeded");
 */
export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly burst: number;

  constructor(private readonly quota: Quota) {
    this.burst = quota.burst ?? Math.max(1, quota.ratePerSecond);
    this.tokens = this.burst;
    this.last = Date.now();
  }

  /** Takes `n` tokens when there are that many; `false` (nothing taken) when not. */
  take(n = 1): boolean {
    this.refill();
    if (this.tokens < n) return false;
    this.tokens -= n;
    return true;
  }

  /** Takes as many of `n` as there are whole tokens for; returns how many. */
  takeUpTo(n: number): number {
    this.refill();
    const granted = Math.max(0, Math.min(n, Math.floor(this.tokens)));
    this.tokens -= granted;
    return granted;
  }

  private refill(): void {
    const now = Date.now();
    // A clock set back (a virtual clock installed after the bucket was made) refills nothing.
    const elapsed = Math.max(0, now - this.last);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.quota.ratePerSecond);
    this.last = now;
  }
}

/**
 * Buckets by key (`"IssueCertificate"`, `"111122223333 PutSecretValue"`), made on first use from a quota table.
 *
 * @example
 * const quotas = new Quotas({ IssueCertificate: { ratePerSecond: 25 } });
 * quotas.admit("IssueCertificate"); // false once 25 came within the second
 */
export class Quotas {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(private readonly table: Readonly<Record<string, Quota | undefined>>) {}

  /** `true` when `operation` (an operation without a quota always) may proceed, counted under `scope`. */
  admit(operation: string, scope = ""): boolean {
    const bucket = this.bucket(operation, scope);
    return bucket === undefined || bucket.take();
  }

  /** The bucket of `operation` under `scope`; `undefined` when the operation has no quota. */
  bucket(operation: string, scope = ""): TokenBucket | undefined {
    const quota = this.table[operation];
    if (quota === undefined) return undefined;
    const key = `${scope} ${operation}`;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = new TokenBucket(quota);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }
}
