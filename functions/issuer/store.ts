import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  ScanCommand,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { z } from "zod";
import { untilAborted } from "../../lib/limits/index.ts";
import { QueueError, QueueReason } from "./errors.ts";
import type { Stage } from "./issue.ts";

/** One account as the registry snapshot holds it: its tags as last read, and when. */
export interface RegistryRecord {
  accountId: string;
  /** `ACTIVE`, or `GONE` once the Organization no longer lists it. */
  status: string;
  tags: Record<string, string>;
  readAt: string;
}

/** The planner queued this account's identity. */
export interface PlanRecord {
  accountId: string;
  plannedAt: string;
  reason: string;
  spiffeId: string;
}

/** What a worker last did for this account's identity; a failure keeps the last good secret's fields. */
export interface StateRecord {
  accountId: string;
  spiffeId: string;
  outcome: "issued" | "checked" | "failed";
  /** The plan this outcome answers. */
  plannedAt: string;
  secretArn?: string;
  versionId?: string;
  notAfter?: string;
  /** When the issuer last wrote or looked at the secret. */
  seenAt?: string;
  failure?: { stage: Stage | "message"; reason: string; at: string };
}

/** Everything the table holds, keyed by account id. */
export interface Snapshot {
  registry: Map<string, RegistryRecord>;
  plans: Map<string, PlanRecord>;
  states: Map<string, StateRecord>;
  /** When ListAccounts last completed. */
  listedAt: string | undefined;
  /** Items that did not have their kind's shape: left out of the maps above, as if absent. */
  malformed: MalformedItem[];
}

/** An item {@link IssuerStore.load} left out: its key and the first field at fault, never a value. */
export interface MalformedItem {
  pk: string;
  sk: string;
  field: string;
}

export type StoreItem =
  | { kind: "registry"; record: RegistryRecord }
  | { kind: "plan"; record: PlanRecord }
  | { kind: "state"; record: StateRecord }
  | { kind: "listing"; listedAt: string };

const ISO = z.iso.datetime({ offset: true });
const ACCOUNT_ID = z.string().regex(/^\d{12}$/);

/** The shape of each item kind as read back: what the planner's decisions rely on. */
const SHAPES = {
  registry: z.object({
    accountId: ACCOUNT_ID,
    status: z.string(),
    tags: z.record(z.string(), z.string()),
    readAt: ISO,
  }),
  plan: z.object({
    accountId: ACCOUNT_ID,
    plannedAt: ISO,
    reason: z.string(),
    spiffeId: z.string(),
  }),
  state: z.object({
    accountId: ACCOUNT_ID,
    spiffeId: z.string(),
    outcome: z.enum(["issued", "checked", "failed"]),
    plannedAt: ISO,
    secretArn: z.string().optional(),
    versionId: z.string().optional(),
    notAfter: ISO.optional(),
    seenAt: ISO.optional(),
    failure: z
      .object({
        stage: z.enum(["access", "describe", "mint", "sign", "verify", "push", "message"]),
        reason: z.string(),
        at: ISO,
      })
      .optional(),
  }),
} as const;

const ORGANIZATION_KEY = "#organization";
/** BatchWriteItem takes at most 25 requests. */
const BATCH = 25;
/** Unprocessed items are written again this many times before the write fails. */
const WRITE_ATTEMPTS = 8;

/**
 * The issuer's memory in one DynamoDB table (key `pk` = account id, `sk` =
 * item kind): the registry snapshot the planner keeps instead of reading every
 * account's tags each run, what it queued, and what the workers did. The
 * planner reads it whole with a paginated Scan (one call per MB, ~5,000
 * accounts); writes go in batches of 25. Each writer owns its item kinds (the
 * planner `registry`, `plan`, `listing`; the workers `state`), so whole-item
 * batch writes never overwrite another writer's fields. An item read back
 * without its kind's shape (edited by hand, written by another version) is
 * left out and listed in `malformed`: the planner then plans its identity
 * afresh instead of deciding from garbage.
 *
 * @example
 * const store = new IssuerStore(new DynamoDBClient({}), "lambda-svid-issuer-state-prod");
 * const snapshot = await store.load(signal);
 * await store.write([{ kind: "plan", record: { accountId, plannedAt, reason: "renew", spiffeId } }], signal);
 */
export class IssuerStore {
  constructor(
    private readonly client: DynamoDBClient,
    readonly table: string,
  ) {}

