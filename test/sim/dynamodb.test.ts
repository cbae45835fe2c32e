import {
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  ScanCommand,
  UpdateItemCommand,
  type WriteRequest,
} from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { withModel } from "./harness.ts";

const TABLE = "lambda-svid-issuer-state-sim";

const put = (pk: string, sk: string, padding = 0): WriteRequest => ({
  PutRequest: { Item: { pk: { S: pk }, sk: { S: sk }, pad: { S: "x".repeat(padding) } } },
});

describe("modelled DynamoDB", () => {
  it("writes at most 25 requests a batch and scans them back in pages by Limit", async () => {
    await withModel({}, async (aws) => {
      aws.dynamodb.createTable(TABLE, "pk", "sk");
      const ddb = new DynamoDBClient({ ...aws.clientConfig(), maxAttempts: 1 });
      const items = Array.from({ length: 26 }, (_, i) => put(String(i), "state"));
      await expect(
        ddb.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: items } })),
      ).rejects.toMatchObject({ name: "ValidationException" });
      await ddb.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: items.slice(0, 25) } }));
      await ddb.send(
        new BatchWriteItemCommand({ RequestItems: { [TABLE]: [put("0", "state", 10)] } }),
      );
      const pages: number[] = [];
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await ddb.send(
          new ScanCommand({
            TableName: TABLE,
            Limit: 10,
            ExclusiveStartKey: ExclusiveStartKey as never,
          }),
        );
        pages.push(page.Count ?? 0);
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      expect(pages).toEqual([10, 10, 5]);
      expect(aws.dynamodb.units.write).toBe(26);
    });
  });

  it("ends a scan page at 1 MB", async () => {
    await withModel({}, async (aws) => {
      aws.dynamodb.createTable(TABLE, "pk", "sk");
      const ddb = new DynamoDBClient(aws.clientConfig());
      for (let batch = 0; batch < 12; batch++) {
        const items = Array.from({ length: 10 }, (_, i) => put(`${batch}-${i}`, "state", 10_000));
        await ddb.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: items } }));
      }
      const first = await ddb.send(new ScanCommand({ TableName: TABLE }));
      expect(first.Count).toBe(105);
      const rest = await ddb.send(
        new ScanCommand({ TableName: TABLE, ExclusiveStartKey: first.LastEvaluatedKey }),
      );
      expect([rest.Count, rest.LastEvaluatedKey]).toEqual([15, undefined]);
    });
  });

  it("returns what the write throughput cannot take as UnprocessedItems, and refuses a batch it can take none of", async () => {
    await withModel({}, async (aws) => {
      aws.dynamodb.createTable(TABLE, "pk", "sk", {
        read: { ratePerSecond: 100 },
        write: { ratePerSecond: 5, burst: 5 },
      });
      const ddb = new DynamoDBClient({ ...aws.clientConfig(), maxAttempts: 1 });
      const items = Array.from({ length: 8 }, (_, i) => put(String(i), "plan"));
      const out = await ddb.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: items } }));
      expect(out.UnprocessedItems?.[TABLE]).toEqual(items.slice(5));
      await expect(
        ddb.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: items.slice(5) } })),
      ).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
      // The SDK retries the throttled batch until a token has come back.
      const retrying = new DynamoDBClient({ ...aws.clientConfig(), maxAttempts: 10 });
      const retried = await retrying.send(
        new BatchWriteItemCommand({ RequestItems: { [TABLE]: items.slice(5, 6) } }),
      );
      expect(retried.$metadata.attempts).toBeGreaterThan(1);
    });
  });

  it("updates conditionally: SET with attribute_not_exists and equality, the old item on a failed condition, ALL_NEW", async () => {
    await withModel({}, async (aws) => {
      aws.dynamodb.createTable(TABLE, "pk", "sk");
      const ddb = new DynamoDBClient({ ...aws.clientConfig(), maxAttempts: 1 });
      const Key = { pk: { S: "#rate" }, sk: { S: "issue-certificate" } };
      const lease = (end: number, seen?: number) =>
        ddb.send(
          new UpdateItemCommand({
            TableName: TABLE,
            Key,
            UpdateExpression: "SET nextFree = :end, #n = if_not_exists(#n, :zero) + :one",
            ConditionExpression:
              seen === undefined ? "attribute_not_exists(nextFree)" : "nextFree = :seen",
            ExpressionAttributeNames: { "#n": "leases" },
            ExpressionAttributeValues: {
              ":end": { N: String(end) },
              ":zero": { N: "0" },
              ":one": { N: "1" },
              ...(seen === undefined ? {} : { ":seen": { N: String(seen) } }),
            },
            ReturnValues: "ALL_NEW",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        );
      expect((await lease(100)).Attributes).toEqual({
        ...Key,
        nextFree: { N: "100" },
        leases: { N: "1" },
      });
      const failed = await lease(200).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(ConditionalCheckFailedException);
      expect((failed as ConditionalCheckFailedException).Item?.nextFree).toEqual({ N: "100" });
      await expect(lease(200, 99)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
      await lease(200, 100);
      // A busy budget appended to: SET from its own value, if it is a number not yet past.
      const append = (now: number) =>
        ddb.send(
          new UpdateItemCommand({
            TableName: TABLE,
            Key,
            UpdateExpression: "SET nextFree = nextFree + :lease",
            ConditionExpression: "attribute_type(nextFree, :number) AND nextFree >= :now",
            ExpressionAttributeValues: {
              ":lease": { N: "50" },
              ":now": { N: String(now) },
              ":number": { S: "N" },
            },
            ReturnValues: "UPDATED_NEW",
          }),
        );
      expect((await append(150)).Attributes).toEqual({ nextFree: { N: "250" } });
      await expect(append(300)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
      const item = await ddb.send(
        new GetItemCommand({ TableName: TABLE, Key, ConsistentRead: true }),
      );
      expect(item.Item).toEqual({ ...Key, nextFree: { N: "250" }, leases: { N: "2" } });
      await expect(
        ddb.send(
          new UpdateItemCommand({
            TableName: TABLE,
            Key,
            UpdateExpression: "SET a.b = :x",
            ExpressionAttributeValues: { ":x": { S: "y" } },
          }),
        ),
      ).rejects.toMatchObject({ name: "ValidationException" });
    });
  });
});
