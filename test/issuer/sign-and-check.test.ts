import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { LocalCertificateAuthority } from "../../functions/issuer/ca/local.ts";
import { checkIssued } from "../../functions/issuer/check.ts";
import {
  CaError,
  CaReason,
  IssueCheckError,
  IssueCheckReason,
} from "../../functions/issuer/errors.ts";
import { mintRequest } from "../../functions/issuer/mint.ts";
import { parseSpiffeId, parseTrustDomain, verifyX509Svid } from "../../layers/spiffe/index.ts";
import { TestCa } from "../support/ca.ts";
import { thrown } from "../support/thrown.ts";

const td = parseTrustDomain("example.org");
const id = parseSpiffeId("spiffe://example.org/prod/payments");
const HOUR = 3_600_000;
let dir: string;
let ca: LocalCertificateAuthority;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lambda-svid-ca-"));
  ca = await LocalCertificateAuthority.open(dir, td);
});

function window(hours = 24) {
  const now = new Date();
  const notBefore = new Date(now.getTime() - 60_000);
  return {
    now,
    notBefore,
    notAfter: new Date(notBefore.getTime() + hours * HOUR),
    skewMs: 120_000,
  };
}

const checkError = (fn: () => unknown) => thrown(fn, IssueCheckError);

describe("local CA", () => {
  it("is created on first use with a private key file, and reopened with the same root", async () => {
    expect((await stat(join(dir, "ca.pem"))).mode & 0o777).toBe(0o600);
    const again = await LocalCertificateAuthority.open(dir, td);
    expect((await again.bundle()).toPem()).toBe((await ca.bundle()).toPem());
    expect(await readFile(join(dir, "bundle.pem"), "utf8")).toBe((await ca.bundle()).toPem());
  });

  it("concurrent first uses agree on one root", async () => {
    const fresh = await mkdtemp(join(tmpdir(), "lambda-svid-ca-"));
    const cas = await Promise.all(
      [1, 2, 3, 4].map(() => LocalCertificateAuthority.open(fresh, td)),
    );
    const pems = await Promise.all(cas.map(async (c) => (await c.bundle()).toPem()));
    expect(new Set(pems).size).toBe(1);
  });

  it("signs exactly the requested validity, and the result is a valid X509-SVID", async () => {
    for (const algorithm of ["EC_P256", "RSA_2048"] as const) {
      const minted = mintRequest(id, algorithm);
      const w = window();
      const bundle = await ca.bundle();
      const { chainPem } = await ca.sign({
        csrPem: minted.csrPem,
        spiffeId: id,
        ...w,
        idempotencyToken: "t",
      });
      const svid = checkIssued(chainPem, minted, bundle, { spiffeId: id, ...w });
      expect(svid.notAfter.getTime() - svid.notBefore.getTime()).toBe(24 * HOUR);
      expect(svid.notAfter.getTime()).toBe(Math.floor(w.notAfter.getTime() / 1000) * 1000);
      expect(verifyX509Svid(svid.chainPem(), await ca.bundle()).id.equals(id)).toBe(true);
      expect(svid.leaf.x509.publicKey.asymmetricKeyType).toBe(
        algorithm === "EC_P256" ? "ec" : "rsa",
      );
    }
  });

  it("the minted CSR carries the SPIFFE ID as its only URI SAN", async () => {
    const minted = mintRequest(id, "EC_P256");
    const x509 = await import("@peculiar/x509");
    const csr = new x509.Pkcs10CertificateRequest(minted.csrPem);
    const sans = csr.extensions.filter((e) => e.type === "2.5.29.17");
    expect(sans).toHaveLength(1);
    const san = new x509.SubjectAlternativeNameExtension(sans[0]?.rawData as ArrayBuffer);
    expect(san.names.toJSON()).toEqual([{ type: "url", value: id.toString() }]);
    expect(await csr.verify()).toBe(true);
  });

  it("refuses a CSR whose signature does not verify", async () => {
    const der = Buffer.from(
      mintRequest(id, "EC_P256")
        .csrPem.replace(/-----[A-Z ]+-----/g, "")
        .replace(/\s/g, ""),
      "base64",
    );
    der[der.length - 1] = (der[der.length - 1] as number) ^ 0x01;
    const csrPem = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`;
    const err = await ca.sign({ csrPem, spiffeId: id, ...window(), idempotencyToken: "t" }).then(
      () => expect.unreachable("signed"),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CaError);
    expect((err as CaError).reason).toBe(CaReason.CSR_SIGNATURE);
    expect((err as CaError).message).toBe(
      "issuer: local CA: CSR signature does not verify: spiffe://example.org/prod/payments",
    );
  });

  it("refuses a CA file without its root certificate, naming the file and the block", async () => {
    const broken = await mkdtemp(join(tmpdir(), "lambda-svid-ca-"));
    await writeFile(
      join(broken, "ca.pem"),
      "-----BEGIN PRIVATE KEY-----\nAA==\n-----END PRIVATE KEY-----\n",
    );
    const err = await LocalCertificateAuthority.open(broken, td).then(
      () => expect.unreachable("opened"),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CaError);
    expect((err as CaError).reason).toBe(CaReason.CA_FILE);
    expect((err as CaError).message).toBe(
      `issuer: local CA: CA file lacks a PEM block: ${join(broken, "ca.pem")}: CERTIFICATE`,
    );
  });
});

describe("verify before push", () => {
  it("refuses a certificate for another SPIFFE ID", async () => {
    const minted = mintRequest(id, "EC_P256");
    const w = window();
    const other = parseSpiffeId("spiffe://example.org/prod/other");
    const bundle = await ca.bundle();
    const { chainPem } = await ca.sign({
      csrPem: minted.csrPem,
      spiffeId: other,
      ...w,
      idempotencyToken: "t",
    });
    const err = checkError(() => checkIssued(chainPem, minted, bundle, { spiffeId: id, ...w }));
    expect(err.reason).toBe(IssueCheckReason.WRONG_ID);
  });

  it("refuses a certificate for another key", async () => {
    const minted = mintRequest(id, "EC_P256");
    const otherKey = mintRequest(id, "EC_P256");
    const w = window();
    const bundle = await ca.bundle();
    const { chainPem } = await ca.sign({
      csrPem: otherKey.csrPem,
      spiffeId: id,
      ...w,
      idempotencyToken: "t",
    });
    expect(
      checkError(() => checkIssued(chainPem, minted, bundle, { spiffeId: id, ...w })).reason,
    ).toBe(IssueCheckReason.WRONG_KEY);
  });

  it("refuses an over-long certificate, as moto's 365-day ACM PCA certificates", async () => {
    const minted = mintRequest(id, "EC_P256");
    const w = window();
    const bundle = await ca.bundle();
    const { chainPem } = await ca.sign({
      csrPem: minted.csrPem,
      spiffeId: id,
      ...window(365 * 24),
      idempotencyToken: "t",
    });
    const err = checkError(() => checkIssued(chainPem, minted, bundle, { spiffeId: id, ...w }));
    expect(err.reason).toBe(IssueCheckReason.WRONG_VALIDITY);
    expect(err.message).toMatch(/^issuer: certificate validity is not the requested one: wanted /);
  });

  it("refuses a certificate that does not chain to the CA's bundle", async () => {
    const minted = mintRequest(id, "EC_P256");
    const w = window();
    const { chainPem } = await ca.sign({
      csrPem: minted.csrPem,
      spiffeId: id,
      ...w,
      idempotencyToken: "t",
    });
    const stranger = (await TestCa.root("example.org")).bundle();
    const err = checkError(() => checkIssued(chainPem, minted, stranger, { spiffeId: id, ...w }));
    expect(err.reason).toBe(IssueCheckReason.NOT_VERIFIABLE);
    expect(err.message).toContain("x509svid: could not chain to a root in the trust bundle");
  });
});
