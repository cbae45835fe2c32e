import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { type Limiter, realTimer, type Timer } from "../../lib/limits/index.ts";
import { QueueError, QueueReason } from "./errors.ts";

/** Partition key of the rate items in the state table; an account id never starts with `#`. */
const RATE_KEY = "#rate";
/** A lease covers this much of the shared rate unless `lease` says otherwise. */
const LEASE_SECONDS = 0.5;

/**
 * Wall-clock time (`Date.now`) and `setTimeout`. Slots are compared across
 * processes, so the clock must be one they share: Lambda hosts keep wall time
 * in step with the Amazon Time Sync Service (well under a millisecond apart),
 * whereas `performance.now` counts from each process's own start.
 *
 * @example
 * const limiter = new SharedRateLimiter({ client, table, name: "issue-certificate", ratePerSecond: 20, timer: wallTimer });
 */
export const wallTimer: Timer = { now: () => Date.now(), sleep: realTimer.sleep };

/**
 * Where a {@link SharedRateLimiter} keeps its budget, and how fast it admits.
 *
 * @example
 * const options: SharedRateOptions = { client, table, name: "issue-certificate", ratePerSecond: 20, lease: 10 };
 */
export interface SharedRateOptions {
  client: DynamoDBClient;
  /** The issuer's state table (key `pk` + `sk`, both strings). */
  table: string;
  /** The budget's sort key under pk `#rate`, e.g. `issue-certificate`; limiters with the same name share one rate. */
  name: string;
  /** Calls per second that all processes together may make. */
  ratePerSecond: number;
  /**
   * Most slots taken from the table at a time; defaults to half a second of
   * the rate (at least 1). A lease takes no more slots than the process has
   * waiters, since a slot its process does not use is lost to the others;
   * larger leases cost fewer table writes when the demand fills them.
   */
  lease?: number;
  /** Wall clock and sleep; {@link wallTimer} unless a test drives time. */
  timer?: Timer;
}

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
}

/**
 * A {@link Limiter} whose rate is one budget for every process that names the
 * same item of the state table (pk `#rate`, sk `name`), so workers that run at
 * once never exceed it together and a worker that runs alone gets all of it.
 *
 * The item holds `nextFree`, the wall-clock millisecond from which no slot is
 * taken yet. A process that needs a slot LEASES as many as it has waiters, at
 * most `lease`, the time `n / rate` for `n` slots, with one conditional
 * UpdateItem: while the budget is in use
 * (`nextFree` not past) it adds that time to `nextFree` and takes the slots
 * before the new value, so processes that are all busy never collide; when
 * the budget is idle (absent or past) it sets `nextFree` to now plus that
 * time. Which of the two it tries follows from the value it last saw; when
 * the condition fails, DynamoDB answers with the current value
 * (ReturnValuesOnConditionCheckFailure, else one consistent GetItem) and the
 * process tries the other; each failure means the budget changed state, so
 * the processes together always progress. The slots of a lease
 * are handed to this process's waiters, in arrival order, each no earlier
 * than its time; slots left unused for longer than a lease lasts are dropped,
 * so the tokens admitted in any window of `w` seconds, by all processes
 * together, are at most `rate × w` plus one lease. A process at full demand
 * writes to the table about once per `lease` tokens, whatever the number of
 * processes (twice when a process that was idle finds the budget in use); one
 * with a single waiter at a time writes once per token and holds no slot it
 * does not use. A waiter that aborts leaves
 * at once and does not use up its slot.
 *
 * Correct within the processes' clock skew: a process whose clock runs `d`
 * ahead may take `d × rate` slots early.
 *
 * @example
 * const issueRate = new SharedRateLimiter({
 *   client: new DynamoDBClient({}),
 *   table: "lambda-svid-issuer-state-prod",
 *   name: "issue-certificate",
 *   ratePerSecond: 20,
 * });
 * await issueRate.acquire(signal);
 */
export class SharedRateLimiter implements Limiter {
  readonly lease: number;
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly key: Record<string, AttributeValue>;
  private readonly timer: Timer;
  private readonly intervalMs: number;
  /** How long the largest lease lasts: slots unused for longer are dropped. */
  private readonly leaseMs: number;
  /** `nextFree` as this process last wrote or read it; undefined before the first lease or while the item is absent. */
  private seen: number | undefined;
  /** The current lease of `size` slots: slot `i` is due at `start + i × intervalMs`; slots before `next` are used. */
  private slots = { start: 0, next: 0, size: 0 };
  private readonly waiters: Waiter[] = [];
  private pumping = false;
  /** Wakes the pump from its wait for a slot once no waiter is left. */
  private idle: AbortController | undefined;

