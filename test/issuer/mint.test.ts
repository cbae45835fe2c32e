import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { describe, expect, it } from "vitest";
import { mintRequest } from "../../functions/issuer/mint.ts";
import { parseSpiffeId } from "../../layers/spiffe/index.ts";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

describe("mintRequest", () => {
  it.each(["EC_P256", "RSA_2048"] as const)(
    "%s: a PKCS#10 request a general parser reads back: signature, subject, the one URI SAN, the minted key",
    async (algorithm) => {
      const id = parseSpiffeId("spiffe://example.org/prod/payments");
      const minted = mintRequest(id, algorithm);
      const csr = new x509.Pkcs10CertificateRequest(minted.csrPem);
      expect(await csr.verify()).toBe(true);
      expect(csr.subject).toBe("CN=prod/payments");
      const raw = csr.extensions.find((e) => e.type === "2.5.29.17");
      const san = new x509.SubjectAlternativeNameExtension(raw?.rawData as ArrayBuffer);
      expect(csr.extensions).toHaveLength(1);
      expect(san.names.toJSON()).toEqual([{ type: "url", value: id.toString() }]);
      expect(Buffer.from(csr.publicKey.rawData).equals(minted.spkiDer)).toBe(true);
      expect((csr.signatureAlgorithm as unknown as { name: string }).name).toBe(
        algorithm === "EC_P256" ? "ECDSA" : "RSASSA-PKCS1-v1_5",
      );
    },
  );

  it("keeps the last 64 characters of a long path as the common name (RFC 5280's limit)", () => {
    const long = `spiffe://example.org/${"a".repeat(40)}/${"b".repeat(40)}`;
    const csr = new x509.Pkcs10CertificateRequest(
      mintRequest(parseSpiffeId(long), "EC_P256").csrPem,
    );
    expect(csr.subject).toBe(`CN=${`${"a".repeat(40)}/${"b".repeat(40)}`.slice(-64)}`);
  });
});
