import { generateKeyPairSync } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { checkSignatureAlgorithm } from "../../layers/spiffe/algorithms.ts";
import {
  BundleError,
  BundleReason,
  ParsedCertificate,
  parseCertificateChain,
  parseTrustDomain,
  parseX509Svid,
  SvidError,
  SvidReason,
  verifyX509Svid,
  X509Bundle,
  X509BundleSet,
} from "../../layers/spiffe/index.ts";
import { type CertOptions, EKU, KU, TestCa } from "../support/ca.ts";
import { thrown } from "../support/thrown.ts";

const HOUR = 3_600_000;

const reasonOf = (fn: () => unknown) => thrown(fn, SvidError).reason;

let root: TestCa;
let other: TestCa;

beforeAll(async () => {
  root = await TestCa.root("example.org");
  other = await TestCa.root("other.org");
});

describe("X509-SVID: a valid SVID", () => {
  it("verifies directly under the root and returns the ID and path", async () => {
    const svid = await root.svid("/prod/web");
    const result = verifyX509Svid(svid.chainPem, root.bundle());
    expect(result.id.toString()).toBe("spiffe://example.org/prod/web");
    expect(result.chain).toHaveLength(2);
    expect(result.chain[1]?.der.equals(root.bundle().roots[0]?.der as Buffer)).toBe(true);
  });

  it("verifies through intermediates taken from the presented chain", async () => {
    const inter = await (await root.intermediate()).intermediate();
    const svid = await inter.svid("/prod/web");
    expect(verifyX509Svid(svid.chainPem, root.bundle()).chain).toHaveLength(4);
  });

  it("accepts the bundle as PEM text, as DER buffers and as a bundle set", async () => {
    const svid = await root.svid("/a");
    expect(verifyX509Svid(svid.chainPem, root.root.certPem).id.path).toBe("/a");
    const set = new X509BundleSet([other.bundle(), root.bundle()]);
    expect(verifyX509Svid([Buffer.from(svid.leaf.rawData)], set).id.path).toBe("/a");
  });

  it("accepts a presented chain that also carries the root", async () => {
    const inter = await root.intermediate();
    const svid = await inter.svid("/a");
    expect(verifyX509Svid(svid.chainPem + root.root.certPem, root.bundle()).chain).toHaveLength(3);
  });

  it("MAY contain other SAN types such as DNS names", async () => {
    const svid = await root.svid("/a", { dns: ["web.internal"] });
    expect(verifyX509Svid(svid.chainPem, root.bundle()).id.path).toBe("/a");
  });

  it("leaves MAY set keyEncipherment and keyAgreement", async () => {
    const svid = await root.svid("/a", {
      keyUsage: KU.digitalSignature | KU.keyEncipherment | KU.keyAgreement,
    });
    expect(verifyX509Svid(svid.chainPem, root.bundle()).id.path).toBe("/a");
  });

  it("leaves SHOULD (not MUST) include EKU: absent EKU is accepted", async () => {
    const svid = await root.svid("/a", { eku: null });
    expect(verifyX509Svid(svid.chainPem, root.bundle()).id.path).toBe("/a");
  });
});

