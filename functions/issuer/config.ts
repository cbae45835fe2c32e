import { parseTrustDomain, SpiffeIdError, type TrustDomain } from "../../layers/spiffe/index.ts";
import { readSvidSecretName } from "../../layers/svid-secret/index.ts";
import { ConfigError, type Env, EnvReader } from "../../lib/config/index.ts";
import { IdTemplateError } from "./errors.ts";
import { IdTemplate } from "./identity.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Where the identities come from. */
export type RegistrySource = { kind: "organizations" } | { kind: "file"; path: string };

/** Which certificate authority signs. */
export type CaSource = { kind: "acm-pca"; arn: string } | { kind: "local"; directory: string };

export type KeyAlgorithm = "EC_P256" | "RSA_2048";

/**
 * Where the SVID document goes in the secret: `SecretString` (the default), or
 * `SecretBinary` as SPIRE's Secrets Manager SVIDStore writes it.
 */
export type SecretFormat = "string" | "binary";

/** Tag keys on Organizations accounts that enable and describe an identity. */
export interface AccountTagKeys {
  service: string;
  environment: string;
  enabled: string;
  /** `true` says the account's SPIFFE ID is meant to be shared with other accounts. */
  spansAccounts: string;
}

/** The issuer's configuration: every `LAMBDA_SVID_*` variable, validated. */
export interface IssuerConfig {
  trustDomain: TrustDomain;
  registry: RegistrySource;
  tagKeys: AccountTagKeys;
  ca: CaSource;
  writerRole: string;
  externalId: string;
  secretName: string;
  secretFormat: SecretFormat;
  kmsKeyId: string | undefined;
  idTemplate: IdTemplate;
  validityMs: number;
  renewBeforeMs: number;
  keyAlgorithm: KeyAlgorithm;
  concurrency: number;
  caIssueRate: number;
  caGetRate: number;
  organizationsRate: number;
  deadlineMarginMs: number;
  /** The planner and its workers; absent names mean the issuer runs direct (one process, no queue). */
  queue: QueueConfig;
  /** First GetCertificate this long after IssueCertificate. */
  caFirstPollMs: number;
}

/** What the queued issuer (planner → SQS → workers) is configured with. */
export interface QueueConfig {
  /** The DynamoDB table that remembers the registry snapshot, plans and outcomes. */
  stateTable: string | undefined;
  /** Where the planner sends due work. */
  workQueueUrl: string | undefined;
  /** Where a worker sends work that failed for good, with its reason. */
  deadLetterQueueUrl: string | undefined;
  /** A message that failed this many receives goes to the dead-letter queue. */
  maxReceives: number;
  /** Workers at once (the event source's maximum concurrency); each polls GetCertificate at this share of its rate. */
  workers: number;
  /** Every account's tags are re-read at least this often, events or not. */
  registryRefreshMs: number;
  /** A secret the issuer has not written or checked for this long is checked. */
  checkIntervalMs: number;
  /** Queued work with no outcome after this long is queued again. */
  pendingTimeoutMs: number;
  /** A failed message is delivered again after this, doubled per receive (at most 15 minutes). */
  retryDelayMs: number;
}

/** Seconds an identity is expected in flight (CA answer, readiness, tenant calls): in-flight = rate × this. */
const IN_FLIGHT_SECONDS = 3;

const ACM_PCA_ARN =
  /^arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:\d{12}:certificate-authority\/[0-9a-f-]{36}$/;
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

/**
 * Reads and validates the issuer's configuration once, at start. The handler
 * and `npm start` both call this, so they read the same variables.
 *
 * @throws {ConfigError} naming the first bad variable.
 */
