import type { Logger } from "@aws-lambda-powertools/logger";
import { ChangeMessageVisibilityBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchItemFailure, SQSRecord } from "aws-lambda";
import { parseSpiffeId } from "../../layers/spiffe/index.ts";
import { deadlineSignal, mapConcurrent } from "../../lib/limits/index.ts";
import type { CertificateAuthority } from "./ca/port.ts";
import { QueueError } from "./errors.ts";
import {
  describeIdentity,
  type IdentityResult,
  type IssueDeps,
  type IssueSettings,
  issueIdentity,
} from "./issue.ts";
import { type DeadLetter, parseWorkMessage, sendDeadLetter, type WorkMessage } from "./queue.ts";
import type { IssuerStore, StateRecord, StoreItem } from "./store.ts";

export interface WorkerDeps {
  settings: IssueSettings;
  ca: CertificateAuthority;
  tenants: IssueDeps["tenants"];
  store: IssuerStore;
  sqs: SQSClient;
  deadLetterQueueUrl: string;
  /** A failure on this receive (or later) goes to the dead-letter queue instead of being retried. */
  maxReceives: number;
  /**
   * The work queue, to bring a retried message back sooner than its visibility
   * timeout (set for a batch's worst case, 90 minutes): after `retryDelayMs`
   * doubled per receive for a failure, at once for work the deadline left.
   */
  workQueueUrl: string | undefined;
  retryDelayMs: number;
  now: () => Date;
  remainingMs: () => number;
  logger: Logger;
}

/** What one worker invocation did. */
export interface WorkReport {
  received: number;
  results: IdentityResult[];
  /** Sent to the dead-letter queue, with their reasons. */
  deadLettered: number;
  /** Left for SQS to deliver again (a failure with attempts left, or not reached before the deadline). */
  retried: number;
  deadlineReached: boolean;
}

/**
 * One batch from the work queue: each message's identity is issued (or
 * checked) through the same pipeline as a direct run, up to
 * `settings.concurrency` at once. A success is recorded in the state table.
 * A failure is handed back to SQS to deliver again until its receive count
 * reaches `maxReceives`; then, or at once when trying again cannot help
 * (a malformed message, a secret that is not the issuer's), it goes to the
 * dead-letter queue with its reason and is recorded as failed, so the next
 * plan sees it; a record the dead-letter queue does not take goes back to the
 * work queue alone. Work the deadline did not reach goes back to the queue.
 *
 * @example
 * const { batchItemFailures } = await runWorker(deps, event.Records);
 */
export async function runWorker(
  deps: WorkerDeps,
  records: readonly SQSRecord[],
): Promise<{ batchItemFailures: SQSBatchItemFailure[]; report: WorkReport }> {
  const deadline = deadlineSignal(deps.remainingMs() - deps.settings.deadlineMarginMs);
  const { signal } = deadline;
  try {
    const bundle = await deps.ca.bundle(signal);
    const failures: SQSBatchItemFailure[] = [];
    const states: StoreItem[] = [];
    const results: IdentityResult[] = [];
    let deadLettered = 0;
    const outcomes = await mapConcurrent(
      records,
      deps.settings.concurrency,
      async (record) => {
        const attempts = Number(record.attributes.ApproximateReceiveCount ?? "1");
        let work: WorkMessage;
        try {
          work = parseWorkMessage(record.body);
        } catch (err) {
          if (!(err instanceof QueueError)) throw err;
          deps.logger.error("work message refused", {
            messageId: record.messageId,
            reason: err.message,
          });
          if (
            !(await deadLetter(deps, record, {
              reason: err.message,
              stage: "message",
              attempts,
              failedAt: deps.now().toISOString(),
            }))
          ) {
            return "retry";
          }
          deadLettered++;
          return "done";
        }
        const identity = {
          accountId: work.accountId,
          service: work.service,
          environment: work.environment,
          spiffeId: parseSpiffeId(work.spiffeId),
        };
        const result = await issueIdentity(
          { ...deps, bundle },
          {
            identity,
            mode: work.reason === "check" ? "check" : "issue",
            ...(work.previous ? { known: work.previous } : {}),
          },
          signal,
        );
        results.push(result);
        if (result.outcome === "not-reached") return "again";
        const now = deps.now().toISOString();
        if (result.outcome === "failed") {
          if (!result.permanent && attempts < deps.maxReceives) return "retry";
          if (
            !(await deadLetter(deps, record, {
              reason: result.reason ?? "failed",
              stage: result.stage ?? "access",
              attempts,
              failedAt: now,
            }))
          ) {
            return "retry";
          }
          deadLettered++;
        }
        states.push({ kind: "state", record: stateOf(work, result, now) });
        return "done";
      },
      () => !signal.aborted && deps.remainingMs() > deps.settings.deadlineMarginMs,
    );
    const delays: Array<{ record: SQSRecord; seconds: number }> = [];
    outcomes.forEach((outcome, i) => {
      const record = records[i] as SQSRecord;
      if (outcome === "done") return;
      failures.push({ itemIdentifier: record.messageId });
      const attempts = Number(record.attributes.ApproximateReceiveCount ?? "1");
      const seconds =
        outcome === "retry"
          ? Math.min(
              MAX_RETRY_DELAY_S,
              Math.round((deps.retryDelayMs / 1000) * 2 ** (attempts - 1)),
            )
          : 0;
      delays.push({ record, seconds });
      if (outcome === undefined) {
        const work = safeIdentity(record.body);
        if (work) results.push({ ...work, outcome: "not-reached" });
      }
    });
    // The outcomes outlive the deadline's reason to stop: recording them costs one call per 25.
    await deps.store.write(states);
    await comeBackSooner(deps, delays);
    return {
      batchItemFailures: failures,
      report: {
        received: records.length,
        results,
        deadLettered,
        retried: failures.length,
        deadlineReached: signal.aborted || outcomes.some((o) => o === undefined),
      },
    };
  } finally {
    deadline.clear();
  }
}

