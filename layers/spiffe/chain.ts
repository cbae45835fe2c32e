import { ParsedCertificate } from "./certificate.ts";
import { SvidError, SvidReason } from "./errors.ts";
import { decodePem } from "./pem.ts";

/** A certificate chain in any of the forms callers hold: PEM text, DER buffers, or parsed. */
export type CertificateChainInput = string | readonly Uint8Array[] | readonly ParsedCertificate[];

/**
 * Parses a chain, leaf first. Every PEM block must be a certificate: a chain
 * that carries a key or anything else is refused rather than silently skipped.
 *
 * @throws {SvidError}
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

function parseDer(der: Buffer | undefined, index: number): ParsedCertificate {
  try {
    if (der === undefined) throw new Error("PEM body is not base64");
    return new ParsedCertificate(der);
  } catch (cause) {
    throw new SvidError(SvidReason.MALFORMED_CERTIFICATE, `certificate ${index}`, { cause });
  }
}
