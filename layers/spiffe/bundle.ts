import { ParsedCertificate } from "./certificate.ts";
import { BundleError, BundleReason } from "./errors.ts";
import { parseTrustDomain, type TrustDomain } from "./id.ts";
import { readBundleMap, readJwksBundle, writeJwksBundle } from "./jwks.ts";
import { decodePem } from "./pem.ts";

/**
 * Anything that can hand out the X.509 roots of a trust domain: one
 * {@link X509Bundle}, or an {@link X509BundleSet} for federation.
 */
export interface X509BundleSource {
  /** The bundle of `trustDomain`, or `undefined` when this source has none. */
  bundleFor(trustDomain: TrustDomain): X509Bundle | undefined;
  /** Every root of every trust domain, for TLS stacks that need one flat list. */
  allRoots(): readonly ParsedCertificate[];
}

/**
 * The X.509 root certificates of one trust domain (SPIFFE Trust Domain and
 * Bundle standard). Verification only chains an SVID to the roots of its own
 * trust domain's bundle.
 *
 * @example
 * const bundle = X509Bundle.fromPem("example.org", fs.readFileSync("bundle.pem", "utf8"));
 * bundle.toPem();
 */
export class X509Bundle implements X509BundleSource {
  readonly trustDomain: TrustDomain;
  /** May be empty only for a SPIFFE bundle that revoked every key: then nothing verifies. */
  readonly roots: readonly ParsedCertificate[];
  /** `spiffe_sequence` of the SPIFFE bundle this came from, if any. */
  readonly sequence: number | undefined;
  /** `spiffe_refresh_hint` (seconds) of the SPIFFE bundle this came from, if any. */
  readonly refreshHintSeconds: number | undefined;

  private constructor(
    trustDomain: TrustDomain,
    roots: ParsedCertificate[],
    meta: { sequence?: number | undefined; refreshHintSeconds?: number | undefined } = {},
  ) {
    this.trustDomain = trustDomain;
    this.roots = roots;
    this.sequence = meta.sequence;
    this.refreshHintSeconds = meta.refreshHintSeconds;
  }

  /**
   * Reads the X.509 roots of a SPIFFE bundle (JWK Set, SPIFFE Trust Domain and
   * Bundle section 4). A bundle with no usable `x509-svid` keys is valid and
   * empty: the trust domain revoked its keys, and no SVID from it verifies.
   *
   * @throws {BundleError}
   * @example
   * const bundle = X509Bundle.fromJwks("example.org", await (await fetch(bundleEndpoint)).text());
   */
  static fromJwks(trustDomain: TrustDomain | string, jwks: string | unknown): X509Bundle {
    const td = typeof trustDomain === "string" ? parseTrustDomain(trustDomain) : trustDomain;
    const { roots, sequence, refreshHintSeconds } = readJwksBundle(jwks);
    return new X509Bundle(td, dedupe(roots), { sequence, refreshHintSeconds });
  }

  /** The roots as a SPIFFE bundle (JWK Set), with the given sequence number and refresh hint. */
  toJwks(options: { sequence?: number; refreshHintSeconds?: number } = {}): string {
    return writeJwksBundle(this.roots, options);
  }

  /**
   * Parses the PEM roots of `trustDomain`. Every block must be a CA certificate
   * (a leaf is never a trust anchor); duplicates are kept once.
   *
   * @throws {BundleError}
   */
  static fromPem(trustDomain: TrustDomain | string, pem: string): X509Bundle {
    const td = typeof trustDomain === "string" ? parseTrustDomain(trustDomain) : trustDomain;
    const roots: ParsedCertificate[] = [];
    for (const [i, block] of decodePem(pem).entries()) {
      if (block.type !== "CERTIFICATE") {
        throw new BundleError(BundleReason.NOT_A_CERTIFICATE, `block ${i} is ${block.type}`);
      }
      const root = parseRoot(block.der, i);
      requireOpenSslReads(root, `block ${i}`);
      roots.push(root);
    }
    return X509Bundle.fromCertificates(td, roots);
  }

