import { parseTrustDomain, SpiffeIdError, type TrustDomain } from "../../layers/spiffe/index.ts";
import { SVID_SECRET_NAME_SPEC } from "../../layers/svid-secret/index.ts";
import {
  Catalogue,
  ConfigError,
  type Env,
  expectedText,
  type VariableSpec,
  variable,
} from "../../lib/config/index.ts";
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
  /** Unset for the planner, which never signs; see {@link requireSetting}. */
  ca: CaSource | undefined;
  writerRole: string;
  /** Unset for the planner, which never opens a tenant account; see {@link requireSetting}. */
  externalId: string | undefined;
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

/**
 * The issuer's variables (planner, workers and `npm start` alike), declared
 * once: {@link loadIssuerConfig} reads only these, and
 * `docs/configuration.md` is generated from them.
 *
 * @example
 * ISSUER_CATALOGUE.spec("LAMBDA_SVID_WORKERS").default; // 2
 */
export const ISSUER_CATALOGUE = new Catalogue(
  "issuer",
  "The issuer (`functions/issuer`): the planner and its workers in the central account, and `npm start`",
  [
    variable({
      name: "LAMBDA_SVID_TRUST_DOMAIN",
      kind: "required",
      expected: "a SPIFFE trust domain name such as example.org",
      description: "the trust domain every issued SPIFFE ID is in",
    }),
    variable({
      name: "LAMBDA_SVID_REGISTRY",
      kind: "string",
      default: "organizations",
      expected: "organizations or file:<path>",
      description:
        "where the identities come from: Organizations account tags, or a YAML/JSON registry file",
    }),
    variable({
      name: "LAMBDA_SVID_CA",
      kind: "string",
      expected: "acm-pca:<certificate-authority-arn> or local:<directory>",
      whenUnset: "required by the workers and direct runs",
      description:
        "the CA that signs: an AWS Private CA, or the project's local CA in a directory (the local demo)",
    }),
    variable({
      name: "LAMBDA_SVID_WRITER_ROLE",
      kind: "string",
      default: "lambda-svid-writer",
      pattern: { test: /^[\w+=,.@-]{1,64}$/, expected: "an IAM role name" },
      description:
        "the role name the workers and direct runs assume in every tenant account (the planner never does)",
    }),
    variable({
      name: "LAMBDA_SVID_EXTERNAL_ID",
      kind: "string",
      expected: "the ExternalId the tenant writer roles require",
      whenUnset: "required by the workers and direct runs",
      pattern: {
        test: /^[\w+=,.@:/-]{2,1224}$/,
        expected: "2 to 1224 characters of [\\w+=,.@:/-]",
      },
      secret: true,
      description: "the ExternalId the tenant writer roles require; never echoed in messages",
    }),
    SVID_SECRET_NAME_SPEC,
    variable({
      name: "LAMBDA_SVID_SECRET_FORMAT",
      kind: "oneOf",
      allowed: ["string", "binary"],
      default: "string",
      description:
        "where the SVID document is written: `SecretString`, or `SecretBinary` as SPIRE's SVIDStore writes it",
    }),
    variable({
      name: "LAMBDA_SVID_KMS_KEY_ID",
      kind: "string",
      expected: "a KMS key ID, ARN or alias",
      whenUnset: "Secrets Manager's default key",
      description: "the KMS key the SVID secret is created with in each tenant account",
    }),
    variable({
      name: "LAMBDA_SVID_ID_TEMPLATE",
      kind: "string",
      default: IdTemplate.DEFAULT,
      expected: `a template such as ${IdTemplate.DEFAULT}`,
      description:
        "the SPIFFE ID of an identity; placeholders `{trustDomain}`, `{environment}`, `{service}`, `{accountId}`, separated by `/`",
    }),
    variable({
      name: "LAMBDA_SVID_TAG_SERVICE",
      kind: "string",
      default: "lambda-svid:service",
      description: "the Organizations account tag holding the service name",
    }),
    variable({
      name: "LAMBDA_SVID_TAG_ENVIRONMENT",
      kind: "string",
      default: "lambda-svid:environment",
      description: "the Organizations account tag holding the environment",
    }),
    variable({
      name: "LAMBDA_SVID_TAG_ENABLED",
      kind: "string",
      default: "lambda-svid:enabled",
      description:
        "the Organizations account tag that must be `true` for the account to get an identity",
    }),
    variable({
      name: "LAMBDA_SVID_TAG_SPANS_ACCOUNTS",
      kind: "string",
      default: "lambda-svid:spans-accounts",
      description:
        "the account tag that, `true` on every account claiming it, lets one SPIFFE ID span accounts",
    }),
    variable({
      name: "LAMBDA_SVID_VALIDITY",
      kind: "duration",
      default: DAY,
      min: 60_000,
      max: 7 * DAY,
      expected: "a duration from 1m to 7d, such as 24h",
      description: "the validity of each issued X509-SVID",
    }),
    variable({
      name: "LAMBDA_SVID_RENEW_BEFORE",
      kind: "duration",
      default: { derived: "a third of `LAMBDA_SVID_VALIDITY` (8h)" },
      min: 0,
      max: { derived: "less than `LAMBDA_SVID_VALIDITY`" },
      expected: "a duration shorter than LAMBDA_SVID_VALIDITY, such as 8h",
      description: "an SVID with less than this left is renewed",
    }),
    variable({
      name: "LAMBDA_SVID_KEY_ALGORITHM",
      kind: "oneOf",
      allowed: ["EC_P256", "RSA_2048"],
      default: "EC_P256",
      description: "the key pair minted for each SVID",
    }),
    variable({
      name: "LAMBDA_SVID_CA_ISSUE_RATE",
      kind: "number",
      default: 20,
      min: 0.1,
      max: 25,
      description:
        "IssueCertificate calls per second, shared by all workers (the Private CA quota is 25/s per account and Region)",
    }),
    variable({
      name: "LAMBDA_SVID_CONCURRENCY",
      kind: "integer",
      default: { derived: "3 × `LAMBDA_SVID_CA_ISSUE_RATE` rounded up, at most 256 (60)" },
      min: 1,
      max: 256,
      description: "identities in flight per worker (or per direct run)",
    }),
    variable({
      name: "LAMBDA_SVID_CA_GET_RATE",
      kind: "number",
      default: 60,
      min: 0.1,
      max: 75,
      description:
        "GetCertificate calls per second; each worker takes 1/`LAMBDA_SVID_WORKERS` of it",
    }),
    variable({
      name: "LAMBDA_SVID_ORGANIZATIONS_RATE",
      kind: "number",
      default: 8,
      min: 0.1,
      max: 100,
      description: "Organizations calls per second while reading account tags",
    }),
    variable({
      name: "LAMBDA_SVID_DEADLINE_MARGIN",
      kind: "duration",
      default: 20_000,
      min: 0,
      max: 15 * 60_000,
      expected: "a duration such as 20s",
      description:
        "every call and wait stops this long before the invocation's deadline, so the report and metrics are still sent",
    }),
    variable({
      name: "LAMBDA_SVID_CA_FIRST_POLL",
      kind: "duration",
      default: 1_000,
      min: 0,
      max: 60_000,
      expected: "a duration up to 1m, such as 1s",
      description: "the first GetCertificate comes this long after IssueCertificate",
    }),
    variable({
      name: "LAMBDA_SVID_STATE_TABLE",
      kind: "string",
      expected: "a DynamoDB table name",
      whenUnset: "the issuer runs direct (one process, no queue)",
      description:
        "the DynamoDB state table: registry snapshot, plans, outcomes and the shared CA rate (set by `serverless.yml`)",
    }),
    variable({
      name: "LAMBDA_SVID_WORK_QUEUE_URL",
      kind: "string",
      expected: "an SQS queue URL",
      whenUnset: "the issuer runs direct",
      description: "the SQS work queue the planner sends due identities to",
    }),
    variable({
      name: "LAMBDA_SVID_DEAD_LETTER_QUEUE_URL",
      kind: "string",
      expected: "an SQS queue URL",
      whenUnset: "required by the workers",
      description: "where a worker sends work that failed for good, with its `reason` and `stage`",
    }),
    variable({
      name: "LAMBDA_SVID_MAX_RECEIVES",
      kind: "integer",
      default: 3,
      min: 1,
      max: 20,
      description:
        "receives before a worker dead-letters a message (the work queue's redrive `maxReceiveCount` is one more)",
    }),
    variable({
      name: "LAMBDA_SVID_WORKERS",
      kind: "integer",
      default: 2,
      min: 1,
      max: 100,
      description:
        "workers at once (the work queue event source's maximum concurrency); each polls GetCertificate at this share of its rate",
    }),
    variable({
      name: "LAMBDA_SVID_REGISTRY_REFRESH",
      kind: "duration",
      default: DAY,
      min: HOUR,
      max: 7 * DAY,
      expected: "a duration from 1h to 7d, such as 24h",
      description:
        "every account's tags are re-read at least this often, Organizations events or not",
    }),
    variable({
      name: "LAMBDA_SVID_CHECK_INTERVAL",
      kind: "duration",
      default: DAY,
      min: HOUR,
      max: 7 * DAY,
      expected: "a duration from 1h to 7d, such as 24h",
      description:
        "a secret the issuer has not written or checked for this long is checked (finds secrets deleted or changed by others)",
    }),
    variable({
      name: "LAMBDA_SVID_PENDING_TIMEOUT",
      kind: "duration",
      default: 6 * HOUR,
      min: 10 * 60_000,
      max: DAY,
      expected: "a duration from 10m to 24h, such as 6h",
      description: "queued work with no outcome after this long is queued again",
    }),
    variable({
      name: "LAMBDA_SVID_RETRY_DELAY",
      kind: "duration",
      default: 30_000,
      min: 0,
      max: 15 * 60_000,
      expected: "a duration up to 15m, such as 30s",
      description:
        "a failed message is delivered again after this, doubled per receive (at most 15 minutes)",
    }),
  ],
);

