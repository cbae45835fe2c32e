/**
 * DynamoDB (JSON 1.0) on-demand tables keyed by a hash and a range key:
 * Scan (pages by Limit and by 1 MB, ExclusiveStartKey / LastEvaluatedKey,
 * parallel Segment / TotalSegments), BatchWriteItem (at most 25 requests;
 * what the table's write throughput cannot take this second comes back as
 * UnprocessedItems, all of it as ProvisionedThroughputExceededException),
 * GetItem, and PutItem and UpdateItem with the conditions and updates of
 * expressions.ts (ConditionalCheckFailedException, with the item when asked). Request units are counted as AWS bills them: a write 1 per KB of
 * item, an eventually consistent read half a unit per 4 KB read.
 */
import { AwsError } from "./errors.ts";
import { applyUpdate, type Expression, meets } from "./expressions.ts";
import { type Quota, TokenBucket } from "./quota.ts";
import {
  invalid,
  type Operation,
  requireString,
  type ServiceBehaviour,
  ServiceModel,
} from "./service.ts";

/** DynamoDB's latency; throughput is per table ({@link ON_DEMAND_THROUGHPUT}). */
export const DYNAMODB_DEFAULTS: ServiceBehaviour = {
  latencyMs: { default: 8 },
  quotas: {},
};
/** A new on-demand table's throughput before it scales. */
export const ON_DEMAND_THROUGHPUT: { read: Quota; write: Quota } = {
  read: { ratePerSecond: 12_000, burst: 36_000 },
  write: { ratePerSecond: 4_000, burst: 12_000 },
};

const MAX_BATCH_WRITE = 25;
const PAGE_BYTES = 1_048_576;

type Item = Record<string, Record<string, unknown>>;

interface Stored {
  item: Item;
  size: number;
}

class Table {
  /** Position → key, in insertion order; a deleted item leaves `undefined`. */
  readonly keys: (string | undefined)[] = [];
  readonly position = new Map<string, number>();
  readonly items = new Map<string, Stored>();
  readonly read: TokenBucket;
  readonly write: TokenBucket;

  constructor(
    readonly hashKey: string,
    readonly rangeKey: string | undefined,
    throughput: { read: Quota; write: Quota },
  ) {
    this.read = new TokenBucket(throughput.read);
    this.write = new TokenBucket(throughput.write);
  }

  keyOf(item: Item): string {
    const hash = item[this.hashKey];
    const range = this.rangeKey === undefined ? undefined : item[this.rangeKey];
    if (hash === undefined || (this.rangeKey !== undefined && range === undefined)) {
      throw invalid("One of the required keys was not given a value");
    }
    return `${scalar(hash)}\u0000${range === undefined ? "" : scalar(range)}`;
  }

  put(item: Item): number {
    const key = this.keyOf(item);
    const size = itemSize(item);
    if (!this.position.has(key)) {
      this.position.set(key, this.keys.length);
      this.keys.push(key);
    }
    this.items.set(key, { item, size });
    return size;
  }

  delete(key: string): void {
    const at = this.position.get(key);
    if (at !== undefined) this.keys[at] = undefined;
    this.position.delete(key);
    this.items.delete(key);
  }
}

/**
 * @example
 * const dynamodb = new DynamoDbModel();
 * dynamodb.createTable("lambda-svid-issuer-state-dev", "pk", "sk");
 */
export class DynamoDbModel extends ServiceModel {
  /** Request units consumed, as on-demand billing counts them. */
  readonly units = { read: 0, write: 0 };
  protected readonly operations: Record<string, Operation>;
  private readonly tables = new Map<string, Table>();

