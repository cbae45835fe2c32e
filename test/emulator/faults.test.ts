import { ACMPCAClient, GetCertificateAuthorityCertificateCommand } from "@aws-sdk/client-acm-pca";
import {
  GetSecretValueCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from "@aws-sdk/client-secrets-manager";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { ConfiguredRetryStrategy } from "@smithy/core/retry";
import { beforeAll, describe, expect, it } from "vitest";
import { clientConfigForAccount, randomAccountId } from "./accounts.ts";
import { countCalls, injectFaults, seededRandom } from "./faults.ts";
import { createPrivateCa } from "./pca.ts";
import { createSecretInAccount } from "./secrets.ts";

const MAX_ATTEMPTS = 3;

/** The SDK's own retry strategy, with 1 ms backoff instead of its 100–500 ms base. */
const fastRetries = (maxAttempts = MAX_ATTEMPTS) => ({
  retryStrategy: new ConfiguredRetryStrategy(maxAttempts, 1),
});

const account = randomAccountId();
const SECRET = "faults/secret";

function secretsClient(maxAttempts = MAX_ATTEMPTS): SecretsManagerClient {
  return new SecretsManagerClient({
    ...clientConfigForAccount(account),
    ...fastRetries(maxAttempts),
  });
}

const read = (client: SecretsManagerClient) =>
  client.send(new GetSecretValueCommand({ SecretId: SECRET }));

beforeAll(async () => {
  await createSecretInAccount(account, { name: SECRET, secretString: "real value" });
});

describe("injectFaults", () => {
  it("throttles below the SDK retry, which retries into the emulator and succeeds", async () => {
    const client = secretsClient();
    const faults = injectFaults(client, {
      commands: ["GetSecretValue"],
      kind: "throttle",
      times: 2,
    });

    const result = await read(client);

    expect(result.SecretString).toBe("real value");
    expect(result.$metadata.attempts).toBe(3);
    expect(faults.count("GetSecretValue")).toBe(3);
    expect(faults.injected).toBe(2);
  });

  it("surfaces the service's own exception once the attempts are used up", async () => {
    const client = secretsClient();
    const faults = injectFaults(client, {
      commands: ["GetSecretValue"],
      kind: "throttle",
      times: MAX_ATTEMPTS + 1,
    });

    const error = await read(client).catch((e: unknown) => e);

    // Built by the client's own deserializer from the injected HTTP response.
    expect(error).toBeInstanceOf(SecretsManagerServiceException);
    expect(error).toMatchObject({
      name: "ThrottlingException",
      message: "Rate exceeded",
      $fault: "client",
      $metadata: { httpStatusCode: 400, attempts: MAX_ATTEMPTS },
    });
    expect(faults.count("GetSecretValue")).toBe(MAX_ATTEMPTS);
  });

  it("retries a 500 as a server error", async () => {
    const client = secretsClient();
    const faults = injectFaults(client, {
      commands: ["GetSecretValue"],
      kind: "server-error",
      times: 1,
    });

    expect((await read(client)).SecretString).toBe("real value");
    expect(faults.count("GetSecretValue")).toBe(2);
  });

  it("retries a transport timeout as transient", async () => {
    const client = secretsClient();
    const faults = injectFaults(client, {
      commands: ["GetSecretValue"],
      kind: "timeout",
      times: 2,
    });

    expect((await read(client)).SecretString).toBe("real value");
    expect(faults.count("GetSecretValue")).toBe(3);
  });

  it("does not retry an access denial", async () => {
    const client = secretsClient();
    const faults = injectFaults(client, { commands: ["GetSecretValue"], kind: "access-denied" });

    await expect(read(client)).rejects.toMatchObject({
      name: "AccessDeniedException",
      $metadata: { attempts: 1 },
    });
    expect(faults.count("GetSecretValue")).toBe(1);
  });

  it("answers ResourceNotFoundException as the service's own exception, not retried", async () => {
    const client = secretsClient();
    const faults = injectFaults(client, { commands: ["GetSecretValue"], kind: "not-found" });
    await expect(read(client)).rejects.toMatchObject({
      name: "ResourceNotFoundException",
      $metadata: { attempts: 1 },
    });
    expect(faults.count("GetSecretValue")).toBe(1);
  });

  it("delays a request, then sends it on to the emulator", async () => {
    const client = secretsClient();
    injectFaults(client, { commands: ["GetSecretValue"], kind: "delay", delayMs: 300 });
    const started = performance.now();
    expect((await read(client)).SecretString).toBe("real value");
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it("gives up a delayed request when the caller's abortSignal fires", async () => {
    const client = secretsClient();
    const faults = injectFaults(client, { commands: ["GetSecretValue"], kind: "delay" });
    const started = performance.now();
    const error = await client
      .send(new GetSecretValueCommand({ SecretId: SECRET }), {
        abortSignal: AbortSignal.timeout(200),
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "AbortError" });
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(faults.count("GetSecretValue")).toBe(1);
  });

  it("speaks the query protocol to STS: a throttle is retried, a denial is AccessDenied", async () => {
    const sts = new STSClient({ ...clientConfigForAccount(account), ...fastRetries() });
    const throttle = injectFaults(sts, {
      commands: ["GetCallerIdentity"],
      kind: "throttle",
      times: 1,
    });
    expect((await sts.send(new GetCallerIdentityCommand({}))).Account).toBe(account);
    expect(throttle.count("GetCallerIdentity")).toBe(2);
    throttle.remove();

    injectFaults(sts, { commands: ["GetCallerIdentity"], kind: "access-denied" });
    await expect(sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: "AccessDenied",
      $metadata: { httpStatusCode: 403, attempts: 1 },
    });
  });

  it("faults only the listed operations and only inputs that `when` accepts", async () => {
    const client = secretsClient(1);
    injectFaults(client, {
      commands: ["GetSecretValue"],
      kind: "access-denied",
      when: (input) => input.SecretId === "faults/other",
    });

    expect((await read(client)).SecretString).toBe("real value");
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: "faults/other" })),
    ).rejects.toThrow(expect.objectContaining({ name: "AccessDeniedException" }));
  });

  it("faults a seeded, repeatable share of calls with `probability`", async () => {
    const faultedRuns = [];
    for (let run = 0; run < 2; run++) {
      const client = secretsClient(1);
      const faults = injectFaults(client, {
        commands: ["GetSecretValue"],
        kind: "server-error",
        probability: 0.3,
        random: seededRandom(7),
      });
      const outcomes = [];
      for (let i = 0; i < 20; i++)
        outcomes.push(
          await read(client).then(
            () => "ok",
            () => "fault",
          ),
        );
      expect(faults.injected).toBe(outcomes.filter((o) => o === "fault").length);
      faultedRuns.push(outcomes.join(","));
    }
    expect(faultedRuns[0]).toBe(faultedRuns[1]);
    const faulted = faultedRuns[0]?.split(",").filter((o) => o === "fault").length ?? 0;
    expect(faulted).toBeGreaterThan(0);
    expect(faulted).toBeLessThan(20);
  });

  it("works on the pinned ACM PCA client and its older middleware stack", async () => {
    const ca = await createPrivateCa();
    // Its retry middleware predates @smithy/core's strategies, so it keeps its own
    // (a 5xx backs off at most 200 ms before the one retry).
    const pca = new ACMPCAClient(ca.clientConfig);
    const faults = injectFaults(pca, {
      commands: ["GetCertificateAuthorityCertificate"],
      kind: "server-error",
      times: 1,
    });
    const { Certificate } = await pca.send(
      new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: ca.arn }),
    );
    expect(Certificate?.trim()).toBe(ca.certificatePem.trim());
    expect(faults.count("GetCertificateAuthorityCertificate")).toBe(2);
  });

  it("stops faulting once removed", async () => {
    const client = secretsClient(1);
    const faults = injectFaults(client, { commands: ["GetSecretValue"], kind: "server-error" });
    await expect(read(client)).rejects.toMatchObject({ name: "InternalFailure" });
    faults.remove();
    expect((await read(client)).SecretString).toBe("real value");
    expect(faults.count("GetSecretValue")).toBe(1);
  });
});

