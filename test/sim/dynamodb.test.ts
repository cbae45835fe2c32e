import {
  BatchWriteItemCommand,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  ScanCommand,
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
});