/**
 * Sends a record to the dead-letter queue; false when SQS did not take it. That record
 * alone then goes back to the work queue (the batch's other outcomes stand): the next
 * receive sends it again, and past the queue's maxReceiveCount SQS's own redrive moves it.
 */
async function deadLetter(
  deps: WorkerDeps,
  record: SQSRecord,
  letter: DeadLetter,
): Promise<boolean> {
  try {
    await sendDeadLetter(deps.sqs, deps.deadLetterQueueUrl, record.body, letter);
    return true;
  } catch (err) {
    deps.logger.error("dead-letter send failed; the message goes back to the work queue", {
      messageId: record.messageId,
      reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
    return false;
  }
}

/** The longest a retried message waits: SQS allows 12 h; a failure worth retrying is worth it within the hour. */
const MAX_RETRY_DELAY_S = 900;

/**
 * Sets each retried message's visibility to its delay (ChangeMessageVisibilityBatch, 10 per
 * call), so it is delivered again after that rather than after the queue's visibility timeout.
 * Best effort: a message whose change fails still comes back, later.
 */
async function comeBackSooner(
  deps: WorkerDeps,
  delays: ReadonlyArray<{ record: SQSRecord; seconds: number }>,
): Promise<void> {
  if (deps.workQueueUrl === undefined) return;
  for (let i = 0; i < delays.length; i += 10) {
    const batch = delays.slice(i, i + 10);
    try {
      await deps.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: deps.workQueueUrl,
          Entries: batch.map(({ record, seconds }, j) => ({
            Id: String(j),
            ReceiptHandle: record.receiptHandle,
            VisibilityTimeout: seconds,
          })),
        }),
      );
    } catch (err) {
      deps.logger.warn("retry delay not set; the messages come back after the visibility timeout", {
        reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
    }
  }
}

/** The state item for a message's outcome; a failure keeps the last good secret's fields. */
function stateOf(work: WorkMessage, result: IdentityResult, now: string): StateRecord {
  const base = { accountId: work.accountId, plannedAt: work.plannedAt };
  if (result.outcome === "failed") {
    const previous = work.previous ?? {};
    return {
      ...base,
      spiffeId: previous.spiffeId ?? work.spiffeId,
      outcome: "failed",
      ...(previous.secretArn ? { secretArn: previous.secretArn } : {}),
      ...(previous.versionId ? { versionId: previous.versionId } : {}),
      ...(previous.notAfter ? { notAfter: previous.notAfter } : {}),
      failure: { stage: result.stage ?? "access", reason: result.reason ?? "failed", at: now },
    };
  }
  return {
    ...base,
    spiffeId: work.spiffeId,
    outcome: result.outcome === "issued" ? "issued" : "checked",
    ...(result.secretArn ? { secretArn: result.secretArn } : {}),
    ...(result.versionId ? { versionId: result.versionId } : {}),
    ...(result.notAfter ? { notAfter: result.notAfter } : {}),
    seenAt: now,
  };
}

/** The report fields of a message the deadline kept from starting, when it parses. */
function safeIdentity(body: string): Omit<IdentityResult, "outcome"> | undefined {
  try {
    const work = parseWorkMessage(body);
    return describeIdentity({
      accountId: work.accountId,
      service: work.service,
      environment: work.environment,
      spiffeId: parseSpiffeId(work.spiffeId),
    });
  } catch {
    return undefined;
  }
}