/** A reader of the issuer's variables, by {@link ISSUER_CATALOGUE}'s declarations. */
export type IssuerReader = ReturnType<typeof ISSUER_CATALOGUE.reader>;

/** What names the identities: the registry, its tag keys, and the SPIFFE ID template in its trust domain. */
export type IdentitySettings = Pick<
  IssuerConfig,
  "trustDomain" | "registry" | "tagKeys" | "idTemplate" | "organizationsRate"
>;

/**
 * Reads what resolves the registry into identities, and nothing else: the
 * planner, the workers and the operator tools name identities alike.
 *
 * @throws {ConfigError} naming the first bad variable.
 * @example
 * const { registry, idTemplate } = readIdentitySettings(ISSUER_CATALOGUE.reader(process.env));
 */
export function readIdentitySettings(r: IssuerReader): IdentitySettings {
  const trustDomain = readTrustDomain(r);

  const templateText = r.read("LAMBDA_SVID_ID_TEMPLATE");
  let idTemplate: IdTemplate;
  try {
    idTemplate = IdTemplate.parse(templateText, trustDomain);
  } catch (err) {
    if (!(err instanceof IdTemplateError || err instanceof SpiffeIdError)) throw err;
    throw r.refuse(
      "LAMBDA_SVID_ID_TEMPLATE",
      templateText,
      `a template such as ${IdTemplate.DEFAULT} (${err.message})`,
    );
  }

  const registryText = r.read("LAMBDA_SVID_REGISTRY");
  const registry = parseRegistry(registryText);
  if (registry === undefined) throw r.refuse("LAMBDA_SVID_REGISTRY", registryText);
  return {
    trustDomain,
    registry,
    tagKeys: {
      service: r.read("LAMBDA_SVID_TAG_SERVICE"),
      environment: r.read("LAMBDA_SVID_TAG_ENVIRONMENT"),
      enabled: r.read("LAMBDA_SVID_TAG_ENABLED"),
      spansAccounts: r.read("LAMBDA_SVID_TAG_SPANS_ACCOUNTS"),
    },
    idTemplate,
    organizationsRate: r.read("LAMBDA_SVID_ORGANIZATIONS_RATE"),
  };
}

