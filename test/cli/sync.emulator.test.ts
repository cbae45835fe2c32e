import type { Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { encodeSvidSecret, parseX509Svid } from "../../layers/spiffe/index.ts";
import { credentialsForAccount, randomAccountId } from "../emulator/accounts.ts";
import { createSecretInAccount, getSecretInAccount } from "../emulator/secrets.ts";
import { TestCa } from "../support/ca.ts";
import {
  type KeywhizListening,
  KeywhizStandIn,
  keywhizServerCredentials,
} from "../support/keywhiz.ts";
import { LambdaInvokeStandIn } from "../support/lambda-invoke.ts";
import { expectNothingSecret, runCli } from "./cli-harness.ts";

/**
 * `lambda-svid sync` against a stand-in of the Lambda Invoke API that runs the
 * REAL syncer handler in this process, against the emulator (moto cannot run
 * Lambda functions without Docker). What this does not show: that a deployed
 * syncer's Lambda wiring answers the same way.
 */
const account = randomAccountId();
const FUNCTION_ARN = `arn:aws:lambda:us-east-1:${account}:function:lambda-svid-syncer`;
let keywhiz: KeywhizStandIn;
let listening: KeywhizListening;
let invoke: LambdaInvokeStandIn;
let operatorEnv: Record<string, string>;

beforeAll(async () => {
  const ca = await TestCa.root("example.org");
  const pem = await ca.svid("/prod/orders");
  await createSecretInAccount(account, {
    name: "lambda-svid/svid",
    secretString: encodeSvidSecret(parseX509Svid(pem.chainPem, pem.keyPem), ca.bundle()),
  });
  const serverTls = await keywhizServerCredentials();
  keywhiz = new KeywhizStandIn({ clientCaPem: ca.root.certPem, server: serverTls });
  keywhiz.setSecret("orders-db", Buffer.from("s3cr3t-value"));
  keywhiz.setSecret("orders-api-key", Buffer.from("an-api-key-value"));
  keywhiz.grant("spiffe://example.org/prod/orders", "orders-db");
  keywhiz.grant("spiffe://example.org/prod/orders", "orders-api-key");
  listening = await keywhiz.start();
  // The syncer runs with the tenant account's own credentials, as its Lambda role would give it.
  const creds = await credentialsForAccount(account);
  vi.stubEnv("AWS_ACCESS_KEY_ID", creds.accessKeyId);
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", creds.secretAccessKey);
  vi.stubEnv("AWS_SESSION_TOKEN", creds.sessionToken);
  vi.stubEnv("LAMBDA_SVID_KEYWHIZ_URL", listening.url);
  vi.stubEnv("LAMBDA_SVID_KEYWHIZ_CA", serverTls.caPem);
  vi.stubEnv("LAMBDA_SVID_SYNC_OPT_IN", "orders-*");
  vi.stubEnv("POWERTOOLS_METRICS_NAMESPACE", "LambdaSvidTest");
  const { handler } = (await import("../../functions/syncer/handler.ts")) as unknown as {
    handler: (event: unknown, context: Context) => Promise<unknown>;
  };
  invoke = await LambdaInvokeStandIn.start({ [FUNCTION_ARN]: handler });
  // The operator: another principal (moto's default account), through the operator role in the tenant.
  operatorEnv = {
    AWS_ACCESS_KEY_ID: "testing",
    AWS_SECRET_ACCESS_KEY: "testing",
    AWS_SESSION_TOKEN: "",
    AWS_ENDPOINT_URL_LAMBDA: invoke.endpoint,
    LAMBDA_SVID_OPERATOR_ROLE: "lambda-svid-operator",
  };
});

afterAll(async () => {
  await invoke?.close();
  await listening?.close();
});

describe("lambda-svid sync", { timeout: 120_000 }, () => {
  it("invokes the tenant's syncer with a re-sync of the named secret and prints its summary; exit 0", async () => {
    const run = await runCli(["sync", "--account", account, "--secret", "orders-db"], operatorEnv);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(invoke.invocations).toEqual([
      {
        functionName: FUNCTION_ARN,
        payload: { action: "resync", secrets: ["orders-db"] },
        signedFor: "lambda",
      },
    ]);
    expect(run.stdout).toBe(
      "syncer ok as spiffe://example.org/prod/orders: written 1, unchanged 0, deleted 0, skipped 0, failed 0; 2 Keywhiz requests\nwritten: orders-db\n",
    );
    const stored = await getSecretInAccount(account, "keywhiz/orders-db");
    expect(Buffer.from(stored.SecretBinary as Uint8Array).toString()).toBe("s3cr3t-value");
    expectNothingSecret(run, operatorEnv);
    expect(run.stdout).not.toContain("s3cr3t-value");
  });

  it("--force of everything: the rest is written, the unchanged one rewritten", async () => {
    const run = await runCli(["sync", "--account", account, "--force"], operatorEnv);
    expect(run.code).toBe(0);
    expect(invoke.invocations.at(-1)?.payload).toEqual({ action: "resync", force: true });
    expect(run.stdout.split("\n")[0]).toMatch(
      /^syncer ok as spiffe:\/\/example.org\/prod\/orders: written 2, /,
    );
    expect(run.stdout).not.toContain("an-api-key-value");
  });

  it("a syncer that fails as a whole is reported with its error; exit 3", async () => {
    keywhiz.inject(
      { kind: "status", status: 503 },
      { endpoint: "GET /secrets", times: Number.POSITIVE_INFINITY },
    );
    try {
      const run = await runCli(["sync", "--account", account], operatorEnv);
      expect(run.code).toBe(3);
      expect(run.stderr).toMatch(
        new RegExp(
          `^lambda-svid sync: cli: invoke: the function failed: ${FUNCTION_ARN}: SyncerError: `,
        ),
      );
    } finally {
      keywhiz.clearFaults();
    }
  });

  it("a function that does not exist in that account: exit 3 with the SDK's error", async () => {
    const other = randomAccountId();
    const run = await runCli(["sync", "--account", other], operatorEnv);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /^lambda-svid sync: Function not found: arn:aws:lambda:us-east-1:\d{12}:function:lambda-svid-syncer/,
    );
  });
});