/** One row per MUST of the X509-SVID standard that a verifier can check on a leaf. */
const leafRules: Array<{ name: string; opts: CertOptions; path?: string; reason: string }> = [
  { name: "2: MUST contain a URI SAN", opts: { uris: [] }, reason: SvidReason.NO_URI_SAN },
  {
    name: "2: validators MUST reject more than one URI SAN",
    opts: { uris: ["spiffe://example.org/a", "spiffe://example.org/b"] },
    reason: SvidReason.MULTIPLE_URI_SANS,
  },
  {
    name: "5.2: the SPIFFE ID scheme MUST be spiffe",
    opts: { uris: ["https://example.org/a"] },
    reason: SvidReason.INVALID_SPIFFE_ID,
  },
  {
    name: "3.1: leaf SPIFFE IDs MUST have a non-root path",
    opts: { uris: ["spiffe://example.org"] },
    reason: SvidReason.ROOT_ID,
  },
  {
    name: "3.1: URI SAN MUST be critical when the subject is empty",
    opts: { subject: "", sanCritical: false },
    reason: SvidReason.SAN_NOT_CRITICAL,
  },
  {
    name: "4.1/5.2: leaf MUST set cA to false",
    opts: { ca: true, keyUsage: KU.digitalSignature },
    reason: SvidReason.LEAF_IS_CA,
  },
  {
    name: "4.3: key usage MUST be set",
    opts: { keyUsage: null },
    reason: SvidReason.NO_KEY_USAGE,
  },
  {
    name: "4.3: key usage MUST be critical",
    opts: { keyUsageCritical: false },
    reason: SvidReason.KEY_USAGE_NOT_CRITICAL,
  },
  {
    name: "4.3/5.2: leaf MUST NOT set keyCertSign",
    opts: { keyUsage: KU.digitalSignature | KU.keyCertSign },
    reason: SvidReason.LEAF_KEY_CERT_SIGN,
  },
  {
    name: "4.3/5.2: leaf MUST NOT set cRLSign",
    opts: { keyUsage: KU.digitalSignature | KU.cRLSign },
    reason: SvidReason.LEAF_CRL_SIGN,
  },
  {
    name: "4.3: leaf MUST set digitalSignature",
    opts: { keyUsage: KU.keyEncipherment },
    reason: SvidReason.LEAF_NO_DIGITAL_SIGNATURE,
  },
  {
    name: "5.1: RFC 5280 - a leaf that is not yet valid is rejected",
    opts: { notBefore: new Date(Date.now() + HOUR), notAfter: new Date(Date.now() + 2 * HOUR) },
    reason: SvidReason.NOT_YET_VALID,
  },
  {
    name: "5.1: RFC 5280 - an expired leaf is rejected",
    opts: { notBefore: new Date(Date.now() - 2 * HOUR), notAfter: new Date(Date.now() - HOUR) },
    reason: SvidReason.EXPIRED,
  },
  {
    name: "5.1: RFC 5280 - an unknown critical extension is rejected",
    opts: { extra: [new x509.Extension("1.2.3.4.5", true, new Uint8Array([5, 0]))] },
    reason: SvidReason.UNHANDLED_CRITICAL_EXTENSION,
  },
];

describe("X509-SVID: leaf rules", () => {
  for (const rule of leafRules) {
    it(rule.name, async () => {
      const svid = await root.svid(rule.path ?? "/workload", rule.opts);
      expect(reasonOf(() => verifyX509Svid(svid.chainPem, root.bundle()))).toBe(rule.reason);
    });
  }

  it("an empty subject with a critical URI SAN is accepted", async () => {
    const svid = await root.svid("/a", { subject: "", sanCritical: true });
    expect(verifyX509Svid(svid.chainPem, root.bundle()).id.path).toBe("/a");
  });
});

/**
 * 4.4 and RFC 5280 4.2.1.12: the leaf's EKU must allow the role it is verified
 * for; go-spiffe accepts any EKU, SPIRE issues both, other issuers one.
 */
const ANY_EKU = "2.5.29.37.0";
const ekuRows: Array<{
  eku: string[] | null;
  shown: string;
  server: string | "ok";
  client: string | "ok";
  any: string | "ok";
}> = [
  { eku: [EKU.serverAuth, EKU.clientAuth], shown: "both", server: "ok", client: "ok", any: "ok" },
  { eku: null, shown: "absent", server: "ok", client: "ok", any: "ok" },
  { eku: [ANY_EKU], shown: "anyExtendedKeyUsage", server: "ok", client: "ok", any: "ok" },
  {
    eku: [EKU.serverAuth],
    shown: "serverAuth only",
    server: "ok",
    client: `${SvidReason.LEAF_NO_CLIENT_AUTH}: spiffe://example.org/workload has serverAuth`,
    any: "ok",
  },
  {
    eku: [EKU.clientAuth],
    shown: "clientAuth only",
    server: `${SvidReason.LEAF_NO_SERVER_AUTH}: spiffe://example.org/workload has clientAuth`,
    client: "ok",
    any: "ok",
  },
  {
    eku: [EKU.codeSigning],
    shown: "codeSigning only",
    server: `${SvidReason.LEAF_NO_SERVER_AUTH}: spiffe://example.org/workload has 1.3.6.1.5.5.7.3.3`,
    client: `${SvidReason.LEAF_NO_CLIENT_AUTH}: spiffe://example.org/workload has 1.3.6.1.5.5.7.3.3`,
    any: `${SvidReason.LEAF_EXT_KEY_USAGE}: spiffe://example.org/workload has 1.3.6.1.5.5.7.3.3`,
  },
];

