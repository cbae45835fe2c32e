/**
 * Typed errors of the issuer, on the SPIFFE library's model: each carries a
 * fixed `reason` (one of the named constants below, all prefixed `issuer: `)
 * and a message `<reason>: <detail>: <cause>`, so a report line says which
 * rule failed and for which identity, account or file, and tests assert both
 * exactly. Messages name secrets, accounts and ARNs, never a key, a secret
 * value or a credential.
 */
import { LambdaSvidError } from "../../lib/errors/index.ts";

/**
 * Base class of every error the issuer throws.
 *
 * @example
 * if (err instanceof IssuerError && err.reason === SvidWriteReason.FOREIGN_SECRET) skip();
 */
export class IssuerError extends LambdaSvidError {
  constructor(reason: string, detail?: string, options?: { cause?: unknown }) {
    super(reason, detail, options);
    this.name = "IssuerError";
  }
}

/** Reasons an ID template, or an identity rendered through it, cannot give a SPIFFE ID. */
export const IdTemplateReason = {
  UNKNOWN_PLACEHOLDER: "issuer: ID template has an unknown placeholder",
  NO_SERVICE: "issuer: ID template must contain {service}",
  OUTSIDE_TRUST_DOMAIN: "issuer: ID template makes IDs outside the trust domain",
  NOT_SEPARATED:
    'issuer: ID template placeholders must be separated by "/", which their values cannot contain',
  BAD_SEGMENT:
    'issuer: identity field cannot form a SPIFFE ID path segment (letters, digits, ".", "-", "_")',
} as const;
export type IdTemplateReason = (typeof IdTemplateReason)[keyof typeof IdTemplateReason];

/**
 * A template that cannot produce valid, distinct SPIFFE IDs, or an identity
 * whose service or environment cannot be a path segment.
 *
 * @example
 * new IdTemplateError(IdTemplateReason.UNKNOWN_PLACEHOLDER, "{region}");
 */
export class IdTemplateError extends IssuerError {
  declare readonly reason: IdTemplateReason;

  constructor(reason: IdTemplateReason, detail: string) {
    super(reason, detail);
    this.name = "IdTemplateError";
  }
}

/** Reasons a certificate authority adapter cannot sign. */
export const CaReason = {
  NOT_ISSUED: "issuer: acm-pca: certificate still in progress when the wait for it ran out",
  NO_CERTIFICATE: "issuer: acm-pca: GetCertificate answered without a certificate",
  KEY_ALGORITHM: "issuer: acm-pca: CA key algorithm is not supported",
  CSR_SIGNATURE: "issuer: local CA: CSR signature does not verify",
  CA_FILE: "issuer: local CA: CA file lacks a PEM block",
} as const;
export type CaReason = (typeof CaReason)[keyof typeof CaReason];

/**
 * A signing backend that refused or failed, for a reason of its own rather
 * than an AWS SDK error (which propagates as it is).
 *
 * @example
 * new CaError(CaReason.KEY_ALGORITHM, `"SM2" of ${arn}`);
 */
export class CaError extends IssuerError {
  declare readonly reason: CaReason;

  constructor(reason: CaReason, detail: string) {
    super(reason, detail);
    this.name = "CaError";
  }
}

/** Reasons an issued certificate is refused before anything is pushed. */
export const IssueCheckReason = {
  WRONG_ID: "issuer: certificate does not carry exactly the requested SPIFFE ID",
  WRONG_KEY: "issuer: certificate public key is not the minted key",
  WRONG_VALIDITY: "issuer: certificate validity is not the requested one",
  NOT_VERIFIABLE: "issuer: certificate does not verify as an X509-SVID against the CA bundle",
} as const;
export type IssueCheckReason = (typeof IssueCheckReason)[keyof typeof IssueCheckReason];

/**
 * What the CA returned is not the SVID that was asked for. A SPIFFE library
 * cause is chained into the message (it says which X509-SVID rule failed).
 *
 * @example
 * new IssueCheckError(IssueCheckReason.WRONG_KEY, "spiffe://example.org/prod/payments");
 */
export class IssueCheckError extends IssuerError {
  declare readonly reason: IssueCheckReason;

  constructor(reason: IssueCheckReason, detail: string, options?: { cause?: unknown }) {
    super(reason, detail, options);
    this.name = "IssueCheckError";
  }
}

