/**
 * moto's SQS with thousands of messages waiting, as the issuer bench's
 * 5,000-identity run has them: sends and receives stay quick (see
 * tools/emulator/sqs_at_scale.py), long polls do not come back empty while
 * messages wait, and the queue's counts are still AWS's.
 */
import { randomBytes } from "node:crypto";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";

const sqs = new SQSClient({});

async function queue(): Promise<string> {
  const out = await sqs.send(
    new CreateQueueCommand({
      QueueName: `at-scale-${randomBytes(4).toString("hex")}`,
      Attributes: { VisibilityTimeout: "900" },
    }),
  );
  return out.QueueUrl as string;
}

async function counts(QueueUrl: string) {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
  );
  return out.Attributes;
}

describe("moto's SQS with thousands of messages waiting", () => {
  it("sends 3,000 and two concurrent long pollers receive them all, no receive empty while messages wait", async () => {
    const QueueUrl = await queue();
    const total = 3_000;
    for (let i = 0; i < total; i += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: Array.from({ length: 10 }, (_, j) => ({
            Id: String(j),
            MessageBody: JSON.stringify({ n: i + j }),
          })),
        }),
      );
    }
    const seen = new Set<number>();
    let emptyWhileWaiting = 0;
    const poller = async () => {
      while (seen.size < total) {
        const out = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
        );
        if (!out.Messages?.length) {
          if (seen.size < total) emptyWhileWaiting++;
          if (emptyWhileWaiting > 3) return;
          continue;
        }
        for (const m of out.Messages) seen.add(JSON.parse(m.Body as string).n);
      }
    };
    await Promise.all([poller(), poller()]);
    expect(seen.size).toBe(total);
    expect(emptyWhileWaiting).toBe(0);
    expect(await counts(QueueUrl)).toEqual({
      ApproximateNumberOfMessages: "0",
      ApproximateNumberOfMessagesNotVisible: String(total),
      ApproximateNumberOfMessagesDelayed: "0",
    });
  }, 60_000);

  it("counts visible, in-flight and delayed messages as before", async () => {
    const QueueUrl = await queue();
    for (let i = 0; i < 3; i++)
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "now" }));
    await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "later", DelaySeconds: 600 }));
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 2 }),
    );
    expect(received.Messages).toHaveLength(2);
    expect(await counts(QueueUrl)).toEqual({
      ApproximateNumberOfMessages: "1",
      ApproximateNumberOfMessagesNotVisible: "2",
      ApproximateNumberOfMessagesDelayed: "1",
    });
    const back = received.Messages?.[0]?.ReceiptHandle as string;
    await sqs.send(
      new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: back, VisibilityTimeout: 0 }),
    );
    expect((await counts(QueueUrl))?.ApproximateNumberOfMessages).toBe("2");
  });
});