  constructor(behaviour: ServiceBehaviour = DYNAMODB_DEFAULTS) {
    super(
      "DynamoDB",
      { kind: "json", target: "DynamoDB_20120810", version: "1.0" },
      { code: "ThrottlingException", message: "Rate of requests exceeds the allowed throughput." },
      behaviour,
    );
    this.operations = {
      Scan: (input) => this.scan(input),
      BatchWriteItem: (input) => this.batchWrite(input),
      PutItem: (input) => {
        const item = (input.Item ?? {}) as Item;
        return this.write(input, item, () => ({ item, touched: new Set(Object.keys(item)) }));
      },
      UpdateItem: (input) => {
        const key = (input.Key ?? {}) as Item;
        const update = requireString(input, "UpdateExpression");
        return this.write(input, key, (old) => applyUpdate(old, key, update, expression(input)));
      },
      GetItem: (input) => {
        const table = this.table(requireString(input, "TableName"));
        const stored = table.items.get(table.keyOf((input.Key ?? {}) as Item));
        const units =
          Math.max(1, Math.ceil((stored?.size ?? 0) / 4096)) / (input.ConsistentRead ? 1 : 2);
        this.units.read += units;
        return stored === undefined ? {} : { Item: stored.item };
      },
    };
  }

  createTable(
    name: string,
    hashKey: string,
    rangeKey?: string,
    throughput = ON_DEMAND_THROUGHPUT,
  ): void {
    this.tables.set(name, new Table(hashKey, rangeKey, throughput));
  }

  /** Items in a table and their total size, for the simulation's figures. */
  tableSize(name: string): { items: number; bytes: number } {
    let bytes = 0;
    const table = this.table(name);
    for (const s of table.items.values()) bytes += s.size;
    return { items: table.items.size, bytes };
  }

  private table(name: string): Table {
    const table = this.tables.get(name);
    if (table === undefined) {
      throw new AwsError("ResourceNotFoundException", "Requested resource not found");
    }
    return table;
  }

  /**
   * One conditional write of the item at `key`: the condition is checked
   * against the item as it is, a failed one costs a write unit and answers
   * ConditionalCheckFailedException (with the item when asked), and
   * ReturnValues (NONE, ALL_OLD, ALL_NEW, UPDATED_OLD, UPDATED_NEW) says what comes back.
   */
  private write(
    input: Record<string, unknown>,
    key: Item,
    change: (old: Item | undefined) => { item: Item; touched: Set<string> },
  ) {
    const table = this.table(requireString(input, "TableName"));
    const id = table.keyOf(key);
    const old = table.items.get(id)?.item;
    if (!table.write.take(1)) {
      throw new AwsError(
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
      );
    }
    const e = expression(input);
    if (!meets(old, input.ConditionExpression as string | undefined, e)) {
      this.units.write += 1;
      throw new AwsError(
        "ConditionalCheckFailedException",
        "The conditional request failed",
        400,
        input.ReturnValuesOnConditionCheckFailure === "ALL_OLD" && old !== undefined
          ? { Item: old }
          : {},
      );
    }
    const { item, touched } = change(old);
    if (table.keyOf(item) !== id)
      throw invalid("Cannot update attribute pk. This attribute is part of the key");
    const size = table.put(item);
    this.units.write += Math.max(1, Math.ceil(size / 1024));
    const only = (from: Item | undefined) =>
      from && Object.fromEntries(Object.entries(from).filter(([k]) => touched.has(k)));
    const returned = {
      ALL_OLD: old,
      ALL_NEW: item,
      UPDATED_OLD: only(old),
      UPDATED_NEW: only(item),
    }[String(input.ReturnValues ?? "NONE")];
    return returned === undefined ? {} : { Attributes: returned };
  }