describe("X509-SVID: the leaf's extended key usage must allow the peer's role", () => {
  for (const row of ekuRows) {
    for (const usage of ["server", "client", "any"] as const) {
      const want = row[usage];
      it(`EKU ${row.shown}, verified as ${usage}: ${want === "ok" ? "accepted" : "refused"}`, async () => {
        const svid = await root.svid("/workload", { eku: row.eku });
        const verify = () => verifyX509Svid(svid.chainPem, root.bundle(), { usage });
        if (want === "ok") expect(verify().id.path).toBe("/workload");
        else expect(thrown(verify, SvidError).message).toBe(want);
      });
    }
  }

  it("without a usage option, either serverAuth or clientAuth will do", async () => {
    const server = await root.svid("/a", { eku: [EKU.serverAuth] });
    const client = await root.svid("/a", { eku: [EKU.clientAuth] });
    expect(verifyX509Svid(server.chainPem, root.bundle()).id.path).toBe("/a");
    expect(verifyX509Svid(client.chainPem, root.bundle()).id.path).toBe("/a");
  });

  it("parseX509Svid takes an SVID with serverAuth only", async () => {
    const svid = await root.svid("/a", { eku: [EKU.serverAuth] });
    expect(parseX509Svid(svid.chainPem, svid.keyPem).id.path).toBe("/a");
  });
});

const SIGNATURE_ALLOWED = SvidReason.SIGNATURE_ALGORITHM;

/** A chain with the root, an intermediate and a leaf, each built to the row's wishes. */
interface ChainSpec {
  root?: CertOptions;
  intermediate?: CertOptions;
  leaf?: CertOptions;
}

async function chainFor(spec: ChainSpec): Promise<{ chainPem: string; bundle: X509Bundle }> {
  const r = await TestCa.root("example.org", spec.root);
  const inter = await r.intermediate(spec.intermediate);
  const svid = await inter.svid("/a", spec.leaf);
  return { chainPem: svid.chainPem, bundle: r.bundle() };
}

function foreignSpki(type: "ec" | "ed448" | "dsa"): Uint8Array<ArrayBuffer> {
  const { publicKey } =
    type === "ec"
      ? generateKeyPairSync("ec", { namedCurve: "secp256k1" })
      : type === "dsa"
        ? generateKeyPairSync("dsa", { modulusLength: 2048, divisorLength: 256 })
        : generateKeyPairSync("ed448");
  return new Uint8Array(publicKey.export({ type: "spki", format: "der" }));
}

/** A P-256 key whose algorithm OID (id-ecPublicKey, ...3d 02 01) is made one nobody knows. */
function undecodableSpki(): Uint8Array<ArrayBuffer> {
  const spki = Buffer.from(foreignSpki("ec"));
  const algorithm = Buffer.from("06072a8648ce3d0201", "hex");
  spki[spki.indexOf(algorithm) + algorithm.length - 1] = 0x7f;
  return new Uint8Array(spki);
}

/**
 * Go's crypto/x509 (under go-spiffe) refuses SHA-1 and MD5 signatures; this
 * verifier allow-lists algorithms and key sizes on every certificate of the
 * path, except the root's self-signature, which nothing relies on.
 */