  constructor(options: SharedRateOptions) {
    const { ratePerSecond } = options;
    if (!(ratePerSecond > 0)) throw new RangeError(`rate must be positive, got ${ratePerSecond}`);
    this.lease = options.lease ?? Math.max(1, Math.round(ratePerSecond * LEASE_SECONDS));
    if (!(Number.isInteger(this.lease) && this.lease >= 1))
      throw new RangeError(`lease must be a positive integer, got ${this.lease}`);
    this.client = options.client;
    this.table = options.table;
    this.key = { pk: { S: RATE_KEY }, sk: { S: options.name } };
    this.timer = options.timer ?? wallTimer;
    this.intervalMs = 1000 / ratePerSecond;
    this.leaseMs = this.lease * this.intervalMs;
  }

  /**
   * Resolves at this caller's slot; rejects with the signal's reason as soon
   * as `signal` aborts, or with the table's error when no lease can be written.
   */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const aborted = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        if (this.waiters.length === 0) this.idle?.abort();
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener("abort", aborted);
          resolve();
        },
        reject: (reason) => {
          signal?.removeEventListener("abort", aborted);
          reject(reason);
        },
      };
      signal?.addEventListener("abort", aborted, { once: true });
      this.waiters.push(waiter);
      if (!this.pumping) void this.pump();
    });
  }

  /** Hands slots to waiters until none is left; the only place slots are used and leases taken. */
  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.waiters.length > 0) {
        const due = this.nextSlot();
        if (due === undefined) {
          await this.takeLease();
          continue;
        }
        const wait = due - this.timer.now();
        if (wait > 0) {
          this.idle = new AbortController();
          await this.timer.sleep(wait, this.idle.signal);
          this.idle = undefined;
          continue;
        }
        this.slots.next++;
        this.waiters.shift()?.resolve();
      }
    } catch (err) {
      for (const waiter of this.waiters.splice(0)) waiter.reject(err);
    } finally {
      this.pumping = false;
    }
  }

  /** When the next usable slot of the current lease is due, skipping slots unused for longer than a lease lasts. */
  private nextSlot(): number | undefined {
    const { start } = this.slots;
    const recent = Math.ceil((this.timer.now() - this.leaseMs - start) / this.intervalMs);
    this.slots.next = Math.max(this.slots.next, recent);
    if (this.slots.next >= this.slots.size) return undefined;
    return start + this.slots.next * this.intervalMs;
  }

  /**
   * Moves `nextFree` past a new lease. While the budget is in use (`nextFree`
   * not yet past) the lease is appended to it atomically, so busy processes
   * never collide; an idle budget (absent or past) restarts from now with a
   * conditional SET. The last value seen says which to try; a failed
   * condition returns the current value, and the other one is tried.
   */
  private async takeLease(): Promise<void> {
    while (this.waiters.length > 0) {
      // Whole milliseconds, so stored values add and compare exactly.
      const now = Math.ceil(this.timer.now());
      const size = Math.min(this.lease, this.waiters.length);
      const step = Math.ceil(size * this.intervalMs);
      const busy = this.seen !== undefined && this.seen >= now;
      let end: number;
      try {
        end = busy ? await this.append(now, step) : await this.restart(now, step);
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
        this.seen = err.Item !== undefined ? this.nextFreeOf(err.Item) : await this.read();
        continue;
      }
      this.seen = end;
      this.slots = { start: end - step, next: 0, size };
      return;
    }
  }

  /** `nextFree += step` if it is not past; returns the new value. */
  private async append(now: number, step: number): Promise<number> {
    const out = await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: this.key,
        UpdateExpression: "SET nextFree = nextFree + :lease",
        ConditionExpression: "attribute_type(nextFree, :number) AND nextFree >= :now",
        ExpressionAttributeValues: {
          ":lease": { N: String(step) },
          ":now": { N: String(now) },
          ":number": { S: "N" },
        },
        ReturnValues: "UPDATED_NEW",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    const end = this.nextFreeOf(out.Attributes ?? {});
    if (end === undefined) throw this.invalid();
    return end;
  }

  /** `nextFree = now + step` if it is absent or past; returns the new value. */
  private async restart(now: number, step: number): Promise<number> {
    const end = now + step;
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: this.key,
        UpdateExpression: "SET nextFree = :end",
        // A nextFree that is not a number fails both conditions and is reported from the old item.
        ConditionExpression:
          "attribute_not_exists(nextFree) OR (attribute_type(nextFree, :number) AND nextFree < :now)",
        ExpressionAttributeValues: {
          ":end": { N: String(end) },
          ":now": { N: String(now) },
          ":number": { S: "N" },
        },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      }),
    );
    return end;
  }

  private async read(): Promise<number | undefined> {
    const out = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: this.key, ConsistentRead: true }),
    );
    return out.Item === undefined ? undefined : this.nextFreeOf(out.Item);
  }

  private nextFreeOf(item: Record<string, AttributeValue>): number | undefined {
    const attribute = item.nextFree;
    if (attribute === undefined) return undefined;
    const value = attribute.N === undefined ? Number.NaN : Number(attribute.N);
    if (!Number.isFinite(value)) throw this.invalid();
    return value;
  }

  private invalid(): QueueError {
    return new QueueError(
      QueueReason.RATE_ITEM_INVALID,
      `table ${this.table}, item ${RATE_KEY}/${this.key.sk?.S}`,
    );
  }
}