  private scan(input: Record<string, unknown>) {
    const table = this.table(requireString(input, "TableName"));
    const limit = input.Limit === undefined ? Number.POSITIVE_INFINITY : Number(input.Limit);
    const segments = Number(input.TotalSegments ?? 1);
    const segment = Number(input.Segment ?? 0);
    let at = 0;
    if (input.ExclusiveStartKey !== undefined) {
      const start = table.position.get(table.keyOf(input.ExclusiveStartKey as Item));
      if (start === undefined) throw invalid("The provided starting key is invalid");
      at = start + 1;
    }
    at += (((segment - at) % segments) + segments) % segments;
    const items: Item[] = [];
    let bytes = 0;
    let last: Item | undefined;
    for (; at < table.keys.length; at += segments) {
      if (items.length >= limit || bytes >= PAGE_BYTES) break;
      const key = table.keys[at];
      if (key === undefined) continue;
      const stored = table.items.get(key) as Stored;
      items.push(stored.item);
      bytes += stored.size;
      last = stored.item;
    }
    const units = Math.max(1, Math.ceil(bytes / 4096)) / 2;
    if (!table.read.take(units)) {
      throw new AwsError(
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
      );
    }
    this.units.read += units;
    const more = at < table.keys.length && last !== undefined;
    return {
      Items: items,
      Count: items.length,
      ScannedCount: items.length,
      ...(more ? { LastEvaluatedKey: keyAttributes(table, last as Item) } : {}),
      ...(input.ReturnConsumedCapacity && input.ReturnConsumedCapacity !== "NONE"
        ? { ConsumedCapacity: { TableName: input.TableName, CapacityUnits: units } }
        : {}),
    };
  }

  private batchWrite(input: Record<string, unknown>) {
    const requests = (input.RequestItems ?? {}) as Record<
      string,
      Record<string, { Item?: Item; Key?: Item }>[]
    >;
    const all = Object.entries(requests).flatMap(([name, list]) => list.map((r) => ({ name, r })));
    if (all.length === 0 || all.length > MAX_BATCH_WRITE) {
      throw invalid(
        `1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to ${MAX_BATCH_WRITE}, Member must have length greater than or equal to 1]`,
      );
    }
    const seen = new Set<string>();
    const planned = all.map(({ name, r }) => {
      const table = this.table(name);
      const item = r.PutRequest?.Item ?? r.DeleteRequest?.Key;
      if (item === undefined)
        throw invalid(
          "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        );
      const key = `${name}\u0001${table.keyOf(item)}`;
      if (seen.has(key)) throw invalid("Provided list of item keys contains duplicates");
      seen.add(key);
      return {
        name,
        r,
        table,
        units: r.PutRequest ? Math.max(1, Math.ceil(itemSize(item) / 1024)) : 1,
      };
    });
    const unprocessed: Record<string, unknown[]> = {};
    let processed = 0;
    for (const p of planned) {
      if (!p.table.write.take(p.units)) {
        unprocessed[p.name] = [...(unprocessed[p.name] ?? []), p.r];
        continue;
      }
      processed++;
      this.units.write += p.units;
      if (p.r.PutRequest?.Item) p.table.put(p.r.PutRequest.Item);
      else p.table.delete(p.table.keyOf(p.r.DeleteRequest?.Key as Item));
    }
    if (processed === 0) {
      throw new AwsError(
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
      );
    }
    return { UnprocessedItems: unprocessed };
  }
}

function expression(input: Record<string, unknown>): Expression {
  return {
    names: input.ExpressionAttributeNames as Record<string, string> | undefined,
    values: input.ExpressionAttributeValues as Record<string, Record<string, unknown>> | undefined,
  };
}

function scalar(value: Record<string, unknown>): string {
  return String(value.S ?? value.N ?? value.B ?? "");
}

function keyAttributes(table: Table, item: Item): Item {
  const key: Item = { [table.hashKey]: item[table.hashKey] as Record<string, unknown> };
  if (table.rangeKey !== undefined)
    key[table.rangeKey] = item[table.rangeKey] as Record<string, unknown>;
  return key;
}

/** An item's size approximated by its JSON text: a little above what DynamoDB counts (names plus values), never below. */
function itemSize(item: Item): number {
  return Buffer.byteLength(JSON.stringify(item));
}