/**
 * Reads `LAMBDA_SVID_TRUST_DOMAIN` as a trust domain; with `ifSet`, an unset
 * one is `undefined` instead of refused (the command line's `verify` checks a
 * trust domain only when one is given).
 *
 * @throws {ConfigError} naming `LAMBDA_SVID_TRUST_DOMAIN` when it is missing (without `ifSet`) or not a trust domain name.
 * @example
 * const td = readTrustDomain(ISSUER_CATALOGUE.reader(process.env)); // TrustDomain
 */
export function readTrustDomain(r: IssuerReader): TrustDomain;
export function readTrustDomain(r: IssuerReader, options: { ifSet: true }): TrustDomain | undefined;
export function readTrustDomain(
  r: IssuerReader,
  options?: { ifSet: true },
): TrustDomain | undefined {
  const text = options?.ifSet
    ? r.readIfSet("LAMBDA_SVID_TRUST_DOMAIN")
    : r.read("LAMBDA_SVID_TRUST_DOMAIN");
  if (text === undefined) return undefined;
  try {
    return parseTrustDomain(text);
  } catch (err) {
    if (!(err instanceof SpiffeIdError)) throw err;
    throw r.refuse("LAMBDA_SVID_TRUST_DOMAIN", text, `a trust domain name (${err.reason})`);
  }
}