describe("countCalls", () => {
  it("counts every attempt by operation and keeps each attempt's input", async () => {
    const client = secretsClient();
    const calls = countCalls(client);
    injectFaults(client, { commands: ["GetSecretValue"], kind: "throttle", times: 1 });

    await read(client);
    await client.send(new GetSecretValueCommand({ SecretId: SECRET, VersionStage: "AWSCURRENT" }));

    expect(calls.count("GetSecretValue")).toBe(3);
    expect(calls.count("PutSecretValue")).toBe(0);
    expect(calls.total).toBe(3);
    expect(calls.inputs("GetSecretValue")).toEqual([
      { SecretId: SECRET },
      { SecretId: SECRET },
      { SecretId: SECRET, VersionStage: "AWSCURRENT" },
    ]);
  });

  it("with keepInputs false counts the same and holds nothing that was sent", async () => {
    const client = secretsClient();
    const calls = countCalls(client, { keepInputs: false });
    await client.send(new GetSecretValueCommand({ SecretId: SECRET }));
    await client.send(new GetSecretValueCommand({ SecretId: SECRET, VersionStage: "AWSCURRENT" }));
    expect(calls.count("GetSecretValue")).toBe(2);
    expect(calls.total).toBe(2);
    expect(calls.inputs("GetSecretValue")).toEqual([]);
  });
});