const algorithmRows: Array<{ name: string; spec: () => ChainSpec; error?: string }> = [
  { name: "ECDSA P-256 with SHA-256 throughout (the defaults)", spec: () => ({}) },
  {
    name: "ECDSA P-384 and P-521 keys, SHA-384 and SHA-512 signatures",
    spec: () => ({
      root: { key: "P-521" },
      intermediate: { key: "P-384", signature: { hash: "SHA-512" } },
      leaf: { key: "P-384", signature: { hash: "SHA-384" } },
    }),
  },
  {
    name: "RSA 2048 and 3072 keys with sha256/384/512WithRSAEncryption",
    spec: () => ({
      root: { key: { rsa: 2048 } },
      intermediate: { key: { rsa: 3072 }, signature: { hash: "SHA-384" } },
      leaf: { key: { rsa: 2048 }, signature: { hash: "SHA-512" } },
    }),
  },
  {
    name: "RSASSA-PSS with SHA-256, SHA-384 and SHA-512, salt as long as the digest",
    spec: () => ({
      root: { key: { rsa: 2048 } },
      intermediate: { key: { rsa: 2048 }, signature: { hash: "SHA-256", pssSaltLength: 32 } },
      leaf: { signature: { hash: "SHA-384", pssSaltLength: 48 } },
    }),
  },
  {
    name: "RSASSA-PSS with SHA-512",
    spec: () => ({
      root: { key: { rsa: 2048 } },
      intermediate: { signature: { hash: "SHA-512", pssSaltLength: 64 } },
    }),
  },
  {
    name: "Ed25519 keys and signatures",
    spec: () => ({
      root: { key: "Ed25519" },
      intermediate: { key: "Ed25519" },
      leaf: { key: "Ed25519" },
    }),
  },
  {
    name: "a root's own SHA-1 self-signature is not checked",
    spec: () => ({ root: { key: { rsa: 2048 }, signature: { hash: "SHA-1" } } }),
  },
  {
    name: "ecdsa-with-SHA1 on the leaf",
    spec: () => ({ leaf: { signature: { hash: "SHA-1" } } }),
    error: `${SIGNATURE_ALLOWED}: leaf is signed with ecdsa-with-SHA1`,
  },
  {
    name: "sha1WithRSAEncryption on an intermediate",
    spec: () => ({ root: { key: { rsa: 2048 } }, intermediate: { signature: { hash: "SHA-1" } } }),
    error: `${SIGNATURE_ALLOWED}: intermediate 1 is signed with sha1WithRSAEncryption`,
  },
  {
    name: "RSASSA-PSS with SHA-1",
    spec: () => ({
      root: { key: { rsa: 2048 } },
      intermediate: { signature: { hash: "SHA-1", pssSaltLength: 20 } },
    }),
    error: `${SIGNATURE_ALLOWED}: intermediate 1 is signed with RSASSA-PSS with SHA-1`,
  },
  {
    name: "RSASSA-PSS with SHA-256 and a 20-byte salt",
    spec: () => ({
      root: { key: { rsa: 2048 } },
      intermediate: { signature: { hash: "SHA-256", pssSaltLength: 20 } },
    }),
    error: `${SIGNATURE_ALLOWED}: intermediate 1 is signed with RSASSA-PSS with SHA-256 and a 20-byte salt (want 32)`,
  },
  {
    name: "a 1024-bit RSA leaf key",
    spec: () => ({ leaf: { key: { rsa: 1024 } } }),
    error: `${SvidReason.RSA_KEY_TOO_SMALL}: leaf has a 1024-bit RSA key`,
  },
  {
    name: "a 1024-bit RSA intermediate key",
    spec: () => ({ intermediate: { key: { rsa: 1024 } } }),
    error: `${SvidReason.RSA_KEY_TOO_SMALL}: intermediate 1 has a 1024-bit RSA key`,
  },
  {
    name: "a 1024-bit RSA root key, whose signature the path relies on",
    spec: () => ({ root: { key: { rsa: 1024 } } }),
    error: `${SvidReason.RSA_KEY_TOO_SMALL}: root has a 1024-bit RSA key`,
  },
  {
    name: "an EC leaf key on secp256k1",
    spec: () => ({ leaf: { publicKey: foreignSpki("ec") } }),
    error: `${SvidReason.EC_CURVE}: leaf has an EC key on secp256k1`,
  },
  {
    name: "an Ed448 leaf key",
    spec: () => ({ leaf: { publicKey: foreignSpki("ed448") } }),
    error: `${SvidReason.KEY_ALGORITHM}: leaf has key type ed448`,
  },
  {
    name: "a DSA leaf key",
    spec: () => ({ leaf: { publicKey: foreignSpki("dsa") } }),
    error: `${SvidReason.KEY_ALGORITHM}: leaf has key type dsa`,
  },
  {
    name: "a leaf key that cannot be decoded (an unknown key algorithm)",
    spec: () => ({ leaf: { publicKey: undecodableSpki() } }),
    error: `${SvidReason.KEY_ALGORITHM}: leaf has a public key that cannot be decoded`,
  },
];