  /** Reads the whole table. */
  async load(signal?: AbortSignal): Promise<Snapshot> {
    const snapshot: Snapshot = {
      registry: new Map(),
      plans: new Map(),
      states: new Map(),
      listedAt: undefined,
      malformed: [],
    };
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await untilAborted(
        this.client.send(new ScanCommand({ TableName: this.table, ExclusiveStartKey: start }), {
          abortSignal: signal,
        }),
        signal,
      );
      for (const item of page.Items ?? []) addItem(snapshot, unmarshal(item));
      start = page.LastEvaluatedKey;
    } while (start !== undefined && Object.keys(start).length > 0);
    return snapshot;
  }

  /** Writes items in batches of 25, retrying what DynamoDB leaves unprocessed. */
  async write(items: readonly StoreItem[], signal?: AbortSignal): Promise<void> {
    for (let i = 0; i < items.length; i += BATCH) {
      let requests: WriteRequest[] = items
        .slice(i, i + BATCH)
        .map((item) => ({ PutRequest: { Item: marshal(keyed(item)) } }));
      for (let attempt = 1; requests.length > 0; attempt++) {
        const out = await untilAborted(
          this.client.send(
            new BatchWriteItemCommand({ RequestItems: { [this.table]: requests } }),
            { abortSignal: signal },
          ),
          signal,
        );
        requests = out.UnprocessedItems?.[this.table] ?? [];
        if (requests.length > 0 && attempt >= WRITE_ATTEMPTS) {
          throw new QueueError(
            QueueReason.STORE_UNPROCESSED,
            `${requests.length} items of table ${this.table}, ${attempt} attempts`,
          );
        }
        if (requests.length > 0) await backOff(attempt, signal);
      }
    }
  }
}

function backOff(attempt: number, signal: AbortSignal | undefined): Promise<void> {
  const ms = Math.min(1_000, 25 * 2 ** attempt);
  return untilAborted(new Promise((resolve) => setTimeout(resolve, ms)), signal);
}

type Plain = Record<string, unknown>;

function keyed(item: StoreItem): Plain {
  if (item.kind === "listing")
    return { pk: ORGANIZATION_KEY, sk: "listing", listedAt: item.listedAt };
  return { pk: item.record.accountId, sk: item.kind, ...item.record };
}

/** Adds an item to its map once it has its kind's shape; other tables' kinds (`#rate`) are not the snapshot's. */
function addItem(snapshot: Snapshot, item: Plain): void {
  const { pk, sk, ...rest } = item as { pk: string; sk: string } & Plain;
  if (pk === ORGANIZATION_KEY) {
    if (sk !== "listing") return;
    const listedAt = ISO.safeParse(rest.listedAt);
    if (listedAt.success) snapshot.listedAt = listedAt.data;
    else snapshot.malformed.push({ pk, sk, field: "listedAt" });
    return;
  }
  if (sk !== "registry" && sk !== "plan" && sk !== "state") return;
  const parsed = SHAPES[sk].safeParse({ ...rest, accountId: pk });
  if (!parsed.success) {
    snapshot.malformed.push({ pk, sk, field: String(parsed.error.issues[0]?.path[0] ?? "(item)") });
    return;
  }
  if (sk === "registry") snapshot.registry.set(pk, parsed.data as RegistryRecord);
  else if (sk === "plan") snapshot.plans.set(pk, parsed.data as PlanRecord);
  else snapshot.states.set(pk, parsed.data as StateRecord);
}

/** Strings, booleans and maps of them: all the issuer's items hold. Undefined fields are left out. */
function marshal(plain: Plain): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [key, value] of Object.entries(plain)) {
    const attribute = toAttribute(value);
    if (attribute !== undefined) out[key] = attribute;
  }
  return out;
}

function toAttribute(value: unknown): AttributeValue | undefined {
  if (typeof value === "string") return { S: value };
  if (typeof value === "boolean") return { BOOL: value };
  if (typeof value === "object" && value !== null) return { M: marshal(value as Plain) };
  return undefined;
}

function unmarshal(item: Record<string, AttributeValue>): Plain {
  const out: Plain = {};
  for (const [key, value] of Object.entries(item)) {
    if (value.S !== undefined) out[key] = value.S;
    else if (value.BOOL !== undefined) out[key] = value.BOOL;
    else if (value.M !== undefined) out[key] = unmarshal(value.M);
  }
  return out;
}
