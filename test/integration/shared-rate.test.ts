/**
 * The IssueCertificate rate shared by all issuer workers, against the state
 * table in the emulator: each limiter has its own DynamoDB client, as each
 * worker process does, and they meet only in the table.
 */
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import type { InitializeHandler, InitializeHandlerArguments, MetadataBearer } from "@smithy/types";
import { beforeAll, describe, expect, it } from "vitest";
import { QueueError, QueueReason } from "../../functions/issuer/errors.ts";
import { SharedRateLimiter } from "../../functions/issuer/rate.ts";
import { DeadlineError } from "../../lib/limits/index.ts";
import { type CallCount, countCalls } from "../emulator/faults.ts";
import { createQueuedResources } from "./issuer-queued-harness.ts";

let table: string;

beforeAll(async () => {
  ({ table } = await createQueuedResources(3, 30));
});

let budgets = 0;

/** Limiters on one fresh budget of the table, each with its own client and call count. */
function processes(count: number, ratePerSecond: number, options: { lease?: number } = {}) {
  const name = `test-${++budgets}`;
  return Array.from({ length: count }, () => {
    const client = new DynamoDBClient({});
    const calls = countCalls(client);
    const limiter = new SharedRateLimiter({ client, table, name, ratePerSecond, ...options });
    return { client, calls, limiter };
  });
}

/** Table calls a limiter made: its leases, their retries and its reads. */
function tableCalls(calls: CallCount): number {
  return calls.count("UpdateItem") + calls.count("GetItem");
}

/**
 * Acquires with `inFlight` callers at once, as a worker's identities do, until
 * `ms` have passed; returns when each token was admitted (wall clock).
 */
async function saturate(limiter: SharedRateLimiter, ms: number, inFlight = 8): Promise<number[]> {
  const admitted: number[] = [];
  const stop = AbortSignal.timeout(ms);
  const caller = async () => {
    while (!stop.aborted) {
      try {
        await limiter.acquire(stop);
      } catch (err) {
        if (stop.aborted) return;
        throw err;
      }
      admitted.push(Date.now());
    }
  };
  await Promise.all(Array.from({ length: inFlight }, caller));
  return admitted;
}

