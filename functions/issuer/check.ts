import {
  type ParsedCertificate,
  parseCertificateChain,
  type SpiffeId,
  verifyX509Svid,
  type X509Bundle,
  X509Svid,
} from "../../layers/spiffe/index.ts";
import { IssueCheckError, IssueCheckReason } from "./errors.ts";
import type { MintedRequest } from "./mint.ts";

export interface Expected {
  spiffeId: SpiffeId;
  notBefore: Date;
  notAfter: Date;
  /** Tolerance on both validity bounds. */
  skewMs: number;
  now: Date;
}

/**
 * Checks what the CA returned before it is pushed: exactly the requested URI
 * SAN, the minted key, the requested validity within `skewMs`, and a full
 * X509-SVID verification against the CA's bundle. Returns the SVID to store.
 *
 * @throws {IssueCheckError}
 */
export function checkIssued(
  chainPem: string,
  minted: MintedRequest,
  bundle: X509Bundle,
  expected: Expected,
): X509Svid {
  let certs: ParsedCertificate[];
  try {
    certs = parseCertificateChain(chainPem);
  } catch (cause) {
    throw new IssueCheckError(IssueCheckReason.NOT_VERIFIABLE, "unparseable chain", { cause });
  }
  const leaf = certs[0] as ParsedCertificate;
  const want = expected.spiffeId.toString();
  if (leaf.uriSans.length !== 1 || leaf.uriSans[0] !== want) {
    throw new IssueCheckError(
      IssueCheckReason.WRONG_ID,
      `wanted ${want}, got ${JSON.stringify(leaf.uriSans)}`,
    );
  }
  // Byte for byte, as the CSR carried it: no re-encoding by OpenSSL needed to compare.
  if (!leaf.spkiDer.equals(minted.spkiDer)) {
    throw new IssueCheckError(IssueCheckReason.WRONG_KEY, want);
  }
  const offBy = (a: Date, b: Date) => Math.abs(a.getTime() - b.getTime());
  if (
    offBy(leaf.notAfter, expected.notAfter) > expected.skewMs ||
    offBy(leaf.notBefore, expected.notBefore) > expected.skewMs
  ) {
    throw new IssueCheckError(
      IssueCheckReason.WRONG_VALIDITY,
      `wanted ${expected.notBefore.toISOString()} to ${expected.notAfter.toISOString()}, got ${leaf.notBefore.toISOString()} to ${leaf.notAfter.toISOString()}`,
    );
  }
  try {
    verifyX509Svid(certs, bundle, { now: expected.now });
  } catch (cause) {
    throw new IssueCheckError(IssueCheckReason.NOT_VERIFIABLE, want, { cause });
  }
  return new X509Svid(expected.spiffeId, certs, minted.privateKey);
}
