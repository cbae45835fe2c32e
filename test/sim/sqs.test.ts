import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  TooManyEntriesInBatchRequest,
  UntagQueueCommand,
} from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import type { ModelAws } from "./aws.ts";
import { withModel } from "./harness.ts";

function queues(aws: ModelAws, maxReceiveCount = 2) {
  const dlq = aws.sqs.createQueue("dead-letter");
  const work = aws.sqs.createQueue("work", {
    visibilityTimeoutSeconds: 30,
    redrive: { deadLetterQueueUrl: dlq, maxReceiveCount },
  });
  return { dlq, work, sqs: new SQSClient({ ...aws.clientConfig(), maxAttempts: 1 }) };
}

const receive = (QueueUrl: string, WaitTimeSeconds = 0) =>
  new ReceiveMessageCommand({
    QueueUrl,
    MaxNumberOfMessages: 10,
    WaitTimeSeconds,
    MessageSystemAttributeNames: ["ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"],
    MessageAttributeNames: ["All"],
  });

describe("modelled SQS", () => {
  it("sends in batches of 10 whose body MD5s the SDK checks, and receives at most 10 with their attributes", async () => {
    await withModel({}, async (aws) => {
      const { work, sqs } = queues(aws);
      const entries = Array.from({ length: 10 }, (_, i) => ({
        Id: `m${i}`,
        MessageBody: JSON.stringify({ i }),
        MessageAttributes: { reason: { DataType: "String", StringValue: "renew" } },
      }));
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: work, Entries: entries }));
      await sqs.send(new SendMessageCommand({ QueueUrl: work, MessageBody: "{}" }));
      await expect(
        sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: work,
            Entries: [...entries, { Id: "x", MessageBody: "{}" }],
          }),
        ),
      ).rejects.toBeInstanceOf(TooManyEntriesInBatchRequest);
      const first = await sqs.send(receive(work));
      expect(first.Messages).toHaveLength(10);
      expect(first.Messages?.[0]?.Attributes).toEqual({
        ApproximateReceiveCount: "1",
        ApproximateFirstReceiveTimestamp: String(Date.now() - 8),
      });
      expect(first.Messages?.[0]?.MessageAttributes?.reason?.StringValue).toBe("renew");
      const attributes = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: work, AttributeNames: ["All"] }),
      );
      expect(attributes.Attributes?.ApproximateNumberOfMessages).toBe("1");
      expect(attributes.Attributes?.ApproximateNumberOfMessagesNotVisible).toBe("10");
      await expect(
        sqs.send(new SendMessageCommand({ QueueUrl: `${work}x`, MessageBody: "{}" })),
      ).rejects.toBeInstanceOf(QueueDoesNotExist);
    });
  });

  it("long-polls in virtual time: a receive waits until a message arrives", async () => {
    await withModel({}, async (aws) => {
      const { work, sqs } = queues(aws);
      const t0 = Date.now();
      const waiting = sqs.send(receive(work, 20));
      setTimeout(
        () => void sqs.send(new SendMessageCommand({ QueueUrl: work, MessageBody: "late" })),
        5_000,
      );
      const got = await waiting;
      expect(got.Messages?.map((m) => m.Body)).toEqual(["late"]);
      expect(Date.now() - t0).toBe(5_000 + 7 + 8);
      const t1 = Date.now();
      expect((await sqs.send(receive(work, 20))).Messages ?? []).toEqual([]);
      expect(Date.now() - t1).toBe(20_000 + 15);
    });
  });

  it("makes an undeleted message visible again after its visibility timeout, deletes by receipt handle, and changes visibility", async () => {
    await withModel({}, async (aws) => {
      const { work, sqs } = queues(aws, 5);
      await sqs.send(new SendMessageCommand({ QueueUrl: work, MessageBody: "a" }));
      await sqs.send(new SendMessageCommand({ QueueUrl: work, MessageBody: "b" }));
      const first = (await sqs.send(receive(work))).Messages ?? [];
      expect(first).toHaveLength(2);
      const [a, b] = first;
      await sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: work,
          ReceiptHandle: b?.ReceiptHandle,
          VisibilityTimeout: 0,
        }),
      );
      const again = (await sqs.send(receive(work))).Messages ?? [];
      expect(again.map((m) => [m.Body, m.Attributes?.ApproximateReceiveCount])).toEqual([
        ["b", "2"],
      ]);
      const deleted = await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: work,
          Entries: [
            { Id: "a", ReceiptHandle: a?.ReceiptHandle },
            { Id: "b", ReceiptHandle: again[0]?.ReceiptHandle },
          ],
        }),
      );
      expect(deleted.Successful?.map((s) => s.Id)).toEqual(["a", "b"]);
      await new Promise((resolve) => setTimeout(resolve, 31_000));
      expect((await sqs.send(receive(work))).Messages ?? []).toEqual([]);
    });
  });

  it("moves a message received maxReceiveCount times to the dead-letter queue at its next receive", async () => {
    await withModel({}, async (aws) => {
      const { work, dlq, sqs } = queues(aws, 2);
      await sqs.send(new SendMessageCommand({ QueueUrl: work, MessageBody: "poison" }));
      for (const count of ["1", "2"]) {
        const got = (await sqs.send(receive(work, 20))).Messages ?? [];
        expect(got.map((m) => m.Attributes?.ApproximateReceiveCount)).toEqual([count]);
        await new Promise((resolve) => setTimeout(resolve, 30_000));
      }
      expect((await sqs.send(receive(work))).Messages ?? []).toEqual([]);
      const dead = (await sqs.send(receive(dlq))).Messages ?? [];
      expect(dead.map((m) => m.Body)).toEqual(["poison"]);
    });
  });

  it("delays retries with ChangeMessageVisibilityBatch: each entry's message comes back after its own timeout", async () => {
    await withModel({}, async (aws) => {
      const { work, sqs } = queues(aws, 5);
      for (const body of ["a", "b"]) {
        await sqs.send(new SendMessageCommand({ QueueUrl: work, MessageBody: body }));
      }
      const [a, b] = (await sqs.send(receive(work))).Messages ?? [];
      const changed = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: work,
          Entries: [
            { Id: "a", ReceiptHandle: a?.ReceiptHandle, VisibilityTimeout: 5 },
            { Id: "b", ReceiptHandle: b?.ReceiptHandle, VisibilityTimeout: 10 },
            { Id: "gone", ReceiptHandle: `${a?.MessageId}#9`, VisibilityTimeout: 1 },
          ],
        }),
      );
      expect(changed.Successful?.map((e) => e.Id)).toEqual(["a", "b"]);
      expect(changed.Failed?.map((e) => [e.Id, e.Code])).toEqual([["gone", "MessageNotInflight"]]);
      await new Promise((resolve) => setTimeout(resolve, 6_000));
      expect(((await sqs.send(receive(work))).Messages ?? []).map((m) => m.Body)).toEqual(["a"]);
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      expect(((await sqs.send(receive(work))).Messages ?? []).map((m) => m.Body)).toEqual(["b"]);
    });
  });

  it("answers an operation the model does not implement with UnknownOperationException, and counts it", async () => {
    await withModel({}, async (aws) => {
      const { work, sqs } = queues(aws);
      await expect(
        sqs.send(new UntagQueueCommand({ QueueUrl: work, TagKeys: ["a"] })),
      ).rejects.toMatchObject({ name: "UnknownOperationException" });
      expect(aws.handler.counts.unknown.get("SQS UntagQueue")).toBe(1);
    });
  });
});
