import { checkPublicKey, checkSignatureAlgorithm } from "./algorithms.ts";
import { X509Bundle, type X509BundleSource } from "./bundle.ts";
import { KeyUsageFlags, type NameConstraintSet, type ParsedCertificate } from "./certificate.ts";
import { type CertificateChainInput, parseCertificateChain, requireOpenSslReads } from "./chain.ts";
import { SvidError, SvidReason } from "./errors.ts";
import { parseSpiffeId, type SpiffeId } from "./id.ts";
import { checkLeaf, type X509SvidUsage } from "./leaf.ts";

export type { X509SvidUsage };

/** Longest chain (leaf to root) that path building explores. */
const MAX_CHAIN_LENGTH = 8;
/** Most certificates a peer may present besides its leaf. */
const MAX_PRESENTED = 16;
/** Most candidate paths validated before giving up. */
const MAX_CANDIDATE_PATHS = 32;
/** Most partial paths explored before giving up. */
const MAX_SEARCH_STEPS = 256;

export interface VerifyOptions {
  /** The time to verify at; defaults to the current time. */
  now?: Date;
  /**
   * The role the peer plays, which the leaf's extended key usage must allow:
   * `"server"` (serverAuth) when a client checks a server, `"client"`
   * (clientAuth) when a server checks a client. Defaults to `"any"`: either.
   */
  usage?: X509SvidUsage;
}

/** The result of a successful verification. */
export interface VerifiedX509Svid {
  id: SpiffeId;
  /** The verified path: leaf, intermediates from the presented chain, then the bundle root. */
  chain: ParsedCertificate[];
}

/**
 * Verifies an X509-SVID chain (leaf first) against the bundle of its trust
 * domain, per X509-SVID section 5: RFC 5280 path validation where
 * intermediates come only from the presented chain and roots only from the
 * bundle of the leaf ID's trust domain, plus the SPIFFE leaf and signing
 * certificate rules, the leaf's extended key usage for `opts.usage`, and the
 * allowed signature algorithms and key sizes on every certificate of the path.
 * Every presented certificate must also be one OpenSSL reads.
 *
 * `bundle` may be a bundle, a set of bundles, or PEM roots taken to be the
 * roots of the leaf's own trust domain.
 *
 * @throws {SvidError} whose `reason` names the first violated rule.
 * @example
 * const { id } = verifyX509Svid(doc.x509Svid, X509Bundle.fromPem("example.org", doc.bundle));
 * // a server checking the client that connected to it:
 * verifyX509Svid(peerChain(socket.getPeerCertificate(true)), bundle, { usage: "client" });
 */
export function verifyX509Svid(
  chain: CertificateChainInput,
  bundle: X509BundleSource | string,
  opts: VerifyOptions = {},
): VerifiedX509Svid {
  const certs = parseCertificateChain(chain);
  // Every presented certificate, not only the path's: the whole chain is what
  // gets stored and loaded into Node's TLS. First, so the refusal is the one
  // a chain OpenSSL cannot read always got. Bundle roots were read when the
  // bundle was built.
  requireOpenSslReads(certs);
  const leaf = certs[0] as ParsedCertificate;
  const id = checkLeaf(leaf, opts.usage);
  const roots = rootsFor(id, bundle);
  const now = opts.now ?? new Date();

  let firstFailure: SvidError | undefined;
  for (const path of candidatePaths(leaf, certs.slice(1), roots)) {
    try {
      validatePath(path, now);
      return { id, chain: path };
    } catch (err) {
      if (!(err instanceof SvidError)) throw err;
      firstFailure ??= err;
    }
  }
  throw firstFailure ?? new SvidError(SvidReason.NO_CHAIN_TO_BUNDLE, id.toString());
}

function rootsFor(id: SpiffeId, source: X509BundleSource | string): readonly ParsedCertificate[] {
  if (typeof source === "string") return X509Bundle.fromPem(id.trustDomain, source).roots;
  const bundle = source.bundleFor(id.trustDomain);
  if (bundle !== undefined) return bundle.roots;
  if (source instanceof X509Bundle) {
    throw new SvidError(
      SvidReason.TRUST_DOMAIN_MISMATCH,
      `${JSON.stringify(id.trustDomain.name)} is not ${JSON.stringify(source.trustDomain.name)}`,
    );
  }
  throw new SvidError(SvidReason.NO_BUNDLE, JSON.stringify(id.trustDomain.name));
}

/**
 * Signature-valid paths from the leaf through presented intermediates to a
 * bundle root, shortest first in practice. A peer controls the presented
 * chain, so the search is bounded: at most {@link MAX_PRESENTED} certificates,
 * each issuer check done once, at most {@link MAX_SEARCH_STEPS} partial paths
 * explored and {@link MAX_CANDIDATE_PATHS} complete ones validated.
 */