describe("signature algorithms and key sizes, as Go's crypto/x509 allows", () => {
  for (const row of algorithmRows) {
    it(`${row.error === undefined ? "accepts" : "refuses"} ${row.name}`, {
      timeout: 20_000,
    }, async () => {
      const { chainPem, bundle } = await chainFor(row.spec());
      const verify = () => verifyX509Svid(chainPem, bundle);
      if (row.error === undefined) expect(verify().chain).toHaveLength(3);
      else expect(thrown(verify, SvidError).message).toBe(row.error);
    });
  }

  /** A leaf signed with RSASSA-PSS, SHA-256 and a 32-byte salt, as DER to tamper with. */
  async function pssLeafDer(): Promise<Buffer> {
    const { chainPem } = await chainFor({
      intermediate: { key: { rsa: 2048 } },
      leaf: { signature: { hash: "SHA-256", pssSaltLength: 32 } },
    });
    return Buffer.from((parseCertificateChain(chainPem)[0] as ParsedCertificate).der);
  }

  // OpenSSL would refuse to verify both tampered certificates below, so the
  // parameter checks are called directly on the parsed certificate.
  it("refuses RSASSA-PSS whose MGF1 hash differs from the signature hash", async () => {
    const der = await pssLeafDer();
    // The SHA-256 OID appears as the hash and as MGF1's hash, in the TBS and the outer
    // signature algorithm; the second of each pair becomes SHA-512.
    const sha256 = Buffer.from("0609608648016503040201", "hex");
    let at = -1;
    for (let i = 0; i < 4; i++) {
      at = der.indexOf(sha256, at + 1);
      expect(at).toBeGreaterThan(0);
      if (i % 2 === 1) der[at + sha256.length - 1] = 3;
    }
    expect(() => checkSignatureAlgorithm(new ParsedCertificate(der), "leaf")).toThrow(
      `${SIGNATURE_ALLOWED}: leaf is signed with RSASSA-PSS with SHA-256 and a mask generation other than MGF1 with SHA-256`,
    );
  });

  it("refuses RSASSA-PSS parameters it cannot read", async () => {
    const der = await pssLeafDer();
    // [2] saltLength 32, in the TBS and the outer algorithm: INTEGER becomes OCTET STRING.
    const salt = Buffer.from("a203020120", "hex");
    let at = -1;
    for (let i = 0; i < 2; i++) {
      at = der.indexOf(salt, at + 1);
      expect(at).toBeGreaterThan(0);
      der[at + 2] = 0x04;
    }
    expect(() => checkSignatureAlgorithm(new ParsedCertificate(der), "leaf")).toThrow(
      `${SIGNATURE_ALLOWED}: leaf is signed with RSASSA-PSS with unreadable parameters`,
    );
  });
});

