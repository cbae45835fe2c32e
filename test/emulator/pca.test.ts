import "reflect-metadata";
import { X509Certificate } from "node:crypto";
import {
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCertificateCommand,
} from "@aws-sdk/client-acm-pca";
import * as x509 from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { randomAccountId } from "./accounts.ts";
import { createPrivateCa } from "./pca.ts";

const DAY = 86_400_000;

describe("createPrivateCa", () => {
  it("creates an ACTIVE root CA in the requested account whose certificate is a CA certificate", async () => {
    const accountId = randomAccountId();
    const ca = await createPrivateCa({ accountId, commonName: "emulator test root" });

    expect(ca.arn).toMatch(
      new RegExp(`^arn:aws:acm-pca:us-east-1:${accountId}:certificate-authority/`),
    );
    const { CertificateAuthority } = await ca.client.send(
      new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: ca.arn }),
    );
    expect(CertificateAuthority).toMatchObject({ Status: "ACTIVE", Type: "ROOT" });
    const { Certificate } = await ca.client.send(
      new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: ca.arn }),
    );
    expect(Certificate?.trim()).toBe(ca.certificatePem.trim());

    const root = new X509Certificate(ca.certificatePem);
    expect(root.subject).toBe("CN=emulator test root");
    expect(root.issuer).toBe(root.subject);
    expect(root.ca).toBe(true);
    expect(root.verify(root.publicKey)).toBe(true);

    const parsed = new x509.X509Certificate(ca.certificatePem);
    const basic = parsed.getExtension(x509.BasicConstraintsExtension);
    expect(basic).toMatchObject({ ca: true, critical: true, pathLength: undefined });
    const keyUsage = parsed.getExtension(x509.KeyUsagesExtension);
    expect(keyUsage?.critical).toBe(true);
    expect(keyUsage?.usages).toBe(
      x509.KeyUsageFlags.keyCertSign |
        x509.KeyUsageFlags.cRLSign |
        x509.KeyUsageFlags.digitalSignature,
    );
  });

  // These pin moto's known gaps (DESIGN.md, "The local AWS emulator"), so a moto
  // upgrade that changes them shows up here rather than in an issuer test.
  it("shows moto's deviations: RSA key, SHA-512 signature and 365 days whatever was asked", async () => {
    const ca = await createPrivateCa({ keyAlgorithm: "EC_prime256v1" });
    const root = new X509Certificate(ca.certificatePem);

    expect(root.publicKey.asymmetricKeyType).toBe("rsa");
    expect(new x509.X509Certificate(ca.certificatePem).signatureAlgorithm).toMatchObject({
      name: "RSASSA-PKCS1-v1_5",
      hash: { name: "SHA-512" },
    });
    const validity = Date.parse(root.validTo) - Date.parse(root.validFrom);
    expect(validity).toBe(365 * DAY);
  });
});
