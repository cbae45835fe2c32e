/**
 * Typed errors of the SPIFFE library.
 *
 * Every error carries a fixed `reason` (one of the named constants below) so
 * callers and tests can branch on it without matching text, and a message of the
 * form `<module>: <reason>: <detail>` that chains with its cause, so a log line
 * says which rule failed and for which value.
 */

/** Base class of every error the SPIFFE library throws. */
export class SpiffeError extends Error {
  /** The fixed reason, one of the module's `*Reason` constants. */
  readonly reason: string;

  constructor(reason: string, detail?: string, options?: { cause?: unknown }) {
    const causeText = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(`${reason}${detail === undefined ? "" : `: ${detail}`}${causeText}`, options);
    this.name = "SpiffeError";
    this.reason = reason;
  }
}

/** Reasons a string is not a SPIFFE ID or trust domain (SPIFFE-ID standard, section 2). */
export const SpiffeIdReason = {
  EMPTY: "spiffeid: cannot be empty",
  WRONG_SCHEME: 'spiffeid: scheme must be "spiffe://"',
  MISSING_TRUST_DOMAIN: "spiffeid: trust domain is missing",
  TRUST_DOMAIN_CHARS:
    "spiffeid: trust domain characters are limited to lowercase letters, digits, dots, dashes and underscores",
  TRUST_DOMAIN_USERINFO: "spiffeid: trust domain must not contain userinfo",
  TRUST_DOMAIN_PORT: "spiffeid: trust domain must not contain a port",
  TRUST_DOMAIN_TOO_LONG: "spiffeid: trust domain is longer than 255 bytes",
  EMPTY_SEGMENT: "spiffeid: path cannot contain empty segments",
  DOT_SEGMENT: 'spiffeid: path cannot contain "." or ".." segments',
  TRAILING_SLASH: "spiffeid: path cannot have a trailing slash",
  PATH_CHARS:
    "spiffeid: path segment characters are limited to letters, digits, dots, dashes and underscores",
  PATH_NOT_ABSOLUTE: 'spiffeid: path must start with "/"',
  QUERY: "spiffeid: must not contain a query",
  FRAGMENT: "spiffeid: must not contain a fragment",
  TOO_LONG: "spiffeid: longer than 2048 bytes",
} as const;
export type SpiffeIdReason = (typeof SpiffeIdReason)[keyof typeof SpiffeIdReason];

/** A string that is not a valid SPIFFE ID, trust domain name or path. */
export class SpiffeIdError extends SpiffeError {
  declare readonly reason: SpiffeIdReason;
  /** The rejected input (SPIFFE IDs are public; never used for secrets). */
  readonly value: string;

  constructor(reason: SpiffeIdReason, value: string) {
    super(reason, quote(value));
    this.name = "SpiffeIdError";
    this.value = value;
  }
}

