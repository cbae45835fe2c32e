/**
 * SQS standard queues (JSON 1.0, awsQuery-compatible errors): SendMessage and
 * SendMessageBatch (body MD5s the SDK checks), ReceiveMessage (at most 10,
 * visibility timeout, long polling in virtual time, ApproximateReceiveCount
 * and ApproximateFirstReceiveTimestamp, message attributes), DeleteMessage,
 * DeleteMessageBatch, ChangeMessageVisibility(Batch), GetQueueAttributes, and the
 * redrive policy: a message received maxReceiveCount times moves to the
 * dead-letter queue at its next receive, as AWS moves it.
 */
import { createHash, randomUUID } from "node:crypto";
import { AwsError } from "./errors.ts";
import {
  invalid,
  type Operation,
  requireString,
  type ServiceBehaviour,
  ServiceModel,
} from "./service.ts";

/** SQS's latency; no quota. */
export const SQS_DEFAULTS: ServiceBehaviour = {
  latencyMs: { default: 15 },
  // Standard queues: nearly unlimited transactions per second.
  quotas: {},
};

const MAX_BATCH = 10;
const MAX_BATCH_BYTES = 262_144;

type Attributes = Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;

interface Message {
  readonly id: string;
  readonly body: string;
  readonly md5: string;
  readonly attributes: Attributes | undefined;
  readonly sentAt: number;
  receiveCount: number;
  firstReceiveAt: number | undefined;
  visibleAt: number;
  state: "ready" | "inflight" | "gone";
}

export interface QueueOptions {
  visibilityTimeoutSeconds?: number;
  retentionSeconds?: number;
  /** Moves a message to `deadLetterQueueUrl` when it is received more than `maxReceiveCount` times. */
  redrive?: { deadLetterQueueUrl: string; maxReceiveCount: number };
}

/** A min-heap of in-flight messages by the time they become visible again; stale entries are skipped. */
class VisibilityHeap {
  private readonly items: { at: number; message: Message }[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): { at: number; message: Message } | undefined {
    return this.items[0];
  }

  push(item: { at: number; message: Message }): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((a[p] as { at: number }).at <= item.at) break;
      a[i] = a[p] as { at: number; message: Message };
      i = p;
    }
    a[i] = item;
  }

  pop(): { at: number; message: Message } | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && (a[r] as { at: number }).at < (a[l] as { at: number }).at ? r : l;
        if ((a[c] as { at: number }).at >= last.at) break;
        a[i] = a[c] as { at: number; message: Message };
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

class Queue {
  readonly messages = new Map<string, Message>();
  /** Visible messages in arrival order from `head`; entries whose state changed are skipped. */
  private ready: Message[] = [];
  private head = 0;
  readonly inflight = new VisibilityHeap();
  visible = 0;
  notVisible = 0;
  readonly waiters = new Set<() => void>();

  constructor(
    readonly name: string,
    readonly url: string,
    readonly arn: string,
    readonly options: QueueOptions,
  ) {}

  enqueue(message: Message): void {
    message.state = "ready";
    this.messages.set(message.id, message);
    this.ready.push(message);
    this.visible++;
    this.wake();
  }

  wake(): void {
    for (const waiter of this.waiters) waiter();
    this.waiters.clear();
  }

  /** Makes in-flight messages whose visibility timeout ended visible again. */
  release(now: number): void {
    for (
      let top = this.inflight.peek();
      top !== undefined && top.at <= now;
      top = this.inflight.peek()
    ) {
      this.inflight.pop();
      const m = top.message;
      if (m.state !== "inflight" || m.visibleAt !== top.at) continue;
      m.state = "ready";
      this.notVisible--;
      this.visible++;
      this.ready.push(m);
    }
  }

  /** The next visible message, taken off the visible list. */
  next(): Message | undefined {
    while (this.head < this.ready.length) {
      const m = this.ready[this.head++] as Message;
      if (m.state === "ready") {
        this.compact();
        this.visible--;
        return m;
      }
    }
    this.compact();
    return undefined;
  }

