import { inspect } from "node:util";
import {
  ACMPCAClient,
  GetCertificateCommand,
  IssueCertificateCommand,
  RequestInProgressException,
  waitUntilCertificateIssued,
} from "@aws-sdk/client-acm-pca";
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import { ConfiguredRetryStrategy } from "@smithy/core/retry";
import { describe, expect, it } from "vitest";
import { mintRequest } from "../../functions/issuer/mint.ts";
import { parseSpiffeId } from "../../layers/spiffe/index.ts";
import { clientConfigForAccount, randomAccountId } from "../emulator/accounts.ts";
import { injectFaults } from "../emulator/faults.ts";
import { createPrivateCa } from "../emulator/pca.ts";
import { modelCaLatency } from "./ca-latency.ts";
import { CallRecorder } from "./calls.ts";

describe("CallRecorder", () => {
  it("keeps service and operation names only: no secret value, key or credential", async () => {
    const recorder = new CallRecorder();
    const account = randomAccountId();
    const sm = recorder.attach(new SecretsManagerClient(clientConfigForAccount(account)));
    const sts = recorder.attach(new STSClient(clientConfigForAccount(account)));
    const secretString = `string-${randomAccountId()}`;
    const secretBinary = `binary-${randomAccountId()}`;
    const window = recorder.open();

    await sm.send(new CreateSecretCommand({ Name: "bench/recorder", SecretString: secretString }));
    await sm.send(
      new PutSecretValueCommand({
        SecretId: "bench/recorder",
        SecretBinary: Buffer.from(secretBinary),
      }),
    );
    const read = await sm.send(new GetSecretValueCommand({ SecretId: "bench/recorder" }));
    const assumed = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${account}:role/bench`,
        RoleSessionName: "bench",
        ExternalId: "bench-external-id",
      }),
    );
    const seen = window.close();

    expect(Buffer.from(read.SecretBinary ?? []).toString()).toBe(secretBinary);
    expect(Object.fromEntries(seen.calls)).toEqual({
      "SecretsManager CreateSecret": 1,
      "SecretsManager PutSecretValue": 1,
      "SecretsManager GetSecretValue": 1,
      "STS AssumeRole": 1,
    });
    const everything = inspect([recorder, seen], {
      depth: Number.POSITIVE_INFINITY,
      showHidden: true,
    });
    const secrets = [
      secretString,
      secretBinary,
      Buffer.from(secretBinary).toString("base64"),
      "bench-external-id",
      assumed.Credentials?.AccessKeyId,
      assumed.Credentials?.SecretAccessKey,
      assumed.Credentials?.SessionToken,
    ];
    for (const secret of secrets) {
      expect(secret).toBeTruthy();
      expect(everything).not.toContain(secret);
    }
  });

  it("counts every attempt, retries included, in each open window", async () => {
    const recorder = new CallRecorder();
    const sm = recorder.attach(
      new SecretsManagerClient({
        ...clientConfigForAccount(randomAccountId()),
        retryStrategy: new ConfiguredRetryStrategy(3, 1),
      }),
    );
    const outer = recorder.open();
    await sm.send(new CreateSecretCommand({ Name: "bench/retried", SecretString: "x" }));
    const inner = recorder.open();
    injectFaults(sm, { commands: ["GetSecretValue"], kind: "throttle", times: 2 });
    await sm.send(new GetSecretValueCommand({ SecretId: "bench/retried" }));

    expect(inner.close().total()).toBe(3);
    const all = outer.close();
    expect(all.total("SecretsManager")).toBe(4);
    expect(all.calls.get("SecretsManager GetSecretValue")).toBe(3);
    expect(all.firstAt("SecretsManager")).toBeLessThanOrEqual(
      all.firstAtMs.get("SecretsManager GetSecretValue") as number,
    );
    expect(all.firstAt("STS")).toBeUndefined();
  });
});

describe("modelCaLatency", () => {
  it("answers each call after 100 ms and the certificate only 500 ms after issue; the SDK waiter polls until then", async () => {
    const ca = await createPrivateCa();
    const recorder = new CallRecorder();
    const client = recorder.attach(
      modelCaLatency(new ACMPCAClient(ca.clientConfig), { answerMs: 100, readyAfterMs: 500 }),
    );
    const minted = mintRequest(parseSpiffeId("spiffe://example.org/bench/latency"), "EC_P256");
    const window = recorder.open();

    const t0 = performance.now();
    const { CertificateArn } = await client.send(
      new IssueCertificateCommand({
        CertificateAuthorityArn: ca.arn,
        Csr: Buffer.from(minted.csrPem),
        SigningAlgorithm: "SHA256WITHECDSA",
        Validity: { Type: "DAYS", Value: 1 },
      }),
    );
    const issued = performance.now();
    expect(issued - t0).toBeGreaterThanOrEqual(100);
    const request = { CertificateAuthorityArn: ca.arn, CertificateArn };
    await expect(client.send(new GetCertificateCommand(request))).rejects.toBeInstanceOf(
      RequestInProgressException,
    );

    const waited = await waitUntilCertificateIssued(
      { client, maxWaitTime: 10, minDelay: 1, maxDelay: 1 },
      request,
    );

    expect(waited.state).toBe("SUCCESS");
    expect(performance.now() - issued).toBeGreaterThanOrEqual(500);
    const seen = window.close();
    expect(seen.calls.get("ACMPCA IssueCertificate")).toBe(1);
    // The refused call above, at least one refused poll, then the one that succeeds.
    expect(seen.calls.get("ACMPCA GetCertificate")).toBeGreaterThanOrEqual(3);
  });
});
