import { randomBytes } from "node:crypto";
import { ACMPCAClient, DescribeCertificateAuthorityCommand } from "@aws-sdk/client-acm-pca";
import { ResourceNotFoundException } from "@aws-sdk/client-secrets-manager";
import type {
  FinalizeHandler,
  FinalizeHandlerArguments,
  HandlerExecutionContext,
  MetadataBearer,
} from "@smithy/types";
import { describe, expect, it } from "vitest";
import {
  AcmPcaCertificateAuthority,
  type AcmPcaOptions,
  acmPcaClient,
} from "../../functions/issuer/ca/acm-pca.ts";
import { CaError, CaReason, IssueCheckReason } from "../../functions/issuer/errors.ts";
import { mintRequest } from "../../functions/issuer/mint.ts";
import {
  parseCertificateChain,
  parseSpiffeId,
  parseTrustDomain,
} from "../../layers/spiffe/index.ts";
import { DeadlineError, RateLimiter, realTimer, type Timer } from "../../lib/limits/index.ts";
import { type CaLatency, modelCaLatency } from "../bench/ca-latency.ts";
import { type CallCount, countCalls, injectFaults } from "../emulator/faults.ts";
import { createPrivateCa } from "../emulator/pca.ts";
import { issuerHarness } from "./issuer-harness.ts";

/**
 * A timer whose clock is the sum of the waits it was asked for, so the
 * adapter's give-up message is exact, while each wait still takes its real
 * time on the emulator. `onSleep` sees every wait as it starts.
 */
function steppedTimer(onSleep: (ms: number, index: number) => void = () => {}): Timer & {
  slept: number[];
} {
  let now = 0;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms, signal) => {
      slept.push(ms);
      onSleep(ms, slept.length - 1);
      await realTimer.sleep(ms, signal);
      now += ms;
    },
  };
}

/** When each GetCertificate request left, below the retry middleware as `countCalls` counts. */
function pollTimes(client: ACMPCAClient): number[] {
  const times: number[] = [];
  client.middlewareStack.addRelativeTo(
    (next: FinalizeHandler<object, MetadataBearer>, context: HandlerExecutionContext) =>
      (args: FinalizeHandlerArguments<object>) => {
        if (context.commandName === "GetCertificateCommand") times.push(performance.now());
        return next(args);
      },
    { name: "acm-pca-test-poll-times", relation: "after", toMiddleware: "retryMiddleware" },
  );
  return times;
}

/** A rate limiter that counts the tokens taken from it. */
class CountingLimiter extends RateLimiter {
  acquired = 0;

  override acquire(signal?: AbortSignal): Promise<void> {
    this.acquired++;
    return super.acquire(signal);
  }
}

interface Adapter {
  ca: AcmPcaCertificateAuthority;
  calls: CallCount;
  client: ACMPCAClient;
}

/** The adapter on a fresh emulator CA, made as slow as `latency` says. */
async function adapter(
  latency: CaLatency,
  options: Partial<Omit<AcmPcaOptions, "client" | "arn" | "trustDomain">> = {},
): Promise<Adapter> {
  const privateCa = await createPrivateCa({ keyAlgorithm: "EC_prime256v1" });
  const client = modelCaLatency(new ACMPCAClient(privateCa.clientConfig), latency);
  const calls = countCalls(client);
  const ca = new AcmPcaCertificateAuthority({
    client,
    arn: privateCa.arn,
    trustDomain: parseTrustDomain("example.org"),
    issueRate: new RateLimiter(100),
    getRate: new RateLimiter(100),
    ...options,
  });
  return { ca, calls, client };
}

function signRequest(name: string) {
  const spiffeId = parseSpiffeId(`spiffe://example.org/test/${name}`);
  const now = Date.now();
  return {
    csrPem: mintRequest(spiffeId, "EC_P256").csrPem,
    spiffeId,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 24 * 3600_000),
    idempotencyToken: randomBytes(16).toString("hex"),
  };
}

/** The certificate ARNs polled for, in the order of their first poll. */
function polledArns(calls: CallCount): string[] {
  const arns = calls
    .inputs("GetCertificate")
    .map((input) => (input as { CertificateArn: string }).CertificateArn);
  return [...new Set(arns)];
}

