import {
  ACMPCAClient,
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCertificateCommand,
  GetCertificateCommand,
  IssueCertificateCommand,
  MalformedCSRException,
  RequestInProgressException,
  ResourceNotFoundException,
  waitUntilCertificateIssued,
} from "@aws-sdk/client-acm-pca";
import { describe, expect, it } from "vitest";
import { checkIssued } from "../../functions/issuer/check.ts";
import { mintRequest } from "../../functions/issuer/mint.ts";
import { parseSpiffeId, X509Bundle } from "../../layers/spiffe/index.ts";
import type { ModelAws } from "./aws.ts";
import { withModel } from "./harness.ts";

const ID = parseSpiffeId("spiffe://example.org/prod/web");
const HOUR = 3_600_000;

function issue(aws: ModelAws, pca: ACMPCAClient, csrPem: string, token?: string) {
  const now = Date.now();
  return pca.send(
    new IssueCertificateCommand({
      CertificateAuthorityArn: aws.pca.arn,
      Csr: Buffer.from(csrPem),
      SigningAlgorithm: "SHA256WITHECDSA",
      Validity: { Type: "ABSOLUTE", Value: Math.floor((now + 24 * HOUR) / 1000) },
      ValidityNotBefore: { Type: "ABSOLUTE", Value: Math.floor((now - 60_000) / 1000) },
      IdempotencyToken: token,
    }),
  );
}

describe("modelled ACM PCA", () => {
  it("signs a certificate the issuer's own check accepts: the CSR's SAN and key, the requested validity, end-entity extensions", async () => {
    await withModel({}, async (aws) => {
      const pca = new ACMPCAClient(aws.clientConfig());
      const minted = mintRequest(ID, "EC_P256");
      const { CertificateArn } = await issue(aws, pca, minted.csrPem);
      const waited = await waitUntilCertificateIssued(
        { client: pca, maxWaitTime: 60, minDelay: 1, maxDelay: 5 },
        { CertificateAuthorityArn: aws.pca.arn, CertificateArn },
      );
      const root = await pca.send(
        new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: aws.pca.arn }),
      );
      const bundle = X509Bundle.fromPem(ID.trustDomain, root.Certificate ?? "");
      const now = Date.now();
      const svid = checkIssued(
        (waited.reason as { Certificate: string }).Certificate,
        minted,
        bundle,
        {
          spiffeId: ID,
          notBefore: new Date(Math.floor((now - 60_000) / 1000) * 1000),
          notAfter: new Date(Math.floor((now + 24 * HOUR) / 1000) * 1000),
          skewMs: 5_000,
          now: new Date(now),
        },
      );
      const leaf = svid.certificates[0];
      expect(leaf?.basicConstraints).toEqual({ cA: false, pathLen: undefined });
      expect(leaf?.keyUsage?.critical).toBe(true);
      expect(leaf?.extKeyUsage).toEqual(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"]);
      expect(aws.pca.issuedCount).toBe(1);
    });
  });

  it("answers RequestInProgressException until the certificate is ready, 500 ms after issue by default", async () => {
    await withModel({}, async (aws) => {
      const pca = new ACMPCAClient({ ...aws.clientConfig(), maxAttempts: 1 });
      const { CertificateArn } = await issue(aws, pca, mintRequest(ID, "EC_P256").csrPem);
      const get = new GetCertificateCommand({
        CertificateAuthorityArn: aws.pca.arn,
        CertificateArn,
      });
      await expect(pca.send(get)).rejects.toBeInstanceOf(RequestInProgressException);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect((await pca.send(get)).Certificate).toMatch(/^-----BEGIN CERTIFICATE-----/);
    });
  });

  it("returns the same certificate for a reused idempotency token, and refuses a bad CSR and an unknown CA", async () => {
    await withModel({}, async (aws) => {
      const pca = new ACMPCAClient({ ...aws.clientConfig(), maxAttempts: 1 });
      const csr = mintRequest(ID, "EC_P256").csrPem;
      const first = await issue(aws, pca, csr, "token-1");
      expect((await issue(aws, pca, csr, "token-1")).CertificateArn).toBe(first.CertificateArn);
      expect(aws.pca.issuedCount).toBe(1);
      const other = mintRequest(ID, "EC_P256").csrPem;
      // The first CSR's request info under the second one's signature: well-formed, wrongly signed.
      const [a, b] = [csr, other].map((pem) => pem.split("\n").slice(1, -2).join(""));
      const spliced = `${(a ?? "").slice(0, 200)}${(b ?? "").slice(200)}`;
      const badPem = `-----BEGIN CERTIFICATE REQUEST-----\n${spliced}\n-----END CERTIFICATE REQUEST-----\n`;
      await expect(issue(aws, pca, badPem)).rejects.toBeInstanceOf(MalformedCSRException);
      await expect(
        pca.send(
          new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: `${aws.pca.arn}0` }),
        ),
      ).rejects.toBeInstanceOf(ResourceNotFoundException);
      const described = await pca.send(
        new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: aws.pca.arn }),
      );
      expect(described.CertificateAuthority?.CertificateAuthorityConfiguration?.KeyAlgorithm).toBe(
        "EC_prime256v1",
      );
    });
  });

  it("holds IssueCertificate to 25/s: 75 at once all succeed through the SDK's retries, over about 2 virtual seconds", async () => {
    await withModel({}, async (aws) => {
      const pca = new ACMPCAClient({ ...aws.clientConfig(), maxAttempts: 20 });
      const csr = mintRequest(ID, "EC_P256").csrPem;
      const t0 = Date.now();
      const all = await Promise.all(Array.from({ length: 75 }, () => issue(aws, pca, csr)));
      expect(all).toHaveLength(75);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1_900);
      expect(aws.handler.counts.throttled.get("ACMPCA IssueCertificate")).toBeGreaterThan(0);
    });
  });
});