function* candidatePaths(
  leaf: ParsedCertificate,
  intermediates: ParsedCertificate[],
  roots: readonly ParsedCertificate[],
): Generator<ParsedCertificate[]> {
  if (intermediates.length > MAX_PRESENTED) {
    throw new SvidError(
      SvidReason.CHAIN_TOO_LONG,
      `${intermediates.length + 1} certificates presented`,
    );
  }
  const issued = new Map<ParsedCertificate, Map<ParsedCertificate, boolean>>();
  const isIssuedBy = (child: ParsedCertificate, parent: ParsedCertificate): boolean => {
    const row = issued.get(child) ?? new Map<ParsedCertificate, boolean>();
    issued.set(child, row);
    const known = row.get(parent);
    if (known !== undefined) return known;
    const result = child.isIssuedBy(parent);
    row.set(parent, result);
    return result;
  };
  const candidates = intermediates.filter((c) => !roots.some((root) => root.der.equals(c.der)));
  let yielded = 0;
  let steps = 0;
  function* extend(path: ParsedCertificate[]): Generator<ParsedCertificate[]> {
    if (++steps > MAX_SEARCH_STEPS) return;
    const current = path[path.length - 1] as ParsedCertificate;
    for (const root of roots) {
      if (yielded >= MAX_CANDIDATE_PATHS) return;
      if (isIssuedBy(current, root)) {
        yielded++;
        yield [...path, root];
      }
    }
    if (path.length + 1 >= MAX_CHAIN_LENGTH) return;
    for (const next of candidates) {
      if (yielded >= MAX_CANDIDATE_PATHS) return;
      if (!path.includes(next) && isIssuedBy(current, next)) yield* extend([...path, next]);
    }
  }
  yield* extend([leaf]);
}

function validatePath(path: ParsedCertificate[], now: Date): void {
  path.forEach((cert, i) => {
    const where = describe(i, path.length);
    if (now < cert.notBefore) {
      throw new SvidError(
        SvidReason.NOT_YET_VALID,
        `${where} valid from ${cert.notBefore.toISOString()}`,
      );
    }
    if (now > cert.notAfter) {
      throw new SvidError(SvidReason.EXPIRED, `${where} expired at ${cert.notAfter.toISOString()}`);
    }
    if (cert.unhandledCriticalExtensions.length > 0) {
      throw new SvidError(
        SvidReason.UNHANDLED_CRITICAL_EXTENSION,
        `${where}: ${cert.unhandledCriticalExtensions.join(", ")}`,
      );
    }
    checkPublicKey(cert, where);
    // A root is trusted because the bundle holds it, not for its self-signature.
    if (i < path.length - 1) checkSignatureAlgorithm(cert, where);
    if (i === 0) return;
    checkSigner(cert, where, i - 1);
    if (cert.nameConstraints !== undefined) {
      for (const below of path.slice(0, i))
        checkNameConstraints(cert.nameConstraints, below, where);
    }
  });
}

/** `intermediatesBelow`: non-leaf certificates between the leaf and this signer (RFC 5280 4.2.1.9). */
function checkSigner(cert: ParsedCertificate, where: string, intermediatesBelow: number): void {
  if (!cert.isCA) throw new SvidError(SvidReason.SIGNER_NOT_CA, where);
  if (!cert.hasKeyUsage(KeyUsageFlags.keyCertSign)) {
    throw new SvidError(SvidReason.SIGNER_NO_KEY_CERT_SIGN, where);
  }
  const pathLen = cert.basicConstraints?.pathLen;
  if (pathLen !== undefined && intermediatesBelow > pathLen) {
    throw new SvidError(
      SvidReason.PATH_LENGTH,
      `${where} allows ${pathLen}, has ${intermediatesBelow}`,
    );
  }
  for (const uri of cert.uriSans) {
    const id = tryParseSpiffeId(uri);
    if (id !== undefined && !id.isRoot()) {
      throw new SvidError(SvidReason.SIGNER_ID_HAS_PATH, `${where}: ${id.toString()}`);
    }
  }
}

/** RFC 5280 4.2.1.10 for URI names (compared by host, i.e. trust domain) and DNS names. */
function checkNameConstraints(nc: NameConstraintSet, cert: ParsedCertificate, where: string): void {
  if (nc.unsupported.length > 0) {
    throw new SvidError(
      SvidReason.NAME_CONSTRAINTS,
      `${where} constrains unsupported name types ${nc.unsupported.join(", ")}`,
    );
  }
  for (const uri of cert.uriSans) {
    const host = uriHost(uri);
    if (!withinSubtrees(host, nc.permittedUris, nc.excludedUris, matchUriConstraint)) {
      throw new SvidError(SvidReason.NAME_CONSTRAINTS, `${uri} under ${where}`);
    }
  }
  for (const dns of cert.dnsSans) {
    if (!withinSubtrees(dns, nc.permittedDns, nc.excludedDns, matchDnsConstraint)) {
      throw new SvidError(SvidReason.NAME_CONSTRAINTS, `DNS ${dns} under ${where}`);
    }
  }
}

function withinSubtrees(
  name: string | undefined,
  permitted: string[],
  excluded: string[],
  matches: (name: string, constraint: string) => boolean,
): boolean {
  if (name === undefined) return permitted.length === 0 && excluded.length === 0;
  if (excluded.some((c) => matches(name, c))) return false;
  return permitted.length === 0 || permitted.some((c) => matches(name, c));
}

function matchUriConstraint(host: string, constraint: string): boolean {
  const h = host.toLowerCase();
  const c = constraint.toLowerCase();
  return c.startsWith(".") ? h.endsWith(c) && h.length > c.length : h === c;
}

function matchDnsConstraint(name: string, constraint: string): boolean {
  const n = name.toLowerCase();
  const c = constraint.toLowerCase();
  if (c === "") return true;
  if (c.startsWith(".")) return n.endsWith(c) && n.length > c.length;
  return n === c || n.endsWith(`.${c}`);
}

function uriHost(uri: string): string | undefined {
  const match = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/(?:[^@/?#]*@)?([^:/?#]*)/.exec(uri);
  return match?.[1] || undefined;
}

function tryParseSpiffeId(uri: string): SpiffeId | undefined {
  try {
    return parseSpiffeId(uri);
  } catch {
    return undefined;
  }
}

function describe(index: number, length: number): string {
  if (index === 0) return "leaf";
  if (index === length - 1) return "root";
  return `intermediate ${index}`;
}