/** Reasons a tenant account cannot be opened for writing. */
export const TenantAccessReason = {
  NO_CREDENTIALS: "issuer: sts: AssumeRole returned no credentials",
} as const;
export type TenantAccessReason = (typeof TenantAccessReason)[keyof typeof TenantAccessReason];

/**
 * The writer role could not be used in a tenant account.
 *
 * @example
 * new TenantAccessError(TenantAccessReason.NO_CREDENTIALS, "account 111122223333");
 */
export class TenantAccessError extends IssuerError {
  declare readonly reason: TenantAccessReason;

  constructor(reason: TenantAccessReason, detail: string) {
    super(reason, detail);
    this.name = "TenantAccessError";
  }
}

/** Reasons the SVID secret is not written. */
export const SvidWriteReason = {
  FOREIGN_SECRET: "issuer: secret exists without the issuer's owner tag; not overwriting it",
  CREATE_CONFLICT: "issuer: CreateSecret keeps finding a secret that DescribeSecret does not",
} as const;
export type SvidWriteReason = (typeof SvidWriteReason)[keyof typeof SvidWriteReason];

/**
 * The tenant's SVID secret is refused (not ours) or cannot be settled.
 *
 * @example
 * new SvidWriteError(SvidWriteReason.FOREIGN_SECRET, '"lambda-svid/svid" in account 111122223333');
 */
export class SvidWriteError extends IssuerError {
  declare readonly reason: SvidWriteReason;

  constructor(reason: SvidWriteReason, detail: string) {
    super(reason, detail);
    this.name = "SvidWriteError";
  }
}

/** Reasons the registry cannot be read at all (as opposed to one bad entry in it). */
export const RegistryReason = {
  ORGANIZATION_UNAVAILABLE:
    "issuer: registry: the Organization is not available to the issuer (not in use, or access denied)",
  FILE_UNREADABLE: "issuer: registry: file cannot be read",
  FILE_NOT_JSON: "issuer: registry: file is not valid JSON",
  FILE_NOT_YAML: "issuer: registry: file is not valid YAML",
  FILE_SHAPE: 'issuer: registry: file must be an object with an "identities" array',
} as const;
export type RegistryReason = (typeof RegistryReason)[keyof typeof RegistryReason];

/**
 * The registry as a whole is unusable. The file's read error (a path) is
 * chained into the message; a parser's is kept only as `cause`, since the
 * base chains no message that may quote what was read.
 *
 * @example
 * new RegistryError(RegistryReason.FILE_SHAPE, JSON.stringify("/etc/lambda-svid/registry.yaml"));
 */
export class RegistryError extends IssuerError {
  declare readonly reason: RegistryReason;

  constructor(reason: RegistryReason, detail?: string, options?: { cause?: unknown }) {
    super(reason, detail, options);
    this.name = "RegistryError";
  }
}

/** Reasons an invocation event is refused. */
export const IssuerEventReason = {
  NOT_ACCEPTED: "issuer: invocation event not accepted",
} as const;
export type IssuerEventReason = (typeof IssuerEventReason)[keyof typeof IssuerEventReason];

/**
 * The event is none of the accepted shapes; the detail says what was expected and what was wrong.
 *
 * @example
 * new IssuerEventError('event: expected ...; got an event of another shape');
 */
export class IssuerEventError extends IssuerError {
  declare readonly reason: IssuerEventReason;

  constructor(detail: string) {
    super(IssuerEventReason.NOT_ACCEPTED, detail);
    this.name = "IssuerEventError";
  }
}

/** Reasons the planner and workers' own plumbing (state table, work queue) fails. */
export const QueueReason = {
  STORE_UNPROCESSED: "issuer: state table: items still unprocessed after retries",
  MESSAGE_INVALID: "issuer: work message is not one the planner sends",
  NOT_CONFIGURED: "issuer: the queued issuer needs its table and queue",
  SEND_FAILED: "issuer: work queue: messages not accepted",
  RATE_ITEM_INVALID: "issuer: state table: rate item's nextFree is not a number",
} as const;
export type QueueReason = (typeof QueueReason)[keyof typeof QueueReason];

/**
 * The state table or a queue did not take what the issuer sent, or a message
 * is malformed; the detail names the table, queue or field, never a value.
 *
 * @example
 * new QueueError(QueueReason.NOT_CONFIGURED, "LAMBDA_SVID_WORK_QUEUE_URL is not set");
 */
export class QueueError extends IssuerError {
  declare readonly reason: QueueReason;

  constructor(reason: QueueReason, detail: string) {
    super(reason, detail);
    this.name = "QueueError";
  }
}
