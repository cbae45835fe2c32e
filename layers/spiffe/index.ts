/**
 * The SPIFFE library of lambda-svid: SPIFFE IDs and trust domains, X.509 trust
 * bundles, X509-SVIDs and their verification, authorizers, and TLS options for
 * mTLS where the identity is the peer's SPIFFE ID.
 *
 * Written from the SPIFFE standards (SPIFFE-ID, X509-SVID, SPIFFE Trust Domain
 * and Bundle). Verification builds paths from the presented chain to roots of
 * the bundle of the leaf ID's own trust domain only.
 *
 * Knows no product part and no AWS: imports Node and nothing else (certificates
 * are read by its own strict DER reader), so it ships alone as `@lambda-svid/spiffe`.
 *
 * @example
 * import { parseX509Svid, X509Bundle, tlsClientOptions, authorizeId } from "./layers/spiffe/index.ts";
 * const svid = parseX509Svid(doc.x509Svid, doc.x509SvidKey);
 * const bundle = X509Bundle.fromPem(svid.id.trustDomain, doc.bundle);
 * tls.connect({ host, port, ...tlsClientOptions(svid, bundle, authorizeId("spiffe://example.org/prod/db")) });
 *
 * @module
 */
export {
  type Authorizer,
  authorizeAny,
  authorizeId,
  authorizeMemberOf,
  authorizeOneOf,
} from "./authorize.ts";
export { X509Bundle, X509BundleSet, type X509BundleSource } from "./bundle.ts";
export { ParsedCertificate } from "./certificate.ts";
export { type CertificateChainInput, parseCertificateChain } from "./chain.ts";
export {
  AuthorizationError,
  AuthorizationReason,
  BundleError,
  BundleReason,
  SpiffeError,
  SpiffeIdError,
  SpiffeIdReason,
  SpiffeTlsError,
  SvidError,
  SvidReason,
  SvidSecretError,
  SvidSecretReason,
  TlsReason,
} from "./errors.ts";
export {
  MAX_SPIFFE_ID_BYTES,
  MAX_TRUST_DOMAIN_BYTES,
  parseSpiffeId,
  parseTrustDomain,
  SpiffeId,
  spiffeIdFromPath,
  spiffeIdFromSegments,
  TrustDomain,
} from "./id.ts";
export { parseX509Svid, X509Svid } from "./svid.ts";
export {
  encodeSvidSecret,
  parseSvidSecret,
  type SvidSecret,
  type SvidSecretDocument,
} from "./svid-secret.ts";
export {
  createSpiffeHttpsServer,
  createSpiffeTlsServer,
  guardClientSocket,
  guardServer,
  peerChain,
  type SpiffeTlsClientOptions,
  type SpiffeTlsServerOptions,
  tlsClientOptions,
  tlsServerOptions,
} from "./tls.ts";
export {
  type VerifiedX509Svid,
  type VerifyOptions,
  verifyX509Svid,
  type X509SvidUsage,
} from "./verify.ts";