/**
 * Reads the SVID's validity and the renewal window inside it (a third of the
 * validity unless set).
 *
 * @throws {ConfigError} naming the first bad variable.
 * @example
 * const { validityMs, renewBeforeMs } = readLifetime(ISSUER_CATALOGUE.reader(process.env));
 */
export function readLifetime(r: IssuerReader): Pick<IssuerConfig, "validityMs" | "renewBeforeMs"> {
  const validityMs = r.read("LAMBDA_SVID_VALIDITY");
  return {
    validityMs,
    renewBeforeMs: r.read("LAMBDA_SVID_RENEW_BEFORE", {
      fallback: Math.floor(validityMs / 3),
      max: validityMs - 1,
    }),
  };
}

/** How tenant accounts are opened and which secret is the SVID's. */
export interface TenantSettings {
  writerRole: string;
  externalId: string;
  secretName: string;
}

/**
 * Reads how tenant accounts are opened and which secret is the SVID's: the
 * writer role, its ExternalId, the secret name. With `ifSet`, an unset
 * ExternalId is `undefined` instead of refused (the planner opens no tenant
 * account; what does requires it with {@link requireSetting}).
 *
 * @throws {ConfigError} naming the first bad variable (never echoing the ExternalId), or the unset ExternalId without `ifSet`.
 * @example
 * const access = readTenantSettings(ISSUER_CATALOGUE.reader(process.env));
 */
export function readTenantSettings(r: IssuerReader): TenantSettings;
export function readTenantSettings(
  r: IssuerReader,
  options: { ifSet: true },
): Omit<TenantSettings, "externalId"> & { externalId: string | undefined };
export function readTenantSettings(
  r: IssuerReader,
  options?: { ifSet: true },
): Omit<TenantSettings, "externalId"> & { externalId: string | undefined } {
  const externalId = r.read("LAMBDA_SVID_EXTERNAL_ID");
  if (externalId === undefined && !options?.ifSet) throw unset("LAMBDA_SVID_EXTERNAL_ID");
  return {
    writerRole: r.read("LAMBDA_SVID_WRITER_ROLE"),
    externalId,
    secretName: r.read("LAMBDA_SVID_SECRET_NAME"),
  };
}

/** The configuration fields the planner runs without, and the variable each comes from. */
const ROLE_SETTINGS = {
  ca: "LAMBDA_SVID_CA",
  externalId: "LAMBDA_SVID_EXTERNAL_ID",
} as const;

/** Who needs a setting the planner runs without, as a refusal names them. */
export const SettingUser = {
  WORKER: "the worker",
  DIRECT_RUN: "a direct run",
} as const;
export type SettingUser = (typeof SettingUser)[keyof typeof SettingUser];

/**
 * A setting the planner runs without (the CA, the ExternalId), required by
 * the part about to use it: loaded as optional so the planner is deployed
 * without them, refused when the worker or a direct run is built without
 * them, before any work.
 *
 * @throws {ConfigError} naming the variable and `user` when the setting is unset:
 *   `config: LAMBDA_SVID_CA is ""; expected acm-pca:<certificate-authority-arn> or local:<directory> (required by the worker)`.
 * @example
 * const ca = requireSetting(config, "ca", SettingUser.WORKER); // CaSource
 */
export function requireSetting<K extends keyof typeof ROLE_SETTINGS>(
  config: Pick<IssuerConfig, K>,
  field: K,
  user: SettingUser,
): NonNullable<IssuerConfig[K]> {
  const value = config[field];
  if (value === undefined || value === null) throw unset(ROLE_SETTINGS[field], user);
  return value as NonNullable<IssuerConfig[K]>;
}

