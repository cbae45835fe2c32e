/**
 * The queued issuer against the emulator: the {@link issuerHarness}'s
 * Organization, CA and tenant clients, plus a state table and a work queue
 * with its dead-letter queue in moto, the real planner and worker, and the
 * local event source that feeds the worker from the queue.
 */
import { randomBytes } from "node:crypto";
import { Logger } from "@aws-lambda-powertools/logger";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { createPlanner, createWorker } from "../../functions/issuer/compose.ts";
import { loadIssuerConfig } from "../../functions/issuer/config.ts";
import type { PlanReport } from "../../functions/issuer/planner.ts";
import type { IssuerRequest } from "../../functions/issuer/run.ts";
import { IssuerStore, type Snapshot } from "../../functions/issuer/store.ts";
import type { WorkReport } from "../../functions/issuer/worker.ts";
import { captureOutput } from "../support/capture.ts";
import { startEventSource } from "../support/event-source.ts";
import { type HarnessOptions, issuerHarness } from "./issuer-harness.ts";

export interface QueuedHarnessOptions extends HarnessOptions {
  /** Seconds a received message stays invisible (the work queue's visibility timeout). */
  visibilitySeconds?: number;
  /** The worker's remaining time, per invocation. */
  workerRemainingMs?: () => number;
}

/** Creates the table and the two queues as serverless.yml declares them, with `clientConfig`'s credentials (the default account's by default). */
export async function createQueuedResources(
  maxReceives: number,
  visibilitySeconds: number,
  clientConfig: { credentials?: AwsCredentialIdentityProvider } = {},
) {
  const suffix = randomBytes(4).toString("hex");
  const dynamodb = new DynamoDBClient(clientConfig);
  const sqs = new SQSClient(clientConfig);
  const table = `lambda-svid-issuer-state-${suffix}`;
  await dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
      ],
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
    }),
  );
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: `lambda-svid-issuer-dead-letter-${suffix}` }),
  );
  const dlqArn = (
    await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }),
    )
  ).Attributes?.QueueArn as string;
  const work = await sqs.send(
    new CreateQueueCommand({
      QueueName: `lambda-svid-issuer-work-${suffix}`,
      Attributes: {
        VisibilityTimeout: String(visibilitySeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: maxReceives + 1,
        }),
      },
    }),
  );
  return {
    dynamodb,
    sqs,
    table,
    workQueueUrl: work.QueueUrl as string,
    deadLetterQueueUrl: dlq.QueueUrl as string,
  };
}

export async function queuedHarness(options: QueuedHarnessOptions = {}) {
  const maxReceives = Number(options.env?.LAMBDA_SVID_MAX_RECEIVES ?? "3");
  // Long enough that a batch in progress is not delivered to a second worker; failures come back after it.
  const resources = await createQueuedResources(maxReceives, options.visibilitySeconds ?? 6);
  const env = {
    LAMBDA_SVID_STATE_TABLE: resources.table,
    LAMBDA_SVID_WORK_QUEUE_URL: resources.workQueueUrl,
    LAMBDA_SVID_DEAD_LETTER_QUEUE_URL: resources.deadLetterQueueUrl,
    LAMBDA_SVID_RETRY_DELAY: "1s",
    ...options.env,
  };
  const base = await issuerHarness({ ...options, env });
  const config = loadIssuerConfig({
    LAMBDA_SVID_TRUST_DOMAIN: "example.org",
    LAMBDA_SVID_CA: `local:${base.caDir}`,
    LAMBDA_SVID_EXTERNAL_ID: "test-external-id",
    AWS_REGION: "us-east-1",
    ...env,
  });
  const clients = {
    ...base.clients,
    dynamodb: resources.dynamodb,
    sqs: resources.sqs,
    ...options.clients,
  };
  const planner = createPlanner(config, clients, options.now);
  const worker = createWorker(config, clients, options.now);
  const logger = new Logger({ serviceName: "lambda-svid-issuer-test", logLevel: "DEBUG" });
  const store = new IssuerStore(resources.dynamodb, resources.table);
  const workReports: WorkReport[] = [];

  return {
    ...base,
    config,
    resources,
    store,
    workReports,
    /** One planner run, with everything it logged. */
    async plan(request: IssuerRequest = { force: false }) {
      const { result, output } = await captureOutput(() =>
        planner.run(request, () => Number.POSITIVE_INFINITY, logger),
      );
      return { report: result as PlanReport, output };
    },
    /** Runs the event source until the work queue has been empty for `idleMs`; returns what the workers logged. */
    async drain(idleMs = 1_500) {
      const { output } = await captureOutput(async () => {
        const source = startEventSource({
          sqs: resources.sqs,
          queueUrl: resources.workQueueUrl,
          batchSize: 100,
          windowMs: 200,
          maxConcurrency: config.queue.workers,
          handler: async (records) => {
            const out = await worker.handle(
              records,
              options.workerRemainingMs ?? (() => Number.POSITIVE_INFINITY),
              logger,
            );
            workReports.push(out.report);
            return out;
          },
        });
        await source.drained(idleMs);
        await source.stop();
      });
      return output;
    },
    async snapshot(): Promise<Snapshot> {
      return store.load();
    },
    /** Everything in the dead-letter queue (received, left there). */
    async deadLetters(): Promise<Message[]> {
      const out: Message[] = [];
      for (;;) {
        const page = await resources.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: resources.deadLetterQueueUrl,
            MaxNumberOfMessages: 10,
            MessageAttributeNames: ["All"],
            VisibilityTimeout: 30,
          }),
        );
        if (!page.Messages?.length) return out;
        out.push(...page.Messages);
      }
    },
  };
}