describe("X509-SVID: signing certificates and path validation", () => {
  it("3.2/4.1: a signing certificate MUST set cA to true", async () => {
    const inter = await root.intermediate({ ca: false });
    const svid = await inter.svid("/a");
    expect(reasonOf(() => verifyX509Svid(svid.chainPem, root.bundle()))).toBe(
      SvidReason.SIGNER_NOT_CA,
    );
  });

  it("3.2/4.1: a signing certificate without basic constraints is not a CA", async () => {
    const inter = await root.intermediate({ ca: null });
    const svid = await inter.svid("/a");
    expect(reasonOf(() => verifyX509Svid(svid.chainPem, root.bundle()))).toBe(
      SvidReason.SIGNER_NOT_CA,
    );
  });

  it("4.3: a signing certificate MUST set keyCertSign", async () => {
    const inter = await root.intermediate({ keyUsage: KU.cRLSign });
    const svid = await inter.svid("/a");
    expect(reasonOf(() => verifyX509Svid(svid.chainPem, root.bundle()))).toBe(
      SvidReason.SIGNER_NO_KEY_CERT_SIGN,
    );
  });

  it("3.2: a signing certificate's SPIFFE ID MUST NOT have a path", async () => {
    const inter = await root.intermediate({ uris: ["spiffe://example.org/ca"] });
    const svid = await inter.svid("/a");
    expect(reasonOf(() => verifyX509Svid(svid.chainPem, root.bundle()))).toBe(
      SvidReason.SIGNER_ID_HAS_PATH,
    );
  });

  it("4.1: pathLenConstraint is enforced", async () => {
    const limited = await root.intermediate({ pathLength: 0 });
    const below = await limited.intermediate();
    const svid = await below.svid("/a");
    expect(reasonOf(() => verifyX509Svid(svid.chainPem, root.bundle()))).toBe(
      SvidReason.PATH_LENGTH,
    );
    const ok = await limited.svid("/a");
    expect(verifyX509Svid(ok.chainPem, root.bundle()).id.path).toBe("/a");
  });

  it("4.2: URI name constraints limit the trust domains below a signer", async () => {
    const permitted = await root.intermediate({
      nameConstraints: { permittedUris: ["example.org"] },
    });
    expect(verifyX509Svid((await permitted.svid("/a")).chainPem, root.bundle()).id.path).toBe("/a");

    const elsewhere = await root.intermediate({
      nameConstraints: { permittedUris: ["other.org"] },
    });
    const svid = await elsewhere.svid("/a");
    expect(reasonOf(() => verifyX509Svid(svid.chainPem, root.bundle()))).toBe(
      SvidReason.NAME_CONSTRAINTS,
    );

    const excluded = await root.intermediate({
      nameConstraints: { excludedUris: ["example.org"] },
    });
    const svid2 = await excluded.svid("/a");
    expect(reasonOf(() => verifyX509Svid(svid2.chainPem, root.bundle()))).toBe(
      SvidReason.NAME_CONSTRAINTS,
    );
  });

  it("4.2: DNS name constraints apply to DNS SANs", async () => {
    const inter = await root.intermediate({ nameConstraints: { permittedDns: ["internal"] } });
    expect(
      verifyX509Svid((await inter.svid("/a", { dns: ["web.internal"] })).chainPem, root.bundle()).id
        .path,
    ).toBe("/a");
    const svid = await inter.svid("/a", { dns: ["web.example.com"] });
    expect(reasonOf(() => verifyX509Svid(svid.chainPem, root.bundle()))).toBe(
      SvidReason.NAME_CONSTRAINTS,
    );
  });

  it("5.1: an expired intermediate is rejected", async () => {
    const inter = await root.intermediate({
      notBefore: new Date(Date.now() - 3 * HOUR),
      notAfter: new Date(Date.now() - HOUR),
    });
    const svid = await inter.svid("/a");
    const err = thrown(() => verifyX509Svid(svid.chainPem, root.bundle()), SvidError);
    expect(err.reason).toBe(SvidReason.EXPIRED);
    expect(err.message).toMatch(/^x509svid: certificate has expired: intermediate 1 expired at /);
  });

  it("5.1: a leaf signed by a root not in the bundle is rejected", async () => {
    const stranger = await TestCa.root("example.org");
    const svid = await stranger.svid("/a");
    expect(reasonOf(() => verifyX509Svid(svid.chainPem, root.bundle()))).toBe(
      SvidReason.NO_CHAIN_TO_BUNDLE,
    );
  });

  it("intermediates come only from the presented chain", async () => {
    const inter = await root.intermediate();
    const leafOnly = (await inter.leaf("/a")).certPem;
    expect(reasonOf(() => verifyX509Svid(leafOnly, root.bundle()))).toBe(
      SvidReason.NO_CHAIN_TO_BUNDLE,
    );
  });

  it("roots come only from the bundle of the ID's trust domain", async () => {
    // The leaf claims other.org but is signed by example.org's root.
    const svid = await root.svid("/a", { uris: ["spiffe://other.org/a"] });
    const set = new X509BundleSet([root.bundle(), other.bundle()]);
    expect(reasonOf(() => verifyX509Svid(svid.chainPem, set))).toBe(SvidReason.NO_CHAIN_TO_BUNDLE);
    // A root presented in the chain is never trusted by itself.
    const stranger = await TestCa.root("example.org");
    const forged = await stranger.svid("/a");
    expect(
      reasonOf(() => verifyX509Svid(forged.chainPem + stranger.root.certPem, root.bundle())),
    ).toBe(SvidReason.NO_CHAIN_TO_BUNDLE);
  });

  it("the ID's trust domain must match the bundle's", async () => {
    const svid = await other.svid("/a");
    expect(() => verifyX509Svid(svid.chainPem, root.bundle())).toThrow(
      'x509svid: SPIFFE ID trust domain differs from the bundle\'s: "other.org" is not "example.org"',
    );
    expect(reasonOf(() => verifyX509Svid(svid.chainPem, new X509BundleSet([root.bundle()])))).toBe(
      SvidReason.NO_BUNDLE,
    );
  });

  it("verifies at the given time", async () => {
    const svid = await root.svid("/a");
    const later = new Date(Date.now() + 48 * HOUR);
    expect(reasonOf(() => verifyX509Svid(svid.chainPem, root.bundle(), { now: later }))).toBe(
      SvidReason.EXPIRED,
    );
    const earlier = new Date(Date.now() - 2 * HOUR);
    expect(reasonOf(() => verifyX509Svid(svid.chainPem, root.bundle(), { now: earlier }))).toBe(
      SvidReason.NOT_YET_VALID,
    );
  });

  it("a leaf signed by a key that is not its issuer's is rejected", async () => {
    const svid = await root.svid("/a");
    const der = Buffer.from(svid.leaf.rawData);
    der[der.length - 5] = (der[der.length - 5] as number) ^ 0xff;
    expect(reasonOf(() => verifyX509Svid([der], root.bundle()))).toBeOneOf([
      SvidReason.NO_CHAIN_TO_BUNDLE,
      SvidReason.MALFORMED_CERTIFICATE,
    ]);
  });
});

