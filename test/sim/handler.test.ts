import {
  DescribeSecretCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";
import type { ObservedCall } from "./handler.ts";
import { TENANT, withModel } from "./harness.ts";

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
});
