/**
 * The deployed handlers as serverless.yml wires them: `handler` with a work
 * queue configured is the planner, `worker` takes the queue's SQS event.
 * The event records are built from real ReceiveMessage answers, as Lambda's
 * event source builds them.
 */
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { PlanReport } from "../../functions/issuer/planner.ts";
import { parseSvidSecret } from "../../layers/spiffe/index.ts";
import { credentialsForAccount } from "../emulator/accounts.ts";
import { createOrganization } from "../emulator/organizations.ts";
import { getSecretInAccount } from "../emulator/secrets.ts";
import { captureOutput, jsonLines } from "../support/capture.ts";
import { createQueuedResources } from "./issuer-queued-harness.ts";

let account: string;
let resources: Awaited<ReturnType<typeof createQueuedResources>>;
let handler: (event: unknown, context: Context) => Promise<PlanReport>;
let worker: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

const context = (): Context =>
  ({
    functionName: "lambda-svid-issuer",
    awsRequestId: "0f5b6f2a-7b61-11e6-9a41-93e812345678",
    getRemainingTimeInMillis: () => 600_000,
  }) as unknown as Context;

beforeAll(async () => {
  const org = await createOrganization({ accounts: [{ name: "orders-prod" }] });
  account = org.accounts[0]?.id as string;
  const creds = await credentialsForAccount(org.managementAccountId);
  vi.stubEnv("AWS_ACCESS_KEY_ID", creds.accessKeyId);
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", creds.secretAccessKey);
  vi.stubEnv("AWS_SESSION_TOKEN", creds.sessionToken);
  resources = await createQueuedResources(3, 60);
  const dir = await mkdtemp(join(tmpdir(), "issuer-handler-queued-"));
  const registry = join(dir, "registry.json");
  await writeFile(
    registry,
    JSON.stringify({
      identities: [{ service: "orders", environment: "prod", accountId: account }],
    }),
  );
  vi.stubEnv("LAMBDA_SVID_TRUST_DOMAIN", "example.org");
  vi.stubEnv("LAMBDA_SVID_REGISTRY", `file:${registry}`);
  vi.stubEnv("LAMBDA_SVID_CA", `local:${join(dir, "ca")}`);
  vi.stubEnv("LAMBDA_SVID_EXTERNAL_ID", "handler-test");
  vi.stubEnv("LAMBDA_SVID_STATE_TABLE", resources.table);
  vi.stubEnv("LAMBDA_SVID_WORK_QUEUE_URL", resources.workQueueUrl);
  vi.stubEnv("LAMBDA_SVID_DEAD_LETTER_QUEUE_URL", resources.deadLetterQueueUrl);
  vi.stubEnv("POWERTOOLS_METRICS_NAMESPACE", "LambdaSvidTest");
  ({ handler, worker } = (await import("../../functions/issuer/handler.ts")) as unknown as {
    handler: typeof handler;
    worker: typeof worker;
  });
});

describe("issuer handlers with a work queue", () => {
  it("the scheduled event plans onto the queue, and the worker's SQS event issues", async () => {
    const planned = await captureOutput(() =>
      handler({ source: "aws.events", "detail-type": "Scheduled Event", detail: {} }, context()),
    );
    expect(planned.result.queued.new).toBe(1);
    const planMetrics = jsonLines(planned.output).find((l) => "_aws" in l);
    expect(planMetrics?.IdentitiesQueued).toBe(1);

    const received = await resources.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: resources.workQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    const records = (received.Messages ?? []).map((m) => ({
      messageId: m.MessageId as string,
      receiptHandle: m.ReceiptHandle as string,
      body: m.Body as string,
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? "1",
        SentTimestamp: m.Attributes?.SentTimestamp ?? "0",
        SenderId: m.Attributes?.SenderId ?? "0",
        ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? "0",
      },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody ?? "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:123456789012:work",
      awsRegion: "us-east-1",
    }));
    expect(records).toHaveLength(1);
    const worked = await captureOutput(() => worker({ Records: records }, context()));
    expect(worked.result).toEqual({ batchItemFailures: [] });
    const workMetrics = jsonLines(worked.output).find((l) => "_aws" in l);
    expect(workMetrics?.SvidsIssued).toBe(1);
    expect(worked.output).not.toContain("PRIVATE KEY");
    const stored = parseSvidSecret(await getSecretInAccount(account, "lambda-svid/svid"));
    expect(stored.svid.id.toString()).toBe("spiffe://example.org/prod/orders");

    const again = await captureOutput(() => handler({ action: "reissue" }, context()));
    expect(again.result.queued).toEqual({ new: 0, renew: 0, changed: 0, check: 0, reissue: 0 });
  });
});
