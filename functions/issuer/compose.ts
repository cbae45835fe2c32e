import type { Logger } from "@aws-lambda-powertools/logger";
import type { ACMPCAClient } from "@aws-sdk/client-acm-pca";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import { STSClient } from "@aws-sdk/client-sts";
import type { SQSBatchItemFailure, SQSRecord } from "aws-lambda";
import { type Limiter, RateLimiter } from "../../lib/limits/index.ts";
import { AcmPcaCertificateAuthority, acmPcaClient } from "./ca/acm-pca.ts";
import { LocalCertificateAuthority } from "./ca/local.ts";
import type { CertificateAuthority } from "./ca/port.ts";
import {
  type CaSource,
  type IssuerConfig,
  requireSetting,
  SettingUser,
  type TenantSettings,
} from "./config.ts";
import { QueueError, QueueReason } from "./errors.ts";
import { type PlanReport, runPlanner } from "./planner.ts";
import { SharedRateLimiter } from "./rate.ts";
import { loadRegistry, type RegistryOptions } from "./registry/index.ts";
import {
  type IssuerDeps,
  type IssuerRequest,
  type IssueSettings,
  type RunReport,
  runIssuer,
} from "./run.ts";
import { IssuerStore } from "./store.ts";
import { type SecretsManagerFactory, TenantAccess } from "./tenant.ts";
import { runWorker, type WorkReport } from "./worker.ts";

/** The AWS clients the issuer uses; each comes from the SDK's standard configuration chain unless given. */
export interface IssuerClients {
  organizations?: OrganizationsClient;
  sts?: STSClient;
  pca?: ACMPCAClient;
  dynamodb?: DynamoDBClient;
  sqs?: SQSClient;
  /** The tenant clients' template: they share its settings and connection pool (see {@link TenantAccess}). */
  secretsManager?: SecretsManagerClient;
  secretsManagerFactory?: SecretsManagerFactory;
  /**
   * Opens the signing backend with the given CA rate limiters; defaults to the
   * adapter `LAMBDA_SVID_CA` names.
   */
  openCa?: (rates: { issueRate: Limiter; getRate: Limiter }) => Promise<CertificateAuthority>;
}

/** How long a worker container keeps its CA adapter (its signing algorithm and bundle) before reading them again. */
export const CA_REUSE_MS = 3_600_000;

export interface Issuer {
  run(
    request: IssuerRequest,
    remainingMs: () => number,
    logger: Logger,
    progress?: IssuerDeps["progress"],
  ): Promise<RunReport>;
}

/**
 * Wires the issuer from its configuration. Clients are built once and reused
 * by every run (warm Lambda invocations); the CA adapter is built per run so
 * its cached bundle and signing algorithm last exactly one run.
 *
 * @throws {ConfigError} naming `LAMBDA_SVID_EXTERNAL_ID` or `LAMBDA_SVID_CA` (unless `clients.openCa` is given) when unset, as required by a direct run.
 * @example
 * const report = await createIssuer(loadIssuerConfig(process.env)).run({ force: false }, () => Infinity, logger);
 */
export function createIssuer(
  config: IssuerConfig,
  clients: IssuerClients = {},
  now: () => Date = () => new Date(),
): Issuer {
  const organizations = organizationsClient(clients);
  const { tenants, openCa } = signing(config, clients, SettingUser.DIRECT_RUN);
  const rates = {
    issueRate: new RateLimiter(config.caIssueRate),
    getRate: new RateLimiter(config.caGetRate),
  };
  const settings = issueSettings(config, config.concurrency);
  const registry: RegistryOptions = {
    source: config.registry,
    tagKeys: config.tagKeys,
    idTemplate: config.idTemplate,
    organizationsRate: config.organizationsRate,
  };

  return {
    async run(request, remainingMs, logger, progress) {
      return runIssuer(
        {
          settings,
          ca: await openCa(rates),
          tenants,
          registry: (signal) => loadRegistry(registry, organizations, signal),
          now,
          remainingMs,
          logger,
          ...(progress ? { progress } : {}),
        },
        request,
      );
    },
  };
}