/** Reasons an X509-SVID or its chain is rejected (X509-SVID standard, sections 2 to 5). */
export const SvidReason = {
  NO_CERTIFICATES: "x509svid: no certificates found",
  NOT_A_CERTIFICATE: "x509svid: chain contains a PEM block that is not a certificate",
  MALFORMED_CERTIFICATE: "x509svid: certificate cannot be parsed",
  MALFORMED_KEY: "x509svid: private key cannot be parsed",
  KEY_MISMATCH: "x509svid: private key does not match the leaf certificate",
  NO_URI_SAN: "x509svid: leaf certificate has no URI SAN",
  MULTIPLE_URI_SANS: "x509svid: leaf certificate has more than one URI SAN",
  INVALID_SPIFFE_ID: "x509svid: URI SAN is not a valid SPIFFE ID",
  ROOT_ID: "x509svid: leaf SPIFFE ID must have a non-root path",
  SAN_NOT_CRITICAL: "x509svid: URI SAN must be critical when the subject is empty",
  LEAF_IS_CA: "x509svid: leaf certificate must not be a CA",
  LEAF_KEY_CERT_SIGN: "x509svid: leaf certificate must not have keyCertSign",
  LEAF_CRL_SIGN: "x509svid: leaf certificate must not have cRLSign",
  LEAF_NO_DIGITAL_SIGNATURE: "x509svid: leaf certificate must have digitalSignature",
  NO_KEY_USAGE: "x509svid: key usage extension is missing",
  KEY_USAGE_NOT_CRITICAL: "x509svid: key usage extension must be critical",
  LEAF_EXT_KEY_USAGE:
    "x509svid: leaf extended key usage must include serverAuth or clientAuth (or anyExtendedKeyUsage)",
  LEAF_NO_SERVER_AUTH: "x509svid: leaf extended key usage must include serverAuth for a server",
  LEAF_NO_CLIENT_AUTH: "x509svid: leaf extended key usage must include clientAuth for a client",
  SIGNER_NOT_CA: "x509svid: signing certificate is not a CA",
  SIGNER_NO_KEY_CERT_SIGN: "x509svid: signing certificate lacks keyCertSign",
  SIGNER_ID_HAS_PATH: "x509svid: signing certificate SPIFFE ID must not have a path",
  PATH_LENGTH: "x509svid: path length constraint exceeded",
  NAME_CONSTRAINTS: "x509svid: SPIFFE ID is not permitted by name constraints",
  SIGNATURE_ALGORITHM:
    "x509svid: signature algorithm must be ECDSA, RSA or RSA-PSS with SHA-256, SHA-384 or SHA-512, or Ed25519",
  RSA_KEY_TOO_SMALL: "x509svid: RSA key must have at least 2048 bits",
  EC_CURVE: "x509svid: elliptic curve must be P-256, P-384 or P-521",
  KEY_ALGORITHM: "x509svid: public key must be RSA, EC or Ed25519",
  UNHANDLED_CRITICAL_EXTENSION: "x509svid: certificate has an unhandled critical extension",
  NOT_YET_VALID: "x509svid: certificate is not yet valid",
  EXPIRED: "x509svid: certificate has expired",
  NO_CHAIN_TO_BUNDLE: "x509svid: could not chain to a root in the trust bundle",
  CHAIN_TOO_LONG: "x509svid: too many certificates presented",
  NO_BUNDLE: "x509svid: no bundle for the trust domain",
  TRUST_DOMAIN_MISMATCH: "x509svid: SPIFFE ID trust domain differs from the bundle's",
} as const;
export type SvidReason = (typeof SvidReason)[keyof typeof SvidReason];

/** An X509-SVID that is malformed, or that fails verification against a bundle. */
export class SvidError extends SpiffeError {
  declare readonly reason: SvidReason;

  constructor(reason: SvidReason, detail?: string, options?: { cause?: unknown }) {
    super(reason, detail, options);
    this.name = "SvidError";
  }
}

/** Reasons a trust bundle is rejected. */
export const BundleReason = {
  EMPTY: "x509bundle: no root certificates",
  NOT_A_CERTIFICATE: "x509bundle: PEM block is not a certificate",
  MALFORMED_CERTIFICATE: "x509bundle: certificate cannot be parsed",
  NOT_A_CA: "x509bundle: root is not a CA certificate",
  NO_BUNDLE: "x509bundle: no bundle for trust domain",
  DUPLICATE_TRUST_DOMAIN: "x509bundle: more than one bundle for trust domain",
  NOT_A_JWK_SET: "x509bundle: SPIFFE bundle is not a JSON object",
  MISSING_KEYS: 'x509bundle: SPIFFE bundle has no "keys" array',
  BAD_SEQUENCE: "x509bundle: spiffe_sequence must be a non-negative integer",
  BAD_REFRESH_HINT: "x509bundle: spiffe_refresh_hint must be a non-negative integer of seconds",
  KEY_TYPE_MISMATCH: "x509bundle: JWK kty does not match the certificate's key",
  NOT_A_BUNDLE_MAP: 'x509bundle: SPIFFE bundle map has no "trust_domains" object',
  DUPLICATE_JSON_KEY: "x509bundle: SPIFFE bundle map has a duplicate key",
} as const;
export type BundleReason = (typeof BundleReason)[keyof typeof BundleReason];

/** A trust bundle that cannot be parsed or used. */
export class BundleError extends SpiffeError {
  declare readonly reason: BundleReason;

  constructor(reason: BundleReason, detail?: string, options?: { cause?: unknown }) {
    super(reason, detail, options);
    this.name = "BundleError";
  }
}

/**
 * Reasons the certificate reader refuses DER: encodings DER forbids (X.690
 * section 10) and X.509 fields out of their range (RFC 5280 section 4.1).
 * The detail names the field, e.g. `tbsCertificate.serialNumber`.
 */
