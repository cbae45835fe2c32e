import type { Context } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { SyncerReason } from "../../functions/syncer/errors.ts";
import type { SyncReport } from "../../functions/syncer/run.ts";
import { encodeSvidSecret, parseX509Svid } from "../../layers/spiffe/index.ts";
import { credentialsForAccount, randomAccountId } from "../emulator/accounts.ts";
import {
  createSecretInAccount,
  describeSecretInAccount,
  getSecretInAccount,
} from "../emulator/secrets.ts";
import { TestCa } from "../support/ca.ts";
import { captureOutput, jsonLines } from "../support/capture.ts";
import {
  type KeywhizListening,
  KeywhizStandIn,
  keywhizServerCredentials,
} from "../support/keywhiz.ts";

const account = randomAccountId();
let handler: (event: unknown, context: Context) => Promise<SyncReport>;
let keywhiz: KeywhizStandIn;
let listening: KeywhizListening;

const context = {
  functionName: "lambda-svid-syncer",
  awsRequestId: "0b3f2c1e-1111-2222-3333-444455556666",
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

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
  keywhiz.grant("spiffe://example.org/prod/orders", "orders-db");
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
  ({ handler } = (await import("../../functions/syncer/handler.ts")) as unknown as {
    handler: typeof handler;
  });
});

afterAll(() => listening?.close());

describe("syncer handler", () => {
  it("a scheduled run mirrors the opted-in secret and emits metrics without the content", async () => {
    const { result, output } = await captureOutput(() =>
      handler({ source: "aws.events", "detail-type": "Scheduled Event", detail: {} }, context),
    );
    expect(result.written.map((w) => w.secretName)).toEqual(["keywhiz/orders-db"]);
    const stored = await getSecretInAccount(account, "keywhiz/orders-db");
    expect(Buffer.from(stored.SecretBinary as Uint8Array).toString()).toBe("s3cr3t-value");
    const emf = jsonLines(output).find((l) => "_aws" in l);
    expect(emf?.SecretsWritten).toBe(1);
    expect(output).not.toContain("s3cr3t-value");
  });

  it("a refused deletion is reported, counted as a metric and logged; the invocation succeeds", async () => {
    keywhiz.revoke("spiffe://example.org/prod/orders", "orders-db");
    try {
      const { result, output } = await captureOutput(() => handler({ action: "resync" }, context));
      expect(result.deleted).toEqual([]);
      expect(result.deletionRefused?.secretNames).toEqual(["keywhiz/orders-db"]);
      const lines = jsonLines(output);
      expect(lines.find((l) => "_aws" in l)?.DeletionsRefused).toBe(1);
      expect(lines.find((l) => l.message === "deletion refused")).toMatchObject({
        level: "ERROR",
        reason: expect.stringMatching(/^syncer: deletion refused: Keywhiz listed no secrets/),
      });
      const described = await describeSecretInAccount(account, "keywhiz/orders-db");
      expect(described.DeletedDate).toBeUndefined();
    } finally {
      keywhiz.grant("spiffe://example.org/prod/orders", "orders-db");
    }
  });

  it("a run that fails as a whole fails the invocation", async () => {
    keywhiz.inject(
      { kind: "status", status: 500 },
      { endpoint: "GET /secrets", times: Number.POSITIVE_INFINITY },
    );
    await expect(captureOutput(() => handler({ action: "resync" }, context))).rejects.toMatchObject(
      {
        name: "SyncerError",
        reason: SyncerReason.RUN_FAILED,
        message:
          "syncer: sync run failed: KeywhizError: keywhiz: server unavailable: GET /secrets returned 500",
      },
    );
    keywhiz.clearFaults();
  });

  it("rejects other events with a validation error", async () => {
    await expect(
      captureOutput(() => handler({ action: "resync", secrets: "orders-db" }, context)),
    ).rejects.toThrow("secrets: Invalid input");
  });
});
