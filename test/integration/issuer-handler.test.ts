import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Context } from "aws-lambda";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { RunReport } from "../../functions/issuer/run.ts";
import { parseSvidSecret } from "../../layers/spiffe/index.ts";
import { credentialsForAccount } from "../emulator/accounts.ts";
import { createOrganization } from "../emulator/organizations.ts";
import { getSecretInAccount } from "../emulator/secrets.ts";
import { captureOutput, jsonLines } from "../support/capture.ts";

let account: string;
let handler: (event: unknown, context: Context) => Promise<RunReport>;

function context(remainingMs = 60_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: "lambda-svid-issuer",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:lambda-svid-issuer",
    memoryLimitInMB: "512",
    awsRequestId: "c6af9ac6-7b61-11e6-9a41-93e812345678",
    logGroupName: "/aws/lambda/lambda-svid-issuer",
    logStreamName: "2026/11/23/[$LATEST]abcdef",
    getRemainingTimeInMillis: () => remainingMs,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

beforeAll(async () => {
  // The issuer runs with the Organization's management account credentials, as it would in AWS.
  const org = await createOrganization({ accounts: [{ name: "orders-staging" }] });
  account = org.accounts[0]?.id as string;
  const creds = await credentialsForAccount(org.managementAccountId);
  vi.stubEnv("AWS_ACCESS_KEY_ID", creds.accessKeyId);
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", creds.secretAccessKey);
  vi.stubEnv("AWS_SESSION_TOKEN", creds.sessionToken);
  const dir = await mkdtemp(join(tmpdir(), "issuer-handler-"));
  const registry = join(dir, "registry.json");
  await writeFile(
    registry,
    JSON.stringify({
      identities: [{ service: "orders", environment: "staging", accountId: account }],
    }),
  );
  vi.stubEnv("LAMBDA_SVID_TRUST_DOMAIN", "example.org");
  vi.stubEnv("LAMBDA_SVID_REGISTRY", `file:${registry}`);
  vi.stubEnv("LAMBDA_SVID_CA", `local:${join(dir, "ca")}`);
  vi.stubEnv("LAMBDA_SVID_EXTERNAL_ID", "handler-test");
  vi.stubEnv("POWERTOOLS_METRICS_NAMESPACE", "LambdaSvidTest");
  ({ handler } = (await import("../../functions/issuer/handler.ts")) as unknown as {
    handler: typeof handler;
  });
});

describe("issuer handler", () => {
  it("runs a scheduled event end to end and emits EMF metrics and identity-tagged logs", async () => {
    const { result, output } = await captureOutput(() =>
      handler({ source: "aws.events", "detail-type": "Scheduled Event", detail: {} }, context()),
    );
    expect(result.counts).toMatchObject({ issued: 1, failed: 0 });
    const stored = parseSvidSecret(await getSecretInAccount(account, "lambda-svid/svid"));
    expect(stored.svid.id.toString()).toBe("spiffe://example.org/staging/orders");

    const lines = jsonLines(output);
    const emf = lines.find((l) => "_aws" in l);
    expect(emf?.SvidsIssued).toBe(1);
    expect(typeof emf?.MinSecondsToExpiry).toBe("number");
    const issued = lines.find((l) => l.message === "issued");
    expect(issued?.identity).toBe(`orders/staging@${account}`);
    expect(issued?.function_request_id).toBe("c6af9ac6-7b61-11e6-9a41-93e812345678");
    expect(output).not.toContain("PRIVATE KEY");
  });

  it("a direct reissue with force renews a fresh SVID", async () => {
    const { result } = await captureOutput(() =>
      handler({ action: "reissue", force: true, accounts: [account] }, context()),
    );
    expect(result.counts.issued).toBe(1);
    const skipped = await captureOutput(() => handler({ action: "reissue" }, context()));
    expect(skipped.result.counts["skipped-fresh"]).toBe(1);
  });

  it("rejects any other event with a validation error that names the problem", async () => {
    await expect(
      captureOutput(() => handler({ action: "reissue", accounts: ["nope"] }, context())),
    ).rejects.toThrow("accounts.0: a 12-digit AWS account id");
    await expect(captureOutput(() => handler({ hello: "world" }, context()))).rejects.toThrow(
      "event: expected an EventBridge",
    );
  });

  it("invoked with less time left than the margin, returns at once with its report and metrics", async () => {
    const started = Date.now();
    const { result, output } = await captureOutput(() =>
      handler({ action: "reissue", force: true }, context(1_000)),
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(result).toMatchObject({ registryRead: false, deadlineReached: true });
    expect(result.counts).toMatchObject({ issued: 0, failed: 0 });
    const lines = jsonLines(output);
    expect(lines.some((l) => l.message === "registry not read before the deadline")).toBe(true);
    const emf = lines.find((l) => "_aws" in l);
    expect(emf?.RunDeadlineReached).toBe(1);
    expect(emf?.SvidsFailed).toBe(0);
  });
});