describe("malformed input", () => {
  it("RFC 5280 4.2: a certificate with two SAN extensions is refused, not read either way", async () => {
    const second = new x509.SubjectAlternativeNameExtension([
      { type: "url", value: "spiffe://example.org/admin" },
    ]);
    const svid = await root.svid("/a", { extra: [second] });
    const err = thrown(() => verifyX509Svid(svid.chainPem, root.bundle()), SvidError);
    expect(err.reason).toBe(SvidReason.MALFORMED_CERTIFICATE);
    expect(err.message).toBe(
      "x509svid: certificate cannot be parsed: certificate 0: extension 2.5.29.17 appears more than once",
    );
  });

  it("a certificate the reader reads but OpenSSL refuses does not verify: Node's TLS could not load it", async () => {
    // RFC 4514 hex: the subject's CN is an OCTET STRING. Names are compared as
    // DER, so the reader takes it; OpenSSL allows only string types in names.
    const svid = await root.svid("/a", { subject: "CN=#0403616263" });
    expect(parseCertificateChain(svid.chainPem)[0]?.uriSans).toEqual(["spiffe://example.org/a"]);
    const err = thrown(() => verifyX509Svid(svid.chainPem, root.bundle()), SvidError);
    expect(err.reason).toBe(SvidReason.MALFORMED_CERTIFICATE);
    expect(err.message).toMatch(/^x509svid: certificate cannot be parsed: certificate 0: error:/);
    expect((err.cause as { code?: string }).code).toMatch(/^ERR_OSSL_/);
  });

  it("a presented certificate whose key cannot be decoded is a dead end, not a crash", async () => {
    const inter = await root.intermediate();
    const svid = await inter.svid("/a");
    const [leafPem, interPem] = svid.chainPem.split(/(?<=-----END CERTIFICATE-----\n)/);
    // Same name as the real intermediate, so path building asks its key; the
    // EC key's algorithm OID (id-ecPublicKey, ...3d 02 01) made unknown.
    const der = parseCertificateChain(interPem as string)[0]?.der as Buffer;
    const algorithm = Buffer.from("06072a8648ce3d0201", "hex");
    const broken = Buffer.from(der);
    broken[broken.indexOf(algorithm) + algorithm.length - 1] = 0x7f;
    const chain = [parseCertificateChain(leafPem as string)[0]?.der as Buffer, broken, der];
    expect(verifyX509Svid(chain, root.bundle()).chain).toHaveLength(3);
  });

  it("rejects an empty chain", () => {
    expect(reasonOf(() => verifyX509Svid("", root.bundle()))).toBe(SvidReason.NO_CERTIFICATES);
  });

  it("rejects a chain that carries a non-certificate PEM block", async () => {
    const svid = await root.svid("/a");
    const err = thrown(() => verifyX509Svid(svid.chainPem + svid.keyPem, root.bundle()), SvidError);
    expect(err.reason).toBe(SvidReason.NOT_A_CERTIFICATE);
    expect(err.message).toBe(
      "x509svid: chain contains a PEM block that is not a certificate: block 1 is PRIVATE KEY",
    );
    expect(err.message).not.toContain("MII");
  });

  it("rejects garbage inside a CERTIFICATE block", () => {
    const pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    expect(reasonOf(() => verifyX509Svid(pem, root.bundle()))).toBe(
      SvidReason.MALFORMED_CERTIFICATE,
    );
  });
});

