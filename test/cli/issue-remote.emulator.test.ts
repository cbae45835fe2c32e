import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { credentialsForAccount } from "../emulator/accounts.ts";
import { createOrganization } from "../emulator/organizations.ts";
import { createQueuedResources } from "../integration/issuer-queued-harness.ts";
import { LambdaInvokeStandIn } from "../support/lambda-invoke.ts";
import { EXTERNAL_ID, expectNothingSecret, runCli } from "./cli-harness.ts";

/**
 * `lambda-svid issue --remote` against a stand-in of the Lambda Invoke API
 * that runs the REAL issuer handler in this process, configured as
 * serverless.yml deploys it (a planner with a state table and a work queue),
 * against the emulator. Moto cannot run Lambda functions without Docker; what
 * this does not show is the deployed function's own Lambda wiring.
 */
const FUNCTION = "lambda-svid-issuer-test";
let invoke: LambdaInvokeStandIn;
let accounts: string[];
let table: string;
let operatorEnv: Record<string, string>;

beforeAll(async () => {
  const org = await createOrganization({
    accounts: ["a", "b"].map((name) => ({
      name,
      tags: {
        "lambda-svid:enabled": "true",
        "lambda-svid:service": `svc-${name}`,
        "lambda-svid:environment": "prod",
      },
    })),
  });
  accounts = org.accounts.map((a) => a.id);
  const creds = await credentialsForAccount(org.managementAccountId);
  vi.stubEnv("AWS_ACCESS_KEY_ID", creds.accessKeyId);
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", creds.secretAccessKey);
  vi.stubEnv("AWS_SESSION_TOKEN", creds.sessionToken);
  const resources = await createQueuedResources(3, 60);
  table = resources.table;
  const dir = await mkdtemp(join(tmpdir(), "lambda-svid-cli-remote-"));
  const env = {
    LAMBDA_SVID_TRUST_DOMAIN: "example.org",
    LAMBDA_SVID_CA: `local:${join(dir, "ca")}`,
    LAMBDA_SVID_EXTERNAL_ID: EXTERNAL_ID,
    LAMBDA_SVID_STATE_TABLE: resources.table,
  };
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  vi.stubEnv("LAMBDA_SVID_WORK_QUEUE_URL", resources.workQueueUrl);
  vi.stubEnv("POWERTOOLS_METRICS_NAMESPACE", "LambdaSvidTest");
  vi.stubEnv("POWERTOOLS_LOG_LEVEL", "WARN");
  const { handler } = (await import("../../functions/issuer/handler.ts")) as unknown as {
    handler: (event: unknown, context: Context) => Promise<unknown>;
  };
  invoke = await LambdaInvokeStandIn.start({ [FUNCTION]: handler });
  operatorEnv = {
    AWS_ACCESS_KEY_ID: creds.accessKeyId,
    AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
    AWS_SESSION_TOKEN: creds.sessionToken ?? "",
    AWS_ENDPOINT_URL_LAMBDA: invoke.endpoint,
    ...env,
  };
});

afterAll(() => invoke?.close());

describe("lambda-svid issue --remote", { timeout: 120_000 }, () => {
  it("sends the narrowed re-issue to the deployed planner, prints what it queued; status shows it pending", async () => {
    const [a, b] = accounts as [string, string];
    const run = await runCli(
      ["issue", "--remote", "--function", FUNCTION, "--account", a, "--force"],
      operatorEnv,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(invoke.invocations).toEqual([
      {
        functionName: FUNCTION,
        payload: { action: "reissue", force: true, accounts: [a] },
        signedFor: "lambda",
      },
    ]);
    const lines = run.stdout.trim().split("\n");
    expect(lines[0]).toBe(
      "planned 1 identities: queued new 0, renew 0, changed 0, check 0, reissue 1; pending 0; failed before 0",
    );
    expect(lines.at(-1)).toBe(
      "the issuer workers issue what was queued; `lambda-svid status` shows their outcomes",
    );
    expectNothingSecret(run, operatorEnv);

    const status = await runCli(["status", "--json"], operatorEnv);
    expect(status.code).toBe(1);
    const parsed = JSON.parse(status.stdout) as {
      source: string;
      identities: Array<{ accountId: string; outcome: string }>;
    };
    expect(parsed.source).toBe(`state table ${table}`);
    const rows = parsed.identities;
    expect(Object.fromEntries(rows.map((r) => [r.accountId, r.outcome]))).toEqual({
      [a]: "pending",
      [b]: "missing",
    });
  });

  it("without a function name: exit 3, naming the variable and the option", async () => {
    const run = await runCli(["issue", "--remote"], operatorEnv);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(
      'lambda-svid issue: config: LAMBDA_SVID_ISSUER_FUNCTION is ""; expected the deployed issuer\'s function name or ARN (or --function), such as lambda-svid-issuer-prod\n',
    );
  });
});