export const DerReason = {
  TRUNCATED: "der: element runs past the end of its container",
  INDEFINITE_LENGTH: "der: indefinite length",
  LENGTH_NOT_MINIMAL: "der: length not in its shortest form",
  LENGTH_TOO_LARGE: "der: length of more than 4 bytes",
  HIGH_TAG_NUMBER: "der: tag number of 31 or more",
  UNEXPECTED_TAG: "der: unexpected tag",
  TRAILING_DATA: "der: trailing data",
  INTEGER_NOT_MINIMAL: "der: integer empty or not in its shortest form",
  INTEGER_RANGE: "der: integer out of range",
  BOOLEAN: "der: boolean is not one byte of 0x00 or 0xff",
  BIT_STRING: "der: bit string with invalid unused bits",
  OBJECT_IDENTIFIER: "der: malformed object identifier",
  TIME: "der: time is not YYMMDDHHMMSSZ (UTCTime) or YYYYMMDDHHMMSSZ (GeneralizedTime)",
  IA5_STRING: "der: IA5String has a byte above 0x7f",
  NEGATIVE_SERIAL: "der: serial number is negative",
  VERSION: "der: version is not v1, v2 or v3, or does not allow a field present",
  SIGNATURE_ALGORITHM_MISMATCH: "der: signatureAlgorithm differs from tbsCertificate.signature",
} as const;
export type DerReason = (typeof DerReason)[keyof typeof DerReason];

/**
 * DER that is not a well-formed X.509 certificate. `ParsedCertificate` throws
 * it; the bundle and chain parsers wrap it as the cause of their own
 * `MALFORMED_CERTIFICATE` error.
 */
export class DerError extends SpiffeError {
  declare readonly reason: DerReason;

  constructor(reason: DerReason, detail: string) {
    super(reason, detail);
    this.name = "DerError";
  }
}

/** Reasons an authorizer rejects a verified peer. */
export const AuthorizationReason = {
  UNAUTHORIZED_ID: "authorizer: unexpected SPIFFE ID",
  UNAUTHORIZED_TRUST_DOMAIN: "authorizer: SPIFFE ID is not a member of the expected trust domain",
} as const;
export type AuthorizationReason = (typeof AuthorizationReason)[keyof typeof AuthorizationReason];

/** A verified peer whose SPIFFE ID the authorizer does not accept. */
export class AuthorizationError extends SpiffeError {
  declare readonly reason: AuthorizationReason;

  constructor(reason: AuthorizationReason, detail: string) {
    super(reason, detail);
    this.name = "AuthorizationError";
  }
}

/** Reasons a TLS connection is refused on top of the X509-SVID checks. */
export const TlsReason = {
  SESSION_RESUMED:
    "spiffetls: resumed TLS session refused: a resumed session carries no certificate chain to verify",
} as const;
export type TlsReason = (typeof TlsReason)[keyof typeof TlsReason];

/** A TLS connection refused by the SPIFFE TLS helpers for a reason that is not the peer's SVID. */
export class SpiffeTlsError extends SpiffeError {
  declare readonly reason: TlsReason;

  constructor(reason: TlsReason, detail?: string) {
    super(reason, detail);
    this.name = "SpiffeTlsError";
  }
}

/** Reasons an SVID secret (the JSON document in Secrets Manager) is unusable. */
export const SvidSecretReason = {
  NO_VALUE: "svidsecret: secret has neither SecretString nor SecretBinary",
  NOT_JSON: "svidsecret: secret value is not a JSON object",
  MISSING_FIELD: "svidsecret: required field is missing or not a string",
  BAD_FIELD: "svidsecret: field has an invalid value",
  ID_MISMATCH: "svidsecret: spiffeId does not match the certificate's URI SAN",
} as const;
export type SvidSecretReason = (typeof SvidSecretReason)[keyof typeof SvidSecretReason];

/**
 * A stored SVID document that cannot be used. Messages name fields, never
 * their contents: the document holds a private key.
 */
export class SvidSecretError extends SpiffeError {
  declare readonly reason: SvidSecretReason;

  constructor(reason: SvidSecretReason, detail?: string, options?: { cause?: unknown }) {
    super(reason, detail, options);
    this.name = "SvidSecretError";
  }
}

const MAX_QUOTED = 256;

/** Quotes a public value for an error message, bounded so a huge input cannot flood logs. */
export function quote(value: string): string {
  const shown = value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}...` : value;
  return JSON.stringify(shown);
}
