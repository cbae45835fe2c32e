import type { Logger } from "@aws-lambda-powertools/logger";
import { ACMPCAClient } from "@aws-sdk/client-acm-pca";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { STSClient } from "@aws-sdk/client-sts";
import { RateLimiter } from "../../lib/limits/index.ts";
import { AcmPcaCertificateAuthority } from "./ca/acm-pca.ts";
import { LocalCertificateAuthority } from "./ca/local.ts";
import type { CertificateAuthority } from "./ca/port.ts";
import type { IssuerConfig } from "./config.ts";
import { loadRegistry, type RegistryOptions } from "./registry/index.ts";
import { type IssuerRequest, type IssueSettings, type RunReport, runIssuer } from "./run.ts";
import { type SecretsManagerFactory, TenantAccess } from "./tenant.ts";

/** The AWS clients the issuer uses; each comes from the SDK's standard configuration chain unless given. */
export interface IssuerClients {
  organizations?: OrganizationsClient;
  sts?: STSClient;
  pca?: ACMPCAClient;
  secretsManagerFactory?: SecretsManagerFactory;
  /** Opens the signing backend for one run; defaults to the adapter `LAMBDA_SVID_CA` names. */
  openCa?: () => Promise<CertificateAuthority>;
}

export interface Issuer {
  run(request: IssuerRequest, remainingMs: () => number, logger: Logger): Promise<RunReport>;
}

/**
 * Wires the issuer from its configuration. Clients are built once and reused
 * by every run (warm Lambda invocations); the CA adapter is built per run so
 * its cached bundle and signing algorithm last exactly one run.
 */
export function createIssuer(
  config: IssuerConfig,
  clients: IssuerClients = {},
  now: () => Date = () => new Date(),
): Issuer {
  // Organizations throttles early; adaptive mode adds client-side backoff on top of retries.
  const organizations =
    clients.organizations ?? new OrganizationsClient({ retryMode: "adaptive", maxAttempts: 8 });
  const sts = clients.sts ?? new STSClient({ maxAttempts: 5 });
  const tenants = new TenantAccess({
    sts,
    roleName: config.writerRole,
    externalId: config.externalId,
    partition: partitionOf(process.env.AWS_REGION),
    ...(clients.secretsManagerFactory
      ? { secretsManagerFactory: clients.secretsManagerFactory }
      : {}),
  });
  let pca = clients.pca;
  const issueRate = new RateLimiter(config.caIssueRate);
  const getRate = new RateLimiter(config.caGetRate);

  const defaultCa = async (): Promise<CertificateAuthority> => {
    if (config.ca.kind === "local")
      return LocalCertificateAuthority.open(config.ca.directory, config.trustDomain);
    pca ??= new ACMPCAClient({ maxAttempts: 6 });
    return new AcmPcaCertificateAuthority({
      client: pca,
      arn: config.ca.arn,
      trustDomain: config.trustDomain,
      issueRate,
      getRate,
    });
  };

  const settings: IssueSettings = {
    trustDomain: config.trustDomain.name,
    secretName: config.secretName,
    secretFormat: config.secretFormat,
    kmsKeyId: config.kmsKeyId,
    validityMs: config.validityMs,
    renewBeforeMs: config.renewBeforeMs,
    keyAlgorithm: config.keyAlgorithm,
    concurrency: config.concurrency,
    deadlineMarginMs: config.deadlineMarginMs,
  };
  const registry: RegistryOptions = {
    source: config.registry,
    tagKeys: config.tagKeys,
    idTemplate: config.idTemplate,
    organizationsRate: config.organizationsRate,
  };

  return {
    async run(request, remainingMs, logger) {
      return runIssuer(
        {
          settings,
          ca: await (clients.openCa ?? defaultCa)(),
          tenants,
          registry: (signal) => loadRegistry(registry, organizations, signal),
          now,
          remainingMs,
          logger,
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