/** The refusal of an unset variable, by its declared expectation; the empty value shows nothing secret. */
function unset(
  name: (typeof ROLE_SETTINGS)[keyof typeof ROLE_SETTINGS],
  user?: SettingUser,
): ConfigError {
  // What the value is, not its character set: the set is what a malformed value's refusal names.
  const spec: VariableSpec = ISSUER_CATALOGUE.spec(name);
  const expected = spec.kind === "string" && spec.expected ? spec.expected : expectedText(spec);
  return new ConfigError(
    name,
    user === undefined ? expected : `${expected} (required by ${user})`,
    "",
  );
}

/**
 * Reads the identities in flight at once: enough to keep the CA's issue rate
 * busy while each waits on it, unless set.
 *
 * @throws {ConfigError} naming the first bad variable.
 * @example
 * const { concurrency } = readConcurrency(ISSUER_CATALOGUE.reader(process.env));
 */
export function readConcurrency(
  r: IssuerReader,
): Pick<IssuerConfig, "concurrency" | "caIssueRate"> {
  const caIssueRate = r.read("LAMBDA_SVID_CA_ISSUE_RATE");
  return {
    caIssueRate,
    concurrency: r.read("LAMBDA_SVID_CONCURRENCY", {
      fallback: Math.min(256, Math.ceil(caIssueRate * IN_FLIGHT_SECONDS)),
    }),
  };
}

/**
 * Reads and validates the issuer's configuration once, at start. The handler
 * and `npm start` both call this, so they read the same variables. The CA and
 * the ExternalId may be unset (the planner is deployed without them); the
 * worker and a direct run require them when built ({@link requireSetting}).
 *
 * @throws {ConfigError} naming the first bad variable.
 * @example
 * const config = loadIssuerConfig(process.env);
 */
export function loadIssuerConfig(env: Env = process.env): IssuerConfig {
  const r = ISSUER_CATALOGUE.reader(env);
  const identities = readIdentitySettings(r);
  const lifetime = readLifetime(r);
  const tenants = readTenantSettings(r, { ifSet: true });
  const concurrency = readConcurrency(r);
  // Checked when set, even where unused, so a bad value stops every part at start.
  const caText = r.read("LAMBDA_SVID_CA");
  const ca = caText === undefined ? undefined : parseCa(caText);
  if (caText !== undefined && ca === undefined) throw r.refuse("LAMBDA_SVID_CA", caText);

  return {
    ...identities,
    ...lifetime,
    ...tenants,
    ...concurrency,
    ca,
    secretFormat: r.read("LAMBDA_SVID_SECRET_FORMAT"),
    kmsKeyId: r.read("LAMBDA_SVID_KMS_KEY_ID"),
    keyAlgorithm: r.read("LAMBDA_SVID_KEY_ALGORITHM"),
    caGetRate: r.read("LAMBDA_SVID_CA_GET_RATE"),
    deadlineMarginMs: r.read("LAMBDA_SVID_DEADLINE_MARGIN"),
    queue: {
      stateTable: r.read("LAMBDA_SVID_STATE_TABLE"),
      workQueueUrl: r.read("LAMBDA_SVID_WORK_QUEUE_URL"),
      deadLetterQueueUrl: r.read("LAMBDA_SVID_DEAD_LETTER_QUEUE_URL"),
      maxReceives: r.read("LAMBDA_SVID_MAX_RECEIVES"),
      workers: r.read("LAMBDA_SVID_WORKERS"),
      registryRefreshMs: r.read("LAMBDA_SVID_REGISTRY_REFRESH"),
      checkIntervalMs: r.read("LAMBDA_SVID_CHECK_INTERVAL"),
      pendingTimeoutMs: r.read("LAMBDA_SVID_PENDING_TIMEOUT"),
      retryDelayMs: r.read("LAMBDA_SVID_RETRY_DELAY"),
    },
    caFirstPollMs: r.read("LAMBDA_SVID_CA_FIRST_POLL"),
  };
}

function parseRegistry(value: string): RegistrySource | undefined {
  if (value === "organizations") return { kind: "organizations" };
  if (value.startsWith("file:") && value.length > "file:".length)
    return { kind: "file", path: value.slice(5) };
  return undefined;
}

function parseCa(value: string): CaSource | undefined {
  if (value.startsWith("acm-pca:")) {
    const arn = value.slice("acm-pca:".length);
    if (ACM_PCA_ARN.test(arn)) return { kind: "acm-pca", arn };
  } else if (value.startsWith("local:") && value.length > "local:".length) {
    return { kind: "local", directory: value.slice("local:".length) };
  }
  return undefined;
}
