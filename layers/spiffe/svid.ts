import { createPrivateKey, type KeyObject } from "node:crypto";
import { inspect } from "node:util";
import type { ParsedCertificate } from "./certificate.ts";
import { parseCertificateChain, requireOpenSslReads } from "./chain.ts";
import { SvidError, SvidReason } from "./errors.ts";
import type { SpiffeId } from "./id.ts";
import { checkLeaf } from "./leaf.ts";
import { decodePem } from "./pem.ts";

/**
 * An X509-SVID with its private key: what a workload presents in mTLS.
 *
 * The key never leaves through `toJSON`, `String()` or `util.inspect`, so an
 * SVID that ends up in a log line shows its ID and validity, not its key.
 */
export class X509Svid {
  readonly id: SpiffeId;
  /** Leaf first, then the intermediates as presented. */
  readonly certificates: readonly ParsedCertificate[];
  readonly privateKey: KeyObject;

  constructor(id: SpiffeId, certificates: ParsedCertificate[], privateKey: KeyObject) {
    this.id = id;
    this.certificates = certificates;
    this.privateKey = privateKey;
  }

  get leaf(): ParsedCertificate {
    return this.certificates[0] as ParsedCertificate;
  }

  get notBefore(): Date {
    return this.leaf.notBefore;
  }

  get notAfter(): Date {
    return this.leaf.notAfter;
  }

  /** The chain as PEM, leaf first. */
  chainPem(): string {
    return this.certificates.map((cert) => cert.toPem()).join("");
  }

  /** The private key as PKCS#8 PEM. Handle with care: never log it. */
  keyPem(): string {
    return this.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  }

  toJSON(): { spiffeId: string; serialNumber: string; notBefore: string; notAfter: string } {
    return {
      spiffeId: this.id.toString(),
      serialNumber: this.leaf.serialNumber,
      notBefore: this.notBefore.toISOString(),
      notAfter: this.notAfter.toISOString(),
    };
  }

  toString(): string {
    return `X509Svid(${this.id.toString()})`;
  }

  [inspect.custom](): string {
    return `X509Svid ${JSON.stringify(this.toJSON())}`;
  }
}

/**
 * Parses an X509-SVID from its PEM chain (leaf first) and its PKCS#8 PEM key.
 * Checks the leaf's SVID rules, that OpenSSL reads every certificate (the
 * chain is what Node's TLS will present) and that the key belongs to the
 * leaf; does not check trust or time (that is {@link verifyX509Svid}'s job).
 *
 * @throws {SvidError}
 * @example
 * const svid = parseX509Svid(doc.x509Svid, doc.x509SvidKey);
 * svid.id.toString(); // "spiffe://example.org/prod/web"
 */
export function parseX509Svid(chainPem: string, keyPem: string): X509Svid {
  const certificates = parseCertificateChain(chainPem);
  requireOpenSslReads(certificates);
  const leaf = certificates[0] as ParsedCertificate;
  const id = checkLeaf(leaf);
  const privateKey = parsePrivateKey(keyPem);
  if (!leaf.x509.checkPrivateKey(privateKey))
    throw new SvidError(SvidReason.KEY_MISMATCH, id.toString());
  return new X509Svid(id, certificates, privateKey);
}

function parsePrivateKey(keyPem: string): KeyObject {
  const blocks = decodePem(keyPem);
  const block = blocks[0];
  if (blocks.length !== 1 || block?.type !== "PRIVATE KEY" || block.der === undefined) {
    throw new SvidError(
      SvidReason.MALFORMED_KEY,
      "expected one PKCS#8 PEM block (BEGIN PRIVATE KEY)",
    );
  }
  try {
    return createPrivateKey({ key: block.der, format: "der", type: "pkcs8" });
  } catch {
    // The cause's text could echo key bytes in some OpenSSL builds; keep it out.
    throw new SvidError(SvidReason.MALFORMED_KEY, "PKCS#8 structure is invalid");
  }
}
