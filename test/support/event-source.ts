/**
 * A local stand-in for Lambda's SQS event source mapping, over the real SQS
 * API (moto, or the fleet simulation's model): pollers receive up to 10
 * messages per call until a batch is full or its window has passed, invoke
 * the handler with an SQS event, delete what the handler did not report as a
 * batch item failure (ReportBatchItemFailures), and leave failures to come
 * back after the queue's visibility timeout, as the event source does. At most
 * `maxConcurrency` invocations run at once. Timing uses the global timers, so
 * under fake timers it runs on the simulated clock.
 *
 * What it is not: Lambda's scaling of pollers, its billing, or its handling
 * of a function error for the whole batch beyond "everything comes back".
 */
import {
  DeleteMessageBatchCommand,
  type DeleteMessageBatchCommandInput,
  type Message,
  ReceiveMessageCommand,
  type ReceiveMessageCommandInput,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchItemFailure, SQSRecord } from "aws-lambda";

/**
 * How the event source reaches the queue: the SQS API through an SDK client,
 * or (in the fleet simulation) the modelled SQS directly, since the pollers are
 * AWS's and cost the function's owner no CPU.
 */
export interface QueuePort {
  receive(input: ReceiveMessageCommandInput): Promise<Message[]>;
  deleteBatch(input: DeleteMessageBatchCommandInput): Promise<void>;
}

/**
 * @example
 * const source = startEventSource({ queue: sqsPort(new SQSClient({})), queueUrl, ... });
 */
export function sqsPort(sqs: SQSClient): QueuePort {
  return {
    async receive(input) {
      return (await sqs.send(new ReceiveMessageCommand(input))).Messages ?? [];
    },
    async deleteBatch(input) {
      await sqs.send(new DeleteMessageBatchCommand(input));
    },
  };
}

export interface EventSourceOptions {
  /** The queue's API, or an SDK client to reach it through. */
  sqs: SQSClient | QueuePort;
  queueUrl: string;
  /** Messages per invocation at most (the mapping's BatchSize). */
  batchSize: number;
  /** How long a poller gathers a batch once it holds a message (MaximumBatchingWindowInSeconds). */
  windowMs: number;
  /** Invocations at once (the mapping's MaximumConcurrency). */
  maxConcurrency: number;
  /** Long-poll wait of each ReceiveMessage, seconds (Lambda uses 20; tests less). */
  waitSeconds?: number;
  handler: (records: SQSRecord[]) => Promise<{ batchItemFailures: SQSBatchItemFailure[] }>;
}

export interface EventSource {
  /** Resolves once `idleMs` passed with every poller finding the queue empty and nothing running. */
  drained(idleMs: number): Promise<void>;
  stop(): Promise<void>;
  /** Invocations made, and the most that ran at once. */
  readonly invocations: number;
  readonly peakConcurrency: number;
  /**
   * SQS requests the event source made: receives that returned messages,
   * receives that found none (Lambda's pollers make those all day, whatever
   * the queue holds), and delete batches.
   */
  readonly requests: { receives: number; emptyReceives: number; deletes: number };
  /** Invocations that failed as a whole (the handler threw): their batches come back after the visibility timeout. */
  readonly errors: string[];
}

/**
 * @example
 * const source = startEventSource({ sqs, queueUrl, batchSize: 100, windowMs: 500, maxConcurrency: 2,
 *   handler: async (records) => (await worker.handle(records, () => Infinity, logger)) });
 * await source.drained(2_000);
 * await source.stop();
 */
export function startEventSource(options: EventSourceOptions): EventSource {
  let stopped = false;
  let running = 0;
  let holding = 0;
  let invocations = 0;
  let peak = 0;
  let lastBusy = Date.now();
  const requests = { receives: 0, emptyReceives: 0, deletes: 0 };
  const errors: string[] = [];
  const arn = `arn:aws:sqs:us-east-1:000000000000:${options.queueUrl.split("/").pop()}`;
  const queue = "send" in options.sqs ? sqsPort(options.sqs) : options.sqs;

  const receive = async (max: number): Promise<Message[]> => {
    const messages = await queue.receive({
      QueueUrl: options.queueUrl,
      MaxNumberOfMessages: Math.min(10, max),
      WaitTimeSeconds: options.waitSeconds ?? 1,
      MessageSystemAttributeNames: ["All"],
      MessageAttributeNames: ["All"],
    });
    if (messages.length > 0) requests.receives++;
    else requests.emptyReceives++;
    return messages;
  };

  const poller = async () => {
    while (!stopped) {
      const first = await receive(options.batchSize);
      if (first.length === 0) continue;
      // Holding messages counts as busy from here, while the batch is still being gathered.
      holding++;
      const batch = [...first];
      const until = Date.now() + options.windowMs;
      while (!stopped && batch.length < options.batchSize && Date.now() < until) {
        const more = await receive(options.batchSize - batch.length);
        if (more.length === 0) break;
        batch.push(...more);
      }
      running++;
      invocations++;
      peak = Math.max(peak, running);
      try {
        const { batchItemFailures } = await options.handler(batch.map((m) => record(m, arn)));
        const failed = new Set(batchItemFailures.map((f) => f.itemIdentifier));
        const done = batch.filter((m) => !failed.has(m.MessageId as string));
        for (let i = 0; i < done.length; i += 10) {
          requests.deletes++;
          await queue.deleteBatch({
            QueueUrl: options.queueUrl,
            Entries: done.slice(i, i + 10).map((m, j) => ({
              Id: String(j),
              ReceiptHandle: m.ReceiptHandle as string,
            })),
          });
        }
      } catch (err) {
        // A function error returns the whole batch to the queue after its visibility timeout.
        errors.push(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
      } finally {
        running--;
        holding--;
        lastBusy = Date.now();
      }
    }
  };

  const pollers = Array.from({ length: options.maxConcurrency }, poller);
  return {
    async drained(idleMs) {
      while (holding > 0 || Date.now() - lastBusy < idleMs) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(idleMs, 100)));
      }
    },
    async stop() {
      stopped = true;
      await Promise.all(pollers);
    },
    get invocations() {
      return invocations;
    },
    get peakConcurrency() {
      return peak;
    },
    requests,
    errors,
  };
}

/** The SQS event record Lambda builds from a received message. */
function record(m: Message, arn: string): SQSRecord {
  const a = m.Attributes ?? {};
  const attributes: SQSRecord["attributes"] = {
    ApproximateReceiveCount: a.ApproximateReceiveCount ?? "1",
    SentTimestamp: a.SentTimestamp ?? String(Date.now()),
    SenderId: a.SenderId ?? "000000000000",
    ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
  };
  return {
    messageId: m.MessageId as string,
    receiptHandle: m.ReceiptHandle as string,
    body: m.Body ?? "",
    attributes,
    messageAttributes: Object.fromEntries(
      Object.entries(m.MessageAttributes ?? {}).map(([k, v]) => [
        k,
        {
          dataType: v.DataType ?? "String",
          ...(v.StringValue ? { stringValue: v.StringValue } : {}),
        },
      ]),
    ),
    md5OfBody: m.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: arn,
    awsRegion: "us-east-1",
  };
}