  remove(m: Message): void {
    if (m.state === "ready") this.visible--;
    if (m.state === "inflight") this.notVisible--;
    m.state = "gone";
    this.messages.delete(m.id);
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * @example
 * const sqs = new SqsModel("999999999999");
 * const dlq = sqs.createQueue("dead-letter");
 * const work = sqs.createQueue("work", { redrive: { deadLetterQueueUrl: dlq, maxReceiveCount: 4 } });
 */
export class SqsModel extends ServiceModel {
  protected readonly operations: Record<string, Operation>;
  private readonly queues = new Map<string, Queue>();

  constructor(
    private readonly account: string,
    behaviour: ServiceBehaviour = SQS_DEFAULTS,
  ) {
    super(
      "SQS",
      { kind: "json", target: "AmazonSQS", version: "1.0", queryCompatible: true },
      { code: "RequestThrottled", message: "Request is throttled." },
      behaviour,
    );
    this.operations = {
      SendMessage: (input) => {
        const queue = this.queue(input);
        const m = this.send(queue, input);
        return { MessageId: m.id, MD5OfMessageBody: m.md5 };
      },
      SendMessageBatch: (input) => this.sendBatch(input),
      ReceiveMessage: (input) => this.receive(input),
      DeleteMessage: (input) => {
        const queue = this.queue(input);
        const m = this.byHandle(queue, requireString(input, "ReceiptHandle", "MissingParameter"));
        if (m !== undefined) queue.remove(m);
        return {};
      },
      DeleteMessageBatch: (input) => this.deleteBatch(input),
      ChangeMessageVisibility: (input) => {
        const queue = this.queue(input);
        this.changeVisibility(
          queue,
          requireString(input, "ReceiptHandle", "MissingParameter"),
          input.VisibilityTimeout,
        );
        return {};
      },
      ChangeMessageVisibilityBatch: (input) => {
        const queue = this.queue(input);
        const entries = (input.Entries ?? []) as {
          Id: string;
          ReceiptHandle: string;
          VisibilityTimeout?: number;
        }[];
        checkBatch(entries);
        return this.eachEntry(entries, (e) =>
          this.changeVisibility(queue, e.ReceiptHandle, e.VisibilityTimeout),
        );
      },
      GetQueueAttributes: (input) => {
        const queue = this.queue(input);
        queue.release(Date.now());
        const o = queue.options;
        return {
          Attributes: {
            QueueArn: queue.arn,
            ApproximateNumberOfMessages: String(queue.visible),
            ApproximateNumberOfMessagesNotVisible: String(queue.notVisible),
            ApproximateNumberOfMessagesDelayed: "0",
            VisibilityTimeout: String(o.visibilityTimeoutSeconds ?? 30),
            MessageRetentionPeriod: String(o.retentionSeconds ?? 345_600),
            ...(o.redrive
              ? {
                  RedrivePolicy: JSON.stringify({
                    deadLetterTargetArn: this.queueAt(o.redrive.deadLetterQueueUrl).arn,
                    maxReceiveCount: o.redrive.maxReceiveCount,
                  }),
                }
              : {}),
          },
        };
      },
    };
  }

  /** Creates a queue in the model's account; returns its URL. */
  createQueue(name: string, options: QueueOptions = {}): string {
    const url = `https://sqs.us-east-1.amazonaws.com/${this.account}/${name}`;
    this.queues.set(
      url,
      new Queue(name, url, `arn:aws:sqs:us-east-1:${this.account}:${name}`, options),
    );
    return url;
  }

  /** Visible and in-flight messages of a queue, for the simulation's figures. */
  depth(url: string): { visible: number; inflight: number } {
    const queue = this.queueAt(url);
    queue.release(Date.now());
    return { visible: queue.visible, inflight: queue.notVisible };
  }

  /** The message attributes of every message a queue holds, for a simulation's report (a dead-letter queue's reasons). */
  attributesOf(url: string): Attributes[] {
    return [...this.queueAt(url).messages.values()].map((m) => m.attributes ?? {});
  }

  private queue(input: Record<string, unknown>): Queue {
    return this.queueAt(requireString(input, "QueueUrl", "MissingParameter"));
  }

  private queueAt(url: string): Queue {
    const queue = this.queues.get(url);
    if (queue === undefined) {
      throw new AwsError("QueueDoesNotExist", "The specified queue does not exist.");
    }
    return queue;
  }

  private send(queue: Queue, input: Record<string, unknown>): Message {
    const body = requireString(input, "MessageBody", "MissingParameter");
    const message: Message = {
      id: randomUUID(),
      body,
      md5: createHash("md5").update(body).digest("hex"),
      attributes: input.MessageAttributes as Attributes | undefined,
      sentAt: Date.now(),
      receiveCount: 0,
      firstReceiveAt: undefined,
      visibleAt: 0,
      state: "ready",
    };
    queue.enqueue(message);
    return message;
  }

  private sendBatch(input: Record<string, unknown>) {
    const queue = this.queue(input);
    const entries = (input.Entries ?? []) as Record<string, unknown>[];
    checkBatch(entries);
    const bytes = entries.reduce((n, e) => n + Buffer.byteLength(String(e.MessageBody ?? "")), 0);
    if (bytes > MAX_BATCH_BYTES) {
      throw new AwsError(
        "BatchRequestTooLong",
        "Batch requests cannot be longer than 262144 bytes.",
      );
    }
    return {
      Successful: entries.map((e) => {
        const m = this.send(queue, e);
        return { Id: e.Id, MessageId: m.id, MD5OfMessageBody: m.md5 };
      }),
      Failed: [],
    };
  }

  private async receive(input: Record<string, unknown>) {
    const queue = this.queue(input);
    const max = Number(input.MaxNumberOfMessages ?? 1);
    if (!(max >= 1 && max <= MAX_BATCH)) {
      throw invalid(
        `Value ${max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`,
        "InvalidParameterValue",
      );
    }
    const visibilityMs =
      Number(input.VisibilityTimeout ?? queue.options.visibilityTimeoutSeconds ?? 30) * 1000;
    const waitUntil = Date.now() + Number(input.WaitTimeSeconds ?? 0) * 1000;
    for (;;) {
      // The first pass runs inside the handler's metered stretch; a pass after a wait is metered here.
      const answer = this.cpu.measure(() => {
        const got = this.take(queue, max, visibilityMs);
        return got.length > 0 || Date.now() >= waitUntil
          ? { Messages: got.map((m) => this.wire(m, input)) }
          : undefined;
      });
      if (answer !== undefined) return answer;
      await this.waitForMessages(queue, waitUntil);
    }
  }

  /** Until a message arrives, an in-flight one becomes visible again, or `until`, whichever is first. */
  private waitForMessages(queue: Queue, until: number): Promise<void> {
    const nextVisible = queue.inflight.peek()?.at ?? Number.POSITIVE_INFINITY;
    const ms = Math.max(0, Math.min(until, nextVisible) - Date.now());
    return new Promise((resolve) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        queue.waiters.delete(waiter);
        resolve();
      }, ms);
      queue.waiters.add(waiter);
    });
  }

  private take(queue: Queue, max: number, visibilityMs: number): Message[] {
    const now = Date.now();
    queue.release(now);
    const retentionMs = (queue.options.retentionSeconds ?? 345_600) * 1000;
    const redrive = queue.options.redrive;
    const got: Message[] = [];
    while (got.length < max) {
      const m = queue.next();
      if (m === undefined) break;
      if (now - m.sentAt > retentionMs) {
        m.state = "gone";
        queue.messages.delete(m.id);
        continue;
      }
      if (redrive !== undefined && m.receiveCount >= redrive.maxReceiveCount) {
        m.state = "gone";
        queue.messages.delete(m.id);
        this.queueAt(redrive.deadLetterQueueUrl).enqueue({
          ...m,
          receiveCount: 0,
          firstReceiveAt: undefined,
        });
        continue;
      }
      m.receiveCount++;
      m.firstReceiveAt ??= now;
      m.visibleAt = now + visibilityMs;
      m.state = "inflight";
      queue.notVisible++;
      queue.inflight.push({ at: m.visibleAt, message: m });
      got.push(m);
    }
    return got;
  }

  private wire(m: Message, input: Record<string, unknown>) {
    const wanted = new Set([
      ...((input.MessageSystemAttributeNames ?? []) as string[]),
      ...((input.AttributeNames ?? []) as string[]),
    ]);
    const all = wanted.has("All");
    const system: Record<string, string> = {
      SentTimestamp: String(m.sentAt),
      ApproximateReceiveCount: String(m.receiveCount),
      ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt),
      SenderId: `AIDASIM${this.account}`,
    };
    const attributes = Object.fromEntries(
      Object.entries(system).filter(([k]) => all || wanted.has(k)),
    );
    const names = (input.MessageAttributeNames ?? []) as string[];
    const allAttributes = names.includes("All") || names.includes(".*");
    const messageAttributes =
      m.attributes === undefined
        ? undefined
        : Object.fromEntries(
            Object.entries(m.attributes).filter(([k]) => allAttributes || names.includes(k)),
          );
    return {
      MessageId: m.id,
      ReceiptHandle: receiptHandle(m),
      MD5OfBody: m.md5,
      Body: m.body,
      ...(Object.keys(attributes).length > 0 ? { Attributes: attributes } : {}),
      ...(messageAttributes && Object.keys(messageAttributes).length > 0
        ? { MessageAttributes: messageAttributes }
        : {}),
    };
  }

  private deleteBatch(input: Record<string, unknown>) {
    const queue = this.queue(input);
    const entries = (input.Entries ?? []) as { Id: string; ReceiptHandle: string }[];
    checkBatch(entries);
    return this.eachEntry(entries, (e) => {
      const m = this.byHandle(queue, e.ReceiptHandle);
      if (m !== undefined) queue.remove(m);
    });
  }

  /** A batch's answer: each entry that went through under Successful, each refused one under Failed with its error. */
  private eachEntry<E extends { Id: string }>(entries: readonly E[], act: (entry: E) => void) {
    const successful: { Id: string }[] = [];
    const failed: { Id: string; Code: string; SenderFault: boolean; Message: string }[] = [];
    for (const e of entries) {
      try {
        act(e);
        successful.push({ Id: e.Id });
      } catch (err) {
        if (!(err instanceof AwsError)) throw err;
        failed.push({ Id: e.Id, Code: err.code, SenderFault: true, Message: err.awsMessage });
      }
    }
    return { Successful: successful, Failed: failed };
  }

  /** Only the latest receive's handle of an in-flight message changes its visibility, as in AWS. */
  private changeVisibility(queue: Queue, handle: string, timeoutSeconds: unknown): void {
    const m = this.byHandle(queue, handle);
    if (m === undefined || m.state !== "inflight" || handle !== receiptHandle(m)) {
      throw new AwsError("MessageNotInflight", "The message referred to isn't in flight.");
    }
    const seconds = Number(timeoutSeconds ?? 0);
    m.visibleAt = Date.now() + seconds * 1000;
    queue.inflight.push({ at: m.visibleAt, message: m });
    if (seconds === 0) queue.wake();
  }

  /** The message a receipt handle names, `undefined` when it is gone; a handle the model never made is invalid. */
  private byHandle(queue: Queue, handle: string): Message | undefined {
    const id = handle.split("#")[0] ?? "";
    if (!handle.includes("#")) {
      throw new AwsError(
        "ReceiptHandleIsInvalid",
        `The input receipt handle "${handle}" is not a valid receipt handle.`,
      );
    }
    return queue.messages.get(id);
  }
}

/** A handle per receive: a handle from an earlier receive still deletes the message, as AWS allows. */
function receiptHandle(m: Message): string {
  return `${m.id}#${m.receiveCount}`;
}

function checkBatch(entries: readonly { Id?: unknown }[]): void {
  if (entries.length === 0) {
    throw new AwsError(
      "EmptyBatchRequest",
      "There should be at least one SendMessageBatchRequestEntry in the request.",
    );
  }
  if (entries.length > MAX_BATCH) {
    throw new AwsError(
      "TooManyEntriesInBatchRequest",
      `Maximum number of entries per request are ${MAX_BATCH}.`,
    );
  }
  if (new Set(entries.map((e) => e.Id)).size !== entries.length) {
    throw new AwsError(
      "BatchEntryIdsNotDistinct",
      "Two or more batch entries in the request have the same Id.",
    );
  }
}