/** The most tokens admitted in any `windowMs` (half-open) window. */
function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let first = 0, last = 0; last < sorted.length; last++) {
    while ((sorted[last] as number) - (sorted[first] as number) >= windowMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/** Drops `ReturnValuesOnConditionCheckFailure` from every request, as a DynamoDB without it would answer. */
function withoutOldValues(client: DynamoDBClient): void {
  client.middlewareStack.add(
    (next: InitializeHandler<object, MetadataBearer>) =>
      (args: InitializeHandlerArguments<object>) => {
        const { ReturnValuesOnConditionCheckFailure: _, ...input } = args.input as Record<
          string,
          unknown
        >;
        return next({ ...args, input });
      },
    { step: "initialize", name: "withoutOldValues" },
  );
}

describe("SharedRateLimiter on the state table", () => {
  it("leases half a second of the rate at a time by default", () => {
    const [one] = processes(1, 25);
    const [slow] = processes(1, 1);
    expect(one?.limiter.lease).toBe(13);
    expect(slow?.limiter.lease).toBe(1);
  });

  it("gives one limiter alone at least 95% of the rate, with one table call per lease", async ({
    annotate,
  }) => {
    const [alone] = processes(1, 10);
    if (alone === undefined) throw new Error("no process");
    const ms = 3_000;
    const admitted = await saturate(alone.limiter, ms);
    const rate = admitted.length / (ms / 1000);
    const calls = tableCalls(alone.calls);
    await annotate(
      `shared rate, one limiter alone: ${rate.toFixed(2)}/s of 10/s (${((rate / 10) * 100).toFixed(1)}%, goal >= 95%); ` +
        `${calls} table calls for ${admitted.length} tokens (${(calls / admitted.length).toFixed(3)}/token, lease ${alone.limiter.lease}: floor ${(1 / alone.limiter.lease).toFixed(3)})`,
    );
    expect(rate).toBeGreaterThanOrEqual(9.5);
    expect(busiestWindow(admitted, 1_000)).toBeLessThanOrEqual(10 + 1);
    expect(calls).toBeLessThanOrEqual(Math.ceil(admitted.length / alone.limiter.lease) + 1);
    expect(alone.calls.count("GetItem")).toBe(0);
  });

  it("keeps two limiters together within the rate plus one lease, each getting a fair part", async ({
    annotate,
  }) => {
    const [a, b] = processes(2, 10);
    if (a === undefined || b === undefined) throw new Error("no process");
    const ms = 3_000;
    const [fromA, fromB] = await Promise.all([saturate(a.limiter, ms), saturate(b.limiter, ms)]);
    const all = [...fromA, ...fromB];
    const lease = a.limiter.lease;
    const calls = tableCalls(a.calls) + tableCalls(b.calls);
    await annotate(
      `shared rate, two limiters: ${fromA.length} + ${fromB.length} tokens in ${ms / 1000} s = ${(all.length / (ms / 1000)).toFixed(2)}/s of 10/s; ` +
        `busiest second ${busiestWindow(all, 1_000)} (limit 10 + lease ${lease}); ` +
        `${calls} table calls (${(calls / all.length).toFixed(3)}/token, lease ${lease}: floor ${(1 / lease).toFixed(3)})`,
    );
    expect(all.length).toBeLessThanOrEqual(10 * (ms / 1000) + lease + 1);
    expect(all.length).toBeGreaterThanOrEqual(0.9 * 10 * (ms / 1000));
    expect(busiestWindow(all, 1_000)).toBeLessThanOrEqual(10 + lease + 1);
    for (const part of [fromA, fromB]) expect(part.length).toBeGreaterThanOrEqual(0.3 * all.length);
    // Busy limiters append to the budget without colliding: one call per lease, plus the
    // second limiter's first (it finds the budget in use), a lease each may end using in
    // part, and a restart tried first by a limiter that asks only after its lease ended.
    expect(calls).toBeLessThanOrEqual(Math.ceil(all.length / lease) + 6);
  });

  it("a limiter with one waiter at a time leases one slot, leaving the rest of the rate to a busy one", async ({
    annotate,
  }) => {
    const [quiet, busy] = processes(2, 10);
    if (quiet === undefined || busy === undefined) throw new Error("no process");
    const ms = 3_000;
    const stop = AbortSignal.timeout(ms);
    const fromQuiet: number[] = [];
    const trickle = async () => {
      while (!stop.aborted) {
        await quiet.limiter.acquire();
        fromQuiet.push(Date.now());
        // Longer than a full lease lasts: a full lease would leave all but one of its slots unused.
        await new Promise((resolve) => setTimeout(resolve, 600));
      }
    };
    const [, fromBusy] = await Promise.all([trickle(), saturate(busy.limiter, ms)]);
    const all = [...fromQuiet, ...fromBusy];
    const rate = all.length / (ms / 1000);
    await annotate(
      `shared rate, a one-waiter limiter beside a busy one: ${fromQuiet.length} + ${fromBusy.length} tokens in ${ms / 1000} s = ` +
        `${rate.toFixed(2)}/s of 10/s (${((rate / 10) * 100).toFixed(1)}%); the quiet one made ${tableCalls(quiet.calls)} table calls ` +
        `for ${fromQuiet.length} tokens, the busy one ${tableCalls(busy.calls)} for ${fromBusy.length} (lease ${busy.limiter.lease})`,
    );
    expect(all.length).toBeGreaterThanOrEqual(0.9 * 10 * (ms / 1000));
    expect(busiestWindow(all, 1_000)).toBeLessThanOrEqual(10 + busy.limiter.lease + 1);
  });

  it("rejects a waiter at once with its signal's reason, and its slot goes to the next waiter", async () => {
    const [one] = processes(1, 2, { lease: 1 });
    if (one === undefined) throw new Error("no process");
    await one.limiter.acquire();
    const first = Date.now();

    const controller = new AbortController();
    const waiting = one.limiter.acquire(controller.signal);
    let abortedAt = 0;
    setTimeout(() => {
      abortedAt = Date.now();
      controller.abort(new DeadlineError());
    }, 50);
    await expect(waiting).rejects.toBeInstanceOf(DeadlineError);
    expect(Date.now() - abortedAt).toBeLessThan(20);

    // The aborted waiter's slot, 500 ms after the first, is the next waiter's: not one 500 ms later.
    await one.limiter.acquire();
    expect(Date.now() - first).toBeLessThan(800);
    expect(one.calls.count("UpdateItem")).toBe(2);

    const aborted = AbortSignal.abort(new DeadlineError());
    await expect(one.limiter.acquire(aborted)).rejects.toBeInstanceOf(DeadlineError);
    expect(one.calls.count("UpdateItem")).toBe(2);
  });

  it("learns the current nextFree from the failed condition when its own is stale, and takes slots after it", async () => {
    const [a, b] = processes(2, 10);
    if (a === undefined || b === undefined) throw new Error("no process");
    await b.limiter.acquire();
    const start = Date.now();
    for (let i = 0; i < 15; i++) await a.limiter.acquire();
    const before = b.calls.count("UpdateItem");

    await b.limiter.acquire();
    // One waiter at a time leases one slot: B's first lease covered 100 ms and A's fifteen the
    // next 1.5 s; B's slot is after all of them.
    expect(Date.now() - start).toBeGreaterThanOrEqual(1_500);
    expect(b.calls.count("UpdateItem") - before).toBe(2);
    expect(b.calls.count("GetItem")).toBe(0);
  });

  it("reads nextFree with one GetItem when the failed condition does not return it", async () => {
    const [a, b] = processes(2, 10);
    if (a === undefined || b === undefined) throw new Error("no process");
    withoutOldValues(b.client);
    // One waiter: A leases one slot, 100 ms from a moment no earlier than this (taking the time
    // after A's acquire returned would put the lease's end late by however long that took).
    const aLeaseEnd = Date.now() + 100;
    await a.limiter.acquire();

    await b.limiter.acquire();
    expect(Date.now()).toBeGreaterThanOrEqual(aLeaseEnd - 5);
    expect(b.calls.count("UpdateItem")).toBe(2);
    expect(b.calls.count("GetItem")).toBe(1);
  });

  it("converges when four limiters contend from stale values, without exceeding the rate", async ({
    annotate,
  }) => {
    const limiters = processes(4, 10);
    // Each has seen the budget once; from then on every value it holds is stale.
    for (const { limiter } of limiters) await limiter.acquire();
    const ms = 2_000;
    const parts = await Promise.all(limiters.map(({ limiter }) => saturate(limiter, ms, 4)));
    const all = parts.flat();
    const lease = limiters[0]?.limiter.lease ?? 0;
    const calls = limiters.reduce((sum, { calls }) => sum + tableCalls(calls), 0);
    await annotate(
      `shared rate, four contending limiters: ${parts.map((p) => p.length).join(" + ")} tokens in ${ms / 1000} s ` +
        `(busiest second ${busiestWindow(all, 1_000)}, limit 10 + lease ${lease}); ${calls} table calls in all`,
    );
    expect(busiestWindow(all, 1_000)).toBeLessThanOrEqual(10 + lease + 1);
    expect(all.length).toBeGreaterThanOrEqual(0.8 * 10 * (ms / 1000));
  });

  it("fails every waiter with QueueError when the rate item's nextFree is not a number", async () => {
    const [one] = processes(1, 10);
    if (one === undefined) throw new Error("no process");
    await one.client.send(
      new PutItemCommand({
        TableName: table,
        Item: { pk: { S: "#rate" }, sk: { S: `test-${budgets}` }, nextFree: { S: "soon" } },
      }),
    );
    const waiting = [one.limiter.acquire(), one.limiter.acquire()];
    for (const result of await Promise.allSettled(waiting)) {
      expect(result.status).toBe("rejected");
      const reason = (result as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(QueueError);
      expect(reason.reason).toBe(QueueReason.RATE_ITEM_INVALID);
      expect(reason.message).toBe(
        `${QueueReason.RATE_ITEM_INVALID}: table ${table}, item #rate/test-${budgets}`,
      );
    }
  });
});
