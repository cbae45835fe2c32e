import {
  CreateSecretCommand,
  DescribeSecretCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";
import { ModelHttpHandler, type ObservedCall } from "./handler.ts";
import { TENANT, withModel } from "./harness.ts";
import { Principals } from "./principals.ts";
import { SecretsManagerModel } from "./secrets.ts";

/** Process CPU (ms) since `from`. */
function cpuMsSince(from: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(from);
  return (used.user + used.system) / 1000;
}

/** Spins until this process has used `ms` of CPU: a known amount, whatever else the machine runs. */
function burn(ms: number): void {
  const from = process.cpuUsage();
  while (cpuMsSince(from) < ms) {}
}

describe("ModelHttpHandler", () => {
  it("throttles a share of calls during a burst with the service's own error, which the SDK retries past", async () => {
    await withModel({}, async (aws) => {
      const seen: ObservedCall[] = [];
      aws.handler.observer = (call) => seen.push(call);
      aws.handler.injectThrottling({
        operations: ["STS GetCallerIdentity"],
        from: Date.now(),
        until: Date.now() + 1_000,
        share: 1,
      });
      const sts = new STSClient({ ...aws.clientConfig(), maxAttempts: 20 });
      const out = await sts.send(new GetCallerIdentityCommand({}));
      expect(out.$metadata.attempts).toBeGreaterThan(1);
      expect(seen.at(-1)?.error).toBeUndefined();
      expect(seen.at(-1)?.startedAt).toBeGreaterThanOrEqual((seen[0]?.startedAt ?? 0) + 1_000);
      expect(seen.slice(0, -1).every((c) => c.error === "Throttling")).toBe(true);
      expect(aws.handler.counts.throttled.get("STS GetCallerIdentity")).toBe(seen.length - 1);
    });
  });

  it("answers a JSON service's error with __type and x-amzn-errortype, deserialized into the client's own exception", async () => {
    await withModel({}, async (aws) => {
      const seen: ObservedCall[] = [];
      aws.handler.observer = (call) => seen.push(call);
      const sm = new SecretsManagerClient({ ...aws.clientConfig(TENANT), maxAttempts: 1 });
      const err = await sm
        .send(new DescribeSecretCommand({ SecretId: "absent" }))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ResourceNotFoundException);
      expect(err).toMatchObject({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: { httpStatusCode: 400 },
      });
      expect(seen).toMatchObject([
        {
          service: "SecretsManager",
          operation: "DescribeSecret",
          account: TENANT,
          error: "ResourceNotFoundException",
        },
      ]);
      expect(seen[0]?.answeredAt).toBe((seen[0]?.startedAt ?? 0) + 30);
    });
  });

  it("counts CPU its services and observer spend in the model's share, and the caller's CPU outside it", async () => {
    const writeCpuMs = 40;
    const observerCpuMs = 15;
    const callerCpuMs = 40;
    const principals = new Principals();
    const secrets = new SecretsManagerModel({
      // A write hook runs inside CreateSecret: a model operation that burns a known amount of CPU.
      onWrite: () => burn(writeCpuMs),
      behaviour: { latencyMs: { default: 0 }, quotas: {} },
    });
    const handler = new ModelHttpHandler([secrets], principals);
    handler.observer = () => burn(observerCpuMs);
    const sm = new SecretsManagerClient({
      region: "us-east-1",
      credentials: principals.longTerm(TENANT),
      requestHandler: handler,
    });
    // The SDK loads and resolves its configuration on the first call: not part of what is measured.
    await sm.send(new CreateSecretCommand({ Name: "warm", SecretString: "x" }));

    const cpuFrom = process.cpuUsage();
    const modelFrom = handler.cpu.ms;
    await sm.send(new CreateSecretCommand({ Name: "measured", SecretString: "x" }));
    burn(callerCpuMs);
    const total = cpuMsSince(cpuFrom);
    const model = handler.cpu.ms - modelFrom;
    const caller = total - model;

    expect(model).toBeGreaterThanOrEqual(writeCpuMs + observerCpuMs);
    expect(caller).toBeGreaterThanOrEqual(callerCpuMs);
    // The SDK's own CPU for one warm call is a few milliseconds; the model's burns are not in it.
    expect(caller).toBeLessThan(callerCpuMs + Math.min(writeCpuMs, observerCpuMs));
    expect(model).toBeLessThan(writeCpuMs + observerCpuMs + callerCpuMs);
  });
  it("answers AWS's own callers without an SDK client: Lambda's pollers receive and delete, counted and observed as requests", async () => {
    await withModel({}, async (aws) => {
      const seen: ObservedCall[] = [];
      aws.handler.observer = (call) => seen.push(call);
      const url = aws.sqs.createQueue("work");
      const sqs = new SQSClient(aws.clientConfig());
      await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: "one" }));
      const poller = aws.pollerQueue();
      const started = Date.now();
      const messages = await poller.receive({ QueueUrl: url, MaxNumberOfMessages: 10 });
      expect(messages.map((m) => m.Body)).toEqual(["one"]);
      expect(Date.now() - started).toBe(aws.sqs.latencyMs("ReceiveMessage"));
      await poller.deleteBatch({
        QueueUrl: url,
        Entries: [{ Id: "0", ReceiptHandle: messages[0]?.ReceiptHandle as string }],
      });
      expect(aws.sqs.depth(url)).toEqual({ visible: 0, inflight: 0 });
      expect(seen.map((c) => `${c.service} ${c.operation}`)).toEqual([
        "SQS SendMessage",
        "SQS ReceiveMessage",
        "SQS DeleteMessageBatch",
      ]);
      expect(aws.handler.counts.calls.get("SQS ReceiveMessage")).toBe(1);
      expect(aws.handler.counts.calls.get("SQS DeleteMessageBatch")).toBe(1);
      // A refusal is the service's error, as the SDK would have raised it.
      await expect(
        poller.deleteBatch({
          QueueUrl: `${url}-absent`,
          Entries: [{ Id: "0", ReceiptHandle: "x" }],
        }),
      ).rejects.toMatchObject({ code: "QueueDoesNotExist" });
    });
  });
});
