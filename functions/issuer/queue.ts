import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { z } from "zod";
import { parseSpiffeId, SpiffeIdError } from "../../layers/spiffe/index.ts";
import { untilAborted } from "../../lib/limits/index.ts";
import { QueueError, QueueReason } from "./errors.ts";

/** Why the planner queued an identity. */
export const WORK_REASONS = ["new", "renew", "changed", "check", "reissue"] as const;
export type WorkReason = (typeof WORK_REASONS)[number];

const ISO = z.string().datetime({ offset: true });

const WORK_MESSAGE = z.object({
  v: z.literal(1),
  accountId: z.string().regex(/^\d{12}$/),
  service: z.string().min(1),
  environment: z.string().min(1),
  spiffeId: z.string().startsWith("spiffe://"),
  spansAccounts: z.boolean().optional(),
  reason: z.enum(WORK_REASONS),
  plannedAt: ISO,
  previous: z
    .object({
      secretArn: z.string().optional(),
      versionId: z.string().optional(),
      notAfter: ISO.optional(),
      spiffeId: z.string().optional(),
    })
    .optional(),
});

/**
 * One identity's work, as the planner sends it and a worker receives it: who,
 * why, when planned, and what the issuer last wrote for it (so a renewal can
 * write without asking first). Names only, never key material.
 */
export type WorkMessage = z.infer<typeof WORK_MESSAGE>;

/**
 * Parses a message body.
 *
 * @throws {QueueError} `MESSAGE_INVALID` naming the first bad field (not its value).
 * @example
 * const work = parseWorkMessage(record.body);
 */
export function parseWorkMessage(body: string): WorkMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new QueueError(QueueReason.MESSAGE_INVALID, "body is not JSON");
  }
  const parsed = WORK_MESSAGE.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new QueueError(
      QueueReason.MESSAGE_INVALID,
      `field ${issue?.path.join(".") || "(body)"}: ${issue?.message ?? "invalid"}`,
    );
  }
  try {
    parseSpiffeId(parsed.data.spiffeId);
  } catch (err) {
    if (!(err instanceof SpiffeIdError)) throw err;
    throw new QueueError(QueueReason.MESSAGE_INVALID, `field spiffeId: ${err.reason}`);
  }
  return parsed.data;
}

/** SendMessageBatch takes at most 10 entries. */
const BATCH = 10;
/** Entries SQS refused are sent again this many times. */
const SEND_ATTEMPTS = 3;

/**
 * Sends work messages in batches of 10, sending again what SQS refused.
 *
 * @throws {QueueError} `SEND_FAILED` when entries are still refused after retries.
 * @example
 * await sendWork(sqs, queueUrl, messages, signal);
 */
export async function sendWork(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly WorkMessage[],
  signal?: AbortSignal,
): Promise<void> {
  for (let i = 0; i < messages.length; i += BATCH) {
    let entries: SendMessageBatchRequestEntry[] = messages
      .slice(i, i + BATCH)
      .map((m, j) => ({ Id: String(j), MessageBody: JSON.stringify(m) }));
    for (let attempt = 1; entries.length > 0; attempt++) {
      const out = await untilAborted(
        sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }), {
          abortSignal: signal,
        }),
        signal,
      );
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      entries = entries.filter((e) => failed.has(e.Id));
      if (entries.length > 0 && attempt >= SEND_ATTEMPTS) {
        const codes = [...new Set((out.Failed ?? []).map((f) => f.Code))].join(", ");
        throw new QueueError(
          QueueReason.SEND_FAILED,
          `${entries.length} of a batch to ${queueUrl} after ${attempt} attempts (${codes})`,
        );
      }
    }
  }
}

/** Why a message went to the dead-letter queue: the attributes a worker adds to it. */
export interface DeadLetter {
  reason: string;
  stage: string;
  attempts: number;
  failedAt: string;
}

/**
 * Sends a message that failed for good to the dead-letter queue, its body
 * unchanged and the reason as message attributes, so an operator (and a
 * redrive) sees what failed and why.
 *
 * @example
 * await sendDeadLetter(sqs, dlqUrl, record.body, { reason, stage: "push", attempts: 3, failedAt });
 */
export async function sendDeadLetter(
  sqs: SQSClient,
  queueUrl: string,
  body: string,
  letter: DeadLetter,
  signal?: AbortSignal,
): Promise<void> {
  const text = (value: string) => ({ DataType: "String", StringValue: value });
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: body,
      MessageAttributes: {
        reason: text(letter.reason.slice(0, 1024)),
        stage: text(letter.stage),
        attempts: { DataType: "Number", StringValue: String(letter.attempts) },
        failedAt: text(letter.failedAt),
      },
    }),
    { abortSignal: signal },
  );
}