export function loadIssuerConfig(env: Env = process.env): IssuerConfig {
  const r = new EnvReader(env);

  const tdText = r.required(
    "LAMBDA_SVID_TRUST_DOMAIN",
    "a SPIFFE trust domain name such as example.org",
  );
  let trustDomain: TrustDomain;
  try {
    trustDomain = parseTrustDomain(tdText);
  } catch (err) {
    if (!(err instanceof SpiffeIdError)) throw err;
    throw new ConfigError(
      "LAMBDA_SVID_TRUST_DOMAIN",
      `a trust domain name (${err.reason})`,
      tdText,
    );
  }

  const validityMs = r.duration(
    "LAMBDA_SVID_VALIDITY",
    DAY,
    60_000,
    7 * DAY,
    "a duration from 1m to 7d, such as 24h",
  );
  const renewBeforeMs = r.duration(
    "LAMBDA_SVID_RENEW_BEFORE",
    Math.floor(validityMs / 3),
    0,
    validityMs - 1,
    "a duration shorter than LAMBDA_SVID_VALIDITY, such as 8h",
  );

  const templateText = r.string("LAMBDA_SVID_ID_TEMPLATE", IdTemplate.DEFAULT);
  let idTemplate: IdTemplate;
  try {
    idTemplate = IdTemplate.parse(templateText, trustDomain);
  } catch (err) {
    if (!(err instanceof IdTemplateError || err instanceof SpiffeIdError)) throw err;
    throw new ConfigError(
      "LAMBDA_SVID_ID_TEMPLATE",
      `a template such as ${IdTemplate.DEFAULT} (${err.message})`,
      templateText,
    );
  }

  const writerRole = r.string("LAMBDA_SVID_WRITER_ROLE", "lambda-svid-writer");
  if (!ROLE_NAME.test(writerRole))
    throw new ConfigError("LAMBDA_SVID_WRITER_ROLE", "an IAM role name", writerRole);
  const externalId = r.required(
    "LAMBDA_SVID_EXTERNAL_ID",
    "the ExternalId the tenant writer roles require",
  );
  // The ExternalId is a shared secret of sorts; never echo it.
  if (!EXTERNAL_ID.test(externalId))
    throw new ConfigError("LAMBDA_SVID_EXTERNAL_ID", "2 to 1224 characters of [\\w+=,.@:/-]");
  const secretName = readSvidSecretName(r);
  const caIssueRate = r.number("LAMBDA_SVID_CA_ISSUE_RATE", 20, 0.1, 25);

  return {
    trustDomain,
    registry: parseRegistry(r.string("LAMBDA_SVID_REGISTRY", "organizations")),
    tagKeys: {
      service: r.string("LAMBDA_SVID_TAG_SERVICE", "lambda-svid:service"),
      environment: r.string("LAMBDA_SVID_TAG_ENVIRONMENT", "lambda-svid:environment"),
      enabled: r.string("LAMBDA_SVID_TAG_ENABLED", "lambda-svid:enabled"),
      spansAccounts: r.string("LAMBDA_SVID_TAG_SPANS_ACCOUNTS", "lambda-svid:spans-accounts"),
    },
    ca: parseCa(
      r.required("LAMBDA_SVID_CA", "acm-pca:<certificate-authority-arn> or local:<directory>"),
    ),
    writerRole,
    externalId,
    secretName,
    secretFormat: r.oneOf("LAMBDA_SVID_SECRET_FORMAT", ["string", "binary"] as const, "string"),
    kmsKeyId: r.optional("LAMBDA_SVID_KMS_KEY_ID"),
    idTemplate,
    validityMs,
    renewBeforeMs,
    keyAlgorithm: r.oneOf("LAMBDA_SVID_KEY_ALGORITHM", ["EC_P256", "RSA_2048"] as const, "EC_P256"),
    // Enough identities in flight to keep the CA's issue rate busy while each waits on it.
    concurrency: r.integer(
      "LAMBDA_SVID_CONCURRENCY",
      Math.min(256, Math.ceil(caIssueRate * IN_FLIGHT_SECONDS)),
      1,
      256,
    ),
    caIssueRate,
    caGetRate: r.number("LAMBDA_SVID_CA_GET_RATE", 60, 0.1, 75),
    organizationsRate: r.number("LAMBDA_SVID_ORGANIZATIONS_RATE", 8, 0.1, 100),
    deadlineMarginMs: r.duration(
      "LAMBDA_SVID_DEADLINE_MARGIN",
      20_000,
      0,
      15 * 60_000,
      "a duration such as 20s",
    ),
    queue: {
      stateTable: r.optional("LAMBDA_SVID_STATE_TABLE"),
      workQueueUrl: r.optional("LAMBDA_SVID_WORK_QUEUE_URL"),
      deadLetterQueueUrl: r.optional("LAMBDA_SVID_DEAD_LETTER_QUEUE_URL"),
      maxReceives: r.integer("LAMBDA_SVID_MAX_RECEIVES", 3, 1, 20),
      workers: r.integer("LAMBDA_SVID_WORKERS", 2, 1, 100),
      registryRefreshMs: r.duration(
        "LAMBDA_SVID_REGISTRY_REFRESH",
        DAY,
        HOUR,
        7 * DAY,
        "a duration from 1h to 7d, such as 24h",
      ),
      checkIntervalMs: r.duration(
        "LAMBDA_SVID_CHECK_INTERVAL",
        DAY,
        HOUR,
        7 * DAY,
        "a duration from 1h to 7d, such as 24h",
      ),
      pendingTimeoutMs: r.duration(
        "LAMBDA_SVID_PENDING_TIMEOUT",
        6 * HOUR,
        10 * 60_000,
        DAY,
        "a duration from 10m to 24h, such as 6h",
      ),
      retryDelayMs: r.duration(
        "LAMBDA_SVID_RETRY_DELAY",
        30_000,
        0,
        15 * 60_000,
        "a duration up to 15m, such as 30s",
      ),
    },
    caFirstPollMs: r.duration(
      "LAMBDA_SVID_CA_FIRST_POLL",
      1_000,
      0,
      60_000,
      "a duration up to 1m, such as 1s",
    ),
  };
}

function parseRegistry(value: string): RegistrySource {
  if (value === "organizations") return { kind: "organizations" };
  if (value.startsWith("file:") && value.length > "file:".length)
    return { kind: "file", path: value.slice(5) };
  throw new ConfigError("LAMBDA_SVID_REGISTRY", "organizations or file:<path>", value);
}

function parseCa(value: string): CaSource {
  if (value.startsWith("acm-pca:")) {
    const arn = value.slice("acm-pca:".length);
    if (ACM_PCA_ARN.test(arn)) return { kind: "acm-pca", arn };
  } else if (value.startsWith("local:") && value.length > "local:".length) {
    return { kind: "local", directory: value.slice("local:".length) };
  }
  throw new ConfigError(
    "LAMBDA_SVID_CA",
    "acm-pca:<certificate-authority-arn> or local:<directory>",
    value,
  );
}
