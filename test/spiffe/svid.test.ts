import { inspect } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { parseX509Svid, SvidError, SvidReason, verifyX509Svid } from "../../layers/spiffe/index.ts";
import { KU, TestCa } from "../support/ca.ts";
import { thrown } from "../support/thrown.ts";

let ca: TestCa;
beforeAll(async () => {
  ca = await TestCa.root("example.org");
});

const svidError = (fn: () => unknown) => thrown(fn, SvidError);

describe("parseX509Svid", () => {
  it("parses chain and key, leaf first", async () => {
    const inter = await ca.intermediate();
    const pem = await inter.svid("/prod/web");
    const svid = parseX509Svid(pem.chainPem, pem.keyPem);
    expect(svid.id.toString()).toBe("spiffe://example.org/prod/web");
    expect(svid.certificates).toHaveLength(2);
    expect(svid.notAfter.getTime()).toBe(pem.leaf.notAfter.getTime());
    expect(verifyX509Svid(svid.chainPem(), ca.bundle()).id.equals(svid.id)).toBe(true);
    // Re-encoding gives back an SVID with the same key.
    expect(parseX509Svid(svid.chainPem(), svid.keyPem()).id.equals(svid.id)).toBe(true);
  });

  it("refuses a chain OpenSSL cannot read, which Node's TLS could not present", async () => {
    // The subject's CN is an OCTET STRING (RFC 4514 hex): the reader takes it, OpenSSL does not.
    const pem = await ca.svid("/a", { subject: "CN=#0403616263" });
    const err = svidError(() => parseX509Svid(pem.chainPem, pem.keyPem));
    expect(err.reason).toBe(SvidReason.MALFORMED_CERTIFICATE);
    expect(err.message).toMatch(/^x509svid: certificate cannot be parsed: certificate 0: error:/);
  });

  it("checks that the key matches the leaf", async () => {
    const a = await ca.svid("/a");
    const b = await ca.svid("/b");
    const err = svidError(() => parseX509Svid(a.chainPem, b.keyPem));
    expect(err?.reason).toBe(SvidReason.KEY_MISMATCH);
    expect(err?.message).toBe(
      "x509svid: private key does not match the leaf certificate: spiffe://example.org/a",
    );
  });

  it("applies the leaf rules", async () => {
    const pem = await ca.svid("/a", { keyUsage: KU.digitalSignature | KU.keyCertSign });
    expect(svidError(() => parseX509Svid(pem.chainPem, pem.keyPem))?.reason).toBe(
      SvidReason.LEAF_KEY_CERT_SIGN,
    );
  });

  it("rejects keys that are not one PKCS#8 block, without echoing key material", async () => {
    const pem = await ca.svid("/a");
    const body = pem.keyPem.split("\n")[1] as string;
    for (const key of [
      "",
      pem.chainPem,
      pem.keyPem + pem.keyPem,
      pem.keyPem.replace(/PRIVATE KEY/g, "EC PRIVATE KEY"),
      pem.keyPem.replace(body, body.slice(0, 10) + body.slice(20)),
    ]) {
      const err = svidError(() => parseX509Svid(pem.chainPem, key));
      expect(err?.reason).toBe(SvidReason.MALFORMED_KEY);
      expect(err?.message).not.toContain(body.slice(0, 16));
    }
  });

  it("never shows the private key in JSON, strings or inspect output", async () => {
    const pem = await ca.svid("/a");
    const svid = parseX509Svid(pem.chainPem, pem.keyPem);
    const keyBody = pem.keyPem.split("\n")[1] as string;
    for (const shown of [
      JSON.stringify(svid),
      String(svid),
      inspect(svid, { depth: 10 }),
      `${svid}`,
    ]) {
      expect(shown).toContain("spiffe://example.org/a");
      expect(shown).not.toContain("PRIVATE KEY");
      expect(shown).not.toContain(keyBody.slice(0, 16));
    }
  });
});