function partitionOf(region: string | undefined): string {
  if (region?.startsWith("cn-")) return "aws-cn";
  if (region?.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

/** The issue pipeline's settings from the configuration, with `concurrency` identities in flight. */
function issueSettings(config: IssuerConfig, concurrency: number): IssueSettings {
  return {
    trustDomain: config.trustDomain.name,
    secretName: config.secretName,
    secretFormat: config.secretFormat,
    kmsKeyId: config.kmsKeyId,
    validityMs: config.validityMs,
    renewBeforeMs: config.renewBeforeMs,
    keyAlgorithm: config.keyAlgorithm,
    concurrency,
    deadlineMarginMs: config.deadlineMarginMs,
  };
}

/**
 * What signs and writes, with the settings the planner runs without required
 * of `user` now, before any work: tenant access needs the ExternalId, the CA
 * opener the CA (unless the caller opens the CA itself).
 */
function signing(config: IssuerConfig, clients: IssuerClients, user: SettingUser) {
  const tenants = tenantAccess(
    { writerRole: config.writerRole, externalId: requireSetting(config, "externalId", user) },
    clients,
  );
  const openCa = clients.openCa ?? caOpener(config, requireSetting(config, "ca", user), clients);
  return { tenants, openCa };
}

/** Opens the CA adapter `LAMBDA_SVID_CA` names, with the given rate limiters. */
function caOpener(
  config: IssuerConfig,
  source: CaSource,
  clients: IssuerClients,
): (rates: { issueRate: Limiter; getRate: Limiter }) => Promise<CertificateAuthority> {
  let pca = clients.pca;
  return async (rates) => {
    if (source.kind === "local")
      return LocalCertificateAuthority.open(source.directory, config.trustDomain);
    pca ??= await acmPcaClient({ maxAttempts: 6 });
    return new AcmPcaCertificateAuthority({
      client: pca,
      arn: source.arn,
      trustDomain: config.trustDomain,
      firstPollMs: config.caFirstPollMs,
      ...rates,
    });
  };
}

/**
 * The issuer's Organizations client. Organizations throttles early; adaptive
 * mode adds client-side backoff on top of retries.
 *
 * @example
 * const organizations = organizationsClient({});
 */
export function organizationsClient(clients: IssuerClients): OrganizationsClient {
  return (
    clients.organizations ?? new OrganizationsClient({ retryMode: "adaptive", maxAttempts: 8 })
  );
}

/**
 * Tenant accounts opened through the writer role, each client on one shared
 * connection pool: the issuer's, and the operator tools' way to read a
 * tenant's SVID secret metadata as the issuer does.
 *
 * @example
 * const sm = await tenantAccess(config, {}).secretsManager(identity);
 */
export function tenantAccess(
  config: Pick<TenantSettings, "writerRole" | "externalId">,
  clients: IssuerClients,
): TenantAccess {
  return new TenantAccess({
    sts: clients.sts ?? new STSClient({ maxAttempts: 5 }),
    roleName: config.writerRole,
    externalId: config.externalId,
    partition: partitionOf(process.env.AWS_REGION),
    ...(clients.secretsManager ? { template: clients.secretsManager } : {}),
    ...(clients.secretsManagerFactory
      ? { secretsManagerFactory: clients.secretsManagerFactory }
      : {}),
  });
}

function required(value: string | undefined, variable: string): string {
  if (value === undefined)
    throw new QueueError(QueueReason.NOT_CONFIGURED, `${variable} is not set`);
  return value;
}

export interface Planner {
  run(request: IssuerRequest, remainingMs: () => number, logger: Logger): Promise<PlanReport>;
}

/**
 * Wires the planner: the state table, the work queue, Organizations. Never a
 * tenant account or the CA.
 *
 * @throws {QueueError} `NOT_CONFIGURED` when the table or the work queue is not configured.
 * @example
 * const planner = createPlanner(loadIssuerConfig(process.env));
 * const report = await planner.run({ force: false }, () => context.getRemainingTimeInMillis(), logger);
 */
export function createPlanner(
  config: IssuerConfig,
  clients: IssuerClients = {},
  now: () => Date = () => new Date(),
): Planner {
  const table = required(config.queue.stateTable, "LAMBDA_SVID_STATE_TABLE");
  const workQueueUrl = required(config.queue.workQueueUrl, "LAMBDA_SVID_WORK_QUEUE_URL");
  const organizations = organizationsClient(clients);
  const store = new IssuerStore(clients.dynamodb ?? new DynamoDBClient({}), table);
  const sqs = clients.sqs ?? new SQSClient({});
  return {
    run: (request, remainingMs, logger) =>
      runPlanner(
        {
          settings: {
            registry: config.registry,
            tagKeys: config.tagKeys,
            idTemplate: config.idTemplate,
            organizationsRate: config.organizationsRate,
            renewBeforeMs: config.renewBeforeMs,
            registryRefreshMs: config.queue.registryRefreshMs,
            checkIntervalMs: config.queue.checkIntervalMs,
            pendingTimeoutMs: config.queue.pendingTimeoutMs,
            deadlineMarginMs: config.deadlineMarginMs,
          },
          store,
          organizations,
          sqs,
          workQueueUrl,
          now,
          remainingMs,
          logger,
        },
        request,
      ),
  };
}

export interface Worker {
  handle(
    records: readonly SQSRecord[],
    remainingMs: () => number,
    logger: Logger,
  ): Promise<{ batchItemFailures: SQSBatchItemFailure[]; report: WorkReport }>;
}

/**
 * Wires a worker. IssueCertificate takes its turn from one rate shared by all
 * workers through the state table ({@link SharedRateLimiter}), so workers
 * running at once never exceed it together and a worker that the event source
 * hands the whole backlog gets all of it; it therefore keeps the full
 * `LAMBDA_SVID_CONCURRENCY` identities in flight. GetCertificate (about one
 * poll per certificate, far below its quota) keeps a local share of
 * `1 / LAMBDA_SVID_WORKERS`. The CA adapter is reused by the container's
 * invocations for {@link CA_REUSE_MS}.
 *
 * @throws {QueueError} `NOT_CONFIGURED` when the table or the dead-letter queue is not configured.
 * @throws {ConfigError} naming `LAMBDA_SVID_EXTERNAL_ID` or `LAMBDA_SVID_CA` (unless `clients.openCa` is given) when unset, as required by the worker.
 * @example
 * const worker = createWorker(loadIssuerConfig(process.env));
 * return (await worker.handle(event.Records, () => context.getRemainingTimeInMillis(), logger)).batchItemFailures;
 */
export function createWorker(
  config: IssuerConfig,
  clients: IssuerClients = {},
  now: () => Date = () => new Date(),
): Worker {
  // First: the planner's environment lacks these, and their refusal names the worker.
  const { tenants, openCa } = signing(config, clients, SettingUser.WORKER);
  const table = required(config.queue.stateTable, "LAMBDA_SVID_STATE_TABLE");
  const deadLetterQueueUrl = required(
    config.queue.deadLetterQueueUrl,
    "LAMBDA_SVID_DEAD_LETTER_QUEUE_URL",
  );
  const dynamodb = clients.dynamodb ?? new DynamoDBClient({});
  const rates = {
    issueRate: new SharedRateLimiter({
      client: dynamodb,
      table,
      name: "issue-certificate",
      ratePerSecond: config.caIssueRate,
    }),
    getRate: new RateLimiter(config.caGetRate / config.queue.workers),
  };
  const store = new IssuerStore(dynamodb, table);
  const sqs = clients.sqs ?? new SQSClient({});
  let ca: { adapter: Promise<CertificateAuthority>; openedAt: number } | undefined;
  return {
    async handle(records, remainingMs, logger) {
      const at = now().getTime();
      if (ca === undefined || at - ca.openedAt >= CA_REUSE_MS) {
        ca = { adapter: openCa(rates), openedAt: at };
        ca.adapter.catch(() => {
          ca = undefined;
        });
      }
      return runWorker(
        {
          settings: issueSettings(config, config.concurrency),
          ca: await ca.adapter,
          tenants,
          store,
          sqs,
          deadLetterQueueUrl,
          maxReceives: config.queue.maxReceives,
          workQueueUrl: config.queue.workQueueUrl,
          retryDelayMs: config.queue.retryDelayMs,
          now,
          remainingMs,
          logger,
        },
        records,
      );
    },
  };
}
