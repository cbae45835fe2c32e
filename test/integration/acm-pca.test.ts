import { ACMPCAClient } from "@aws-sdk/client-acm-pca";
import { ResourceNotFoundException } from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { IssueCheckReason } from "../../functions/issuer/errors.ts";
import { countCalls, injectFaults } from "../emulator/faults.ts";
import { createPrivateCa } from "../emulator/pca.ts";
import { issuerHarness } from "./issuer-harness.ts";

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

  it("the certificate waiter stops at the run's deadline: the identity is not reached and the run returns in time", async () => {
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