describe("ACM PCA adapter: collecting certificates with counted, rate-limited polls", () => {
  it("with the CA ready 500 ms after issue, the first poll at 1 s gets each certificate: one GetCertificate per certificate", async () => {
    const { ca, calls } = await adapter({ answerMs: 100, readyAfterMs: 500 });
    const signed = await Promise.all(["a", "b", "c"].map((n) => ca.sign(signRequest(n))));

    for (const { chainPem } of signed) {
      expect(parseCertificateChain(chainPem)).toHaveLength(1);
    }
    expect(calls.count("IssueCertificate")).toBe(3);
    expect(calls.count("GetCertificate")).toBe(3);
    expect(polledArns(calls)).toHaveLength(3);
    expect(calls.count("DescribeCertificateAuthority")).toBe(1);
    expect(calls.count("GetCertificateAuthorityCertificate")).toBe(1);
  });

  it("a certificate not ready at the first poll is polled again after backing-off waits, and returned", async () => {
    const timer = steppedTimer();
    const { ca, calls } = await adapter(
      { answerMs: 20, readyAfterMs: 1_000 },
      { firstPollMs: 200, pollMaxDelayMs: 400, timer },
    );
    const { chainPem } = await ca.sign(signRequest("slow"));

    expect(parseCertificateChain(chainPem)).toHaveLength(1);
    // Polls at 200, 400 and 800 ms waited are before the CA is ready at 1 s.
    expect(calls.count("GetCertificate")).toBeGreaterThanOrEqual(4);
    expect(timer.slept).toEqual([200, 200, 400, 400, 400, 400].slice(0, timer.slept.length));
    expect(calls.count("GetCertificate")).toBe(timer.slept.length);
  });

  it("every poll takes a GetCertificate token: three certificates polled through a 2/s limiter go out 500 ms apart", async () => {
    const getRate = new CountingLimiter(2, 1);
    const { ca, calls, client } = await adapter(
      { answerMs: 0, readyAfterMs: 0 },
      { firstPollMs: 0, getRate },
    );
    const polls = pollTimes(client);
    await Promise.all(["a", "b", "c"].map((n) => ca.sign(signRequest(n))));

    expect(calls.count("GetCertificate")).toBe(3);
    // DescribeCertificateAuthority and GetCertificateAuthorityCertificate once, then one per poll.
    expect(getRate.acquired).toBe(2 + 3);
    const gaps = polls.slice(1).map((at, i) => at - (polls[i] as number));
    expect(gaps).toHaveLength(2);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(450);
  });

  it("a certificate never ready fails with NOT_ISSUED after maxWaitSeconds, naming it, how long it waited and how often it polled", async () => {
    const timer = steppedTimer();
    const { ca, calls } = await adapter(
      { answerMs: 0, readyAfterMs: 3_600_000 },
      { firstPollMs: 100, pollMaxDelayMs: 200, maxWaitSeconds: 0.5, timer },
    );
    const started = performance.now();
    const err = await ca.sign(signRequest("never")).then(
      () => expect.unreachable("signed"),
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(CaError);
    expect((err as CaError).reason).toBe(CaReason.NOT_ISSUED);
    const [arn] = polledArns(calls);
    expect((err as CaError).message).toBe(
      `issuer: acm-pca: certificate still in progress when the wait for it ran out: ${arn} after 0.5 s (polls: 4)`,
    );
    // The last wait is cut to what is left of the 500 ms.
    expect(timer.slept).toEqual([100, 100, 200, 100]);
    expect(calls.count("GetCertificate")).toBe(4);
    expect(performance.now() - started).toBeGreaterThanOrEqual(500);
  });

  it("the deadline ends a back-off wait at once: the adapter rejects with the deadline, and polls no more", async () => {
    const controller = new AbortController();
    let abortedAt = 0;
    // In the fifth wait, 800 ms long, the deadline comes 200 ms in.
    const timer = steppedTimer((_ms, index) => {
      if (index === 4)
        setTimeout(() => {
          abortedAt = performance.now();
          controller.abort(new DeadlineError());
        }, 200);
    });
    const { ca, calls } = await adapter(
      { answerMs: 0, readyAfterMs: 3_600_000 },
      { firstPollMs: 100, pollMaxDelayMs: 60_000, maxWaitSeconds: 600, timer },
    );
    const err = await ca.sign(signRequest("deadline"), controller.signal).then(
      () => expect.unreachable("signed"),
      (e: unknown) => e,
    );

    expect(err).toBeInstanceOf(DeadlineError);
    expect(performance.now() - abortedAt).toBeLessThan(100);
    expect(timer.slept).toEqual([100, 100, 200, 400, 800]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls.count("GetCertificate")).toBe(4);
  });
});

describe("ACM PCA adapter against the emulator", () => {
  it("sends the end-entity template, absolute 24-hour validity, the CA's signing algorithm and an idempotency token; moto's 365-day certificate is refused and nothing is pushed", async () => {
    const ca = await createPrivateCa({ keyAlgorithm: "EC_prime256v1" });
    const pca = new ACMPCAClient(ca.clientConfig);
    const calls = countCalls(pca);
    injectFaults(pca, { commands: ["IssueCertificate"], kind: "throttle", times: 1 });
    injectFaults(pca, { commands: ["GetCertificate"], kind: "server-error", times: 1 });
    const h = await issuerHarness({
      accounts: 2,
      env: { LAMBDA_SVID_CA: `acm-pca:${ca.arn}` },
      clients: { pca },
    });
    const started = Date.now();
    const { report } = await h.run();

    expect(report.counts).toMatchObject({ issued: 0, failed: 2 });
    for (const result of report.identities) {
      expect(result.stage).toBe("verify");
      expect(result.reason).toContain(IssueCheckReason.WRONG_VALIDITY);
      await expect(h.readSecret(result.accountId)).rejects.toThrow(ResourceNotFoundException);
    }

    const issues = calls.inputs("IssueCertificate") as Array<Record<string, unknown>>;
    // Two identities, one of them retried once after throttling with the same request.
    expect(issues).toHaveLength(3);
    const tokens = new Set(issues.map((i) => i.IdempotencyToken));
    expect(tokens.size).toBe(2);
    for (const input of issues) {
      expect(input.TemplateArn).toBe("arn:aws:acm-pca:::template/EndEntityCertificate/V1");
      expect(input.SigningAlgorithm).toBe("SHA256WITHECDSA");
      expect(input.CertificateAuthorityArn).toBe(ca.arn);
      const validity = input.Validity as { Type: string; Value: number };
      const notBefore = input.ValidityNotBefore as { Type: string; Value: number };
      expect(validity.Type).toBe("ABSOLUTE");
      expect(notBefore.Type).toBe("ABSOLUTE");
      expect(validity.Value - notBefore.Value).toBe(24 * 3600);
      expect(Math.abs(notBefore.Value * 1000 - (started - 60_000))).toBeLessThan(30_000);
      expect(String(input.IdempotencyToken)).toMatch(/^[0-9a-f]{32}$/);
    }
    // The CA's bundle and algorithm are read once per run, not per identity.
    expect(calls.count("GetCertificateAuthorityCertificate")).toBe(1);
    expect(calls.count("DescribeCertificateAuthority")).toBe(1);
  });

  it("a poll that hangs stops at the run's deadline: the identity is not reached and the run returns in time", async () => {
    const ca = await createPrivateCa({ keyAlgorithm: "EC_prime256v1" });
    const pca = new ACMPCAClient(ca.clientConfig);
    // Issued at once by the emulator, but every poll for it hangs, as a slow CA would.
    injectFaults(pca, { commands: ["GetCertificate"], kind: "delay", delayMs: 120_000 });
    const h = await issuerHarness({
      accounts: 1,
      env: { LAMBDA_SVID_CA: `acm-pca:${ca.arn}`, LAMBDA_SVID_DEADLINE_MARGIN: "2s" },
      clients: { pca },
    });
    const deadline = Date.now() + 8_000;
    const { report } = await h.run({ force: false }, () => deadline - Date.now());
    expect(Date.now()).toBeLessThan(deadline);
    expect(report.counts).toMatchObject({ issued: 0, failed: 0, "not-reached": 1 });
    expect(report.identities[0]).toMatchObject({ outcome: "not-reached", stage: "sign" });
    await expect(h.readSecret(h.tenantAccounts[0]?.id as string)).rejects.toThrow(
      ResourceNotFoundException,
    );
  });
});

describe("acmPcaClient", () => {
  it("pins the endpoint the SDK resolves from the standard settings (here the emulator's AWS_ENDPOINT_URL) and works through it", async () => {
    const ca = await createPrivateCa({ keyAlgorithm: "EC_prime256v1" });
    const pca = await acmPcaClient({ ...ca.clientConfig, maxAttempts: 2 });
    const endpoint = await pca.config.endpoint?.();
    expect(`${endpoint?.protocol}//${endpoint?.hostname}:${endpoint?.port}`).toBe(
      process.env.AWS_ENDPOINT_URL,
    );
    const out = await pca.send(
      new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: ca.arn }),
    );
    expect(out.CertificateAuthority?.Arn).toBe(ca.arn);
  });

  it("pins the Regional endpoint without an endpoint setting, keeps a given one, and leaves FIPS and dual-stack to the rules", async () => {
    const saved = { ...process.env };
    try {
      delete process.env.AWS_ENDPOINT_URL;
      delete process.env.AWS_ENDPOINT_URL_ACM_PCA;
      const credentials = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "example" };
      const regional = await acmPcaClient({ region: "eu-west-1", credentials });
      expect((await regional.config.endpoint?.())?.hostname).toBe(
        "acm-pca.eu-west-1.amazonaws.com",
      );
      const given = await acmPcaClient({
        region: "eu-west-1",
        credentials,
        endpoint: "https://pca.example.internal",
      });
      expect((await given.config.endpoint?.())?.hostname).toBe("pca.example.internal");
      for (const setting of [{ useFipsEndpoint: true }, { useDualstackEndpoint: true }]) {
        const ruled = await acmPcaClient({ region: "us-east-1", credentials, ...setting });
        expect(ruled.config.isCustomEndpoint).toBe(false);
      }
    } finally {
      process.env = saved;
    }
  });
});