  /**
   * Roots must be read by OpenSSL too: TLS options hand them to Node's TLS as
   * its CAs, and a bundle is read rarely, so the cost does not matter here.
   *
   * @throws {BundleError} when the list is empty, holds a non-CA certificate,
   *   or one OpenSSL refuses.
   * @example
   * X509Bundle.fromCertificates(parseTrustDomain("example.org"), parseCertificateChain(rootsPem));
   */
  static fromCertificates(trustDomain: TrustDomain, roots: ParsedCertificate[]): X509Bundle {
    if (roots.length === 0) throw new BundleError(BundleReason.EMPTY, trustDomain.name);
    for (const [i, root] of roots.entries()) {
      requireOpenSslReads(root, `certificate ${i}`);
      if (!root.isCA) throw new BundleError(BundleReason.NOT_A_CA, `certificate ${i}`);
    }
    return new X509Bundle(trustDomain, dedupe(roots));
  }

  bundleFor(trustDomain: TrustDomain): X509Bundle | undefined {
    return trustDomain.equals(this.trustDomain) ? this : undefined;
  }

  allRoots(): readonly ParsedCertificate[] {
    return this.roots;
  }

  /** The roots as concatenated PEM, in their original order. */
  toPem(): string {
    return this.roots.map((root) => root.toPem()).join("");
  }
}

/**
 * Bundles of several trust domains (one's own plus federated ones), one per
 * trust domain.
 *
 * @example
 * const set = new X509BundleSet([own, X509Bundle.fromPem("partner.example", partnerPem)]);
 * set.bundleFor(parseTrustDomain("partner.example"));
 */
export class X509BundleSet implements X509BundleSource {
  private readonly bundles = new Map<string, X509Bundle>();

  /** @throws {BundleError} when two bundles are for the same trust domain. */
  constructor(bundles: Iterable<X509Bundle>) {
    for (const bundle of bundles) {
      if (this.bundles.has(bundle.trustDomain.name)) {
        throw new BundleError(BundleReason.DUPLICATE_TRUST_DOMAIN, bundle.trustDomain.name);
      }
      this.bundles.set(bundle.trustDomain.name, bundle);
    }
  }

  /**
   * Reads a SPIFFE bundle map (`{"trust_domains": {...}}`); duplicate keys are refused.
   *
   * @throws {BundleError}
   */
  static fromBundleMap(text: string): X509BundleSet {
    return new X509BundleSet(
      [...readBundleMap(text)].map(([td, jwks]) => X509Bundle.fromJwks(td, jwks)),
    );
  }

  bundleFor(trustDomain: TrustDomain): X509Bundle | undefined {
    return this.bundles.get(trustDomain.name);
  }

  allRoots(): readonly ParsedCertificate[] {
    return [...this.bundles.values()].flatMap((bundle) => bundle.roots);
  }

  trustDomains(): TrustDomain[] {
    return [...this.bundles.values()].map((bundle) => bundle.trustDomain);
  }
}

function dedupe(roots: ParsedCertificate[]): ParsedCertificate[] {
  const unique = new Map<string, ParsedCertificate>();
  for (const root of roots) unique.set(root.der.toString("base64"), root);
  return [...unique.values()];
}

function parseRoot(der: Buffer | undefined, index: number): ParsedCertificate {
  try {
    if (der === undefined) throw new Error("PEM body is not base64");
    return new ParsedCertificate(der);
  } catch (cause) {
    throw new BundleError(BundleReason.MALFORMED_CERTIFICATE, `block ${index}`, { cause });
  }
}

/** @throws {BundleError} `MALFORMED_CERTIFICATE` naming `where`, when OpenSSL refuses `root`. */
function requireOpenSslReads(root: ParsedCertificate, where: string): void {
  try {
    root.x509;
  } catch (cause) {
    throw new BundleError(BundleReason.MALFORMED_CERTIFICATE, where, { cause });
  }
}
