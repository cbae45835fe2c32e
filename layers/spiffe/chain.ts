import { ParsedCertificate } from "./certificate.ts";
import { SvidError, SvidReason } from "./errors.ts";
import { decodePem } from "./pem.ts";

/** A certificate chain in any of the forms callers hold: PEM text, DER buffers, or parsed. */
export type CertificateChainInput = string | readonly Uint8Array[] | readonly ParsedCertificate[];

/**
 * Parses a chain, leaf first. Every PEM block must be a certificate: a chain
 * that carries a key or anything else is refused rather than silently skipped.
 * OpenSSL's reading is not asked for here; {@link requireOpenSslReads} does that.
 *
 * @throws {SvidError}
 * @example
 * const [leaf] = parseCertificateChain(svidPem);
 * leaf?.uriSans; // ["spiffe://example.org/web"]
 */
export function parseCertificateChain(input: CertificateChainInput): ParsedCertificate[] {
  let certs: ParsedCertificate[];
  if (typeof input === "string") {
    certs = decodePem(input).map((block, i) => {
      if (block.type !== "CERTIFICATE") {
        throw new SvidError(SvidReason.NOT_A_CERTIFICATE, `block ${i} is ${block.type}`);
      }
      return parseDer(block.der, i);
    });
  } else {
    certs = input.map((item, i) =>
      item instanceof ParsedCertificate ? item : parseDer(Buffer.from(item), i),
    );
  }
  if (certs.length === 0) throw new SvidError(SvidReason.NO_CERTIFICATES);
  return certs;
}

/**
 * Requires that OpenSSL (Node's `X509Certificate`) reads every certificate
 * too. Not redundant with the strict reader, which keeps some fields as DER
 * that OpenSSL decodes and may refuse (a name's values of a non-string type,
 * an algorithm's parameters). Node's TLS loads the same certificates with
 * OpenSSL, so a chain it cannot read must not pass as verified: the issuer
 * would replace a working SVID with one no function could present.
 *
 * @throws {SvidError} `MALFORMED_CERTIFICATE` naming the first refused certificate, OpenSSL's refusal as its cause.
 * @example
 * requireOpenSslReads(parseCertificateChain(svidPem));
 */
export function requireOpenSslReads(certs: readonly ParsedCertificate[]): void {
  certs.forEach((cert, i) => {
    try {
      cert.x509;
    } catch (cause) {
      throw new SvidError(SvidReason.MALFORMED_CERTIFICATE, `certificate ${i}`, { cause });
    }
  });
}

/**
 * Most CA certificates kept parsed between calls. The issuer parses the same
 * CA certificates behind every leaf it checks; leaves are never kept, so a
 * stream of them cannot evict the CAs.
 */
const CA_CACHE_SIZE = 32;
/** Parsed CA certificates by their exact DER (as latin1 text), least recently used first. */
const caCache = new Map<string, ParsedCertificate>();

function parseDer(der: Buffer | undefined, index: number): ParsedCertificate {
  try {
    if (der === undefined) throw new Error("PEM body is not base64");
    const key = der.toString("latin1");
    const cached = caCache.get(key);
    // Compared again, so a cached certificate whose buffer someone wrote to is never handed out.
    if (cached?.der.equals(der)) {
      caCache.delete(key);
      caCache.set(key, cached);
      return cached;
    }
    const cert = new ParsedCertificate(der);
    if (cert.isCA) {
      caCache.set(key, cert);
      if (caCache.size > CA_CACHE_SIZE) caCache.delete(caCache.keys().next().value as string);
    }
    return cert;
  } catch (cause) {
    throw new SvidError(SvidReason.MALFORMED_CERTIFICATE, `certificate ${index}`, { cause });
  }
}