describe("X509Bundle", () => {
  it("round-trips through PEM", () => {
    const bundle = root.bundle();
    const again = X509Bundle.fromPem("example.org", bundle.toPem());
    expect(again.toPem()).toBe(bundle.toPem());
    expect(again.trustDomain.name).toBe("example.org");
  });

  it("keeps duplicate roots once", () => {
    const pem = root.root.certPem + root.root.certPem;
    expect(X509Bundle.fromPem(parseTrustDomain("example.org"), pem).roots).toHaveLength(1);
  });

  it("rejects an empty bundle, a leaf, and non-certificate blocks", async () => {
    const bundleReason = (fn: () => unknown) => thrown(fn, BundleError).reason;
    expect(bundleReason(() => X509Bundle.fromPem("example.org", ""))).toBe(BundleReason.EMPTY);
    const leaf = await root.leaf("/a");
    expect(bundleReason(() => X509Bundle.fromPem("example.org", leaf.certPem))).toBe(
      BundleReason.NOT_A_CA,
    );
    expect(bundleReason(() => X509Bundle.fromPem("example.org", leaf.keyPem))).toBe(
      BundleReason.NOT_A_CERTIFICATE,
    );
  });

  it("a bundle set refuses two bundles for one trust domain", () => {
    expect(() => new X509BundleSet([root.bundle(), root.bundle()])).toThrow(
      "x509bundle: more than one bundle for trust domain: example.org",
    );
  });
});

describe("path building is bounded against hostile chains", () => {
  it("refuses more than 16 presented certificates", async () => {
    const svid = await root.svid("/a");
    const filler = (await root.intermediate()).issued.certPem.repeat(17);
    expect(reasonOf(() => verifyX509Svid(svid.chainPem + filler, root.bundle()))).toBe(
      SvidReason.CHAIN_TOO_LONG,
    );
  });

  it("gives up on a mesh of intermediates that all issue each other but never reach a root", {
    timeout: 10_000,
  }, async () => {
    // Sixteen intermediates with one name and one key: each one is a valid issuer of every other.
    const stranger = await TestCa.root("example.org");
    const mesh = await stranger.intermediate();
    const copies: string[] = [];
    for (let i = 0; i < 15; i++) copies.push((await mesh.reissueSelfSigned()).certPem);
    const leaf = await mesh.leaf("/a");
    const chain = leaf.certPem + mesh.issued.certPem + copies.join("");
    const checks = vi.spyOn(ParsedCertificate.prototype, "isIssuedBy");
    try {
      expect(reasonOf(() => verifyX509Svid(chain, root.bundle()))).toBe(
        SvidReason.NO_CHAIN_TO_BUNDLE,
      );
      // Each (child, issuer) pair is checked at most once: 17 certificates against 16 + 1 candidates.
      expect(checks.mock.calls.length).toBeLessThanOrEqual(17 * 17);
      expect(checks.mock.calls.length).toBeGreaterThan(16);
    } finally {
      checks.mockRestore();
    }
  });
});
