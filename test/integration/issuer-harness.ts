/**
 * Builds a real issuer against the emulator for a test: a fresh Organization
 * with tagged accounts, the local CA in a temp directory, tenant Secrets
 * Manager clients that count their calls (and may carry injected faults), and
 * a Powertools Logger whose output the test can scan.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { STSClient } from "@aws-sdk/client-sts";
import { createIssuer, type Issuer, type IssuerClients } from "../../functions/issuer/compose.ts";
import { type IssuerConfig, loadIssuerConfig } from "../../functions/issuer/config.ts";
import type { IssuerRequest, RunReport } from "../../functions/issuer/run.ts";
import { clientConfigForAccount } from "../emulator/accounts.ts";
import { createOrganization } from "../emulator/organizations.ts";
import { captureOutput } from "../support/capture.ts";

export interface HarnessOptions {
  accounts?: number;
  env?: Record<string, string>;
  /** Called on every tenant Secrets Manager client the issuer builds. */
  onTenantClient?: (client: SecretsManagerClient) => void;
  clients?: Partial<IssuerClients>;
  now?: () => Date;
  extraAccounts?: Array<{
    name: string;
    tags?: Record<string, string>;
    status?: "ACTIVE" | "SUSPENDED";
  }>;
  /** Called on the issuer's Organizations client (to count calls or inject faults). */
  withOrganizations?: (client: OrganizationsClient) => void;
  /** Runs after the Organization exists and before the configuration is read (e.g. to write a registry file). */
  beforeIssuer?: (org: Awaited<ReturnType<typeof createOrganization>>) => Promise<void>;
}

export async function issuerHarness(options: HarnessOptions = {}) {
  const count = options.accounts ?? 3;
  const org = await createOrganization({
    accounts: [
      ...Array.from({ length: count }, (_, i) => ({
        name: `svc${i}`,
        tags: {
          "lambda-svid:enabled": "true",
          "lambda-svid:service": `svc${i}`,
          "lambda-svid:environment": "prod",
        },
      })),
      ...(options.extraAccounts ?? []),
    ],
  });
  await options.beforeIssuer?.(org);
  const caDir = await mkdtemp(join(tmpdir(), "lambda-svid-ca-"));
  const configWith = (env: Record<string, string> | undefined): IssuerConfig =>
    loadIssuerConfig({
      LAMBDA_SVID_TRUST_DOMAIN: "example.org",
      LAMBDA_SVID_CA: `local:${caDir}`,
      LAMBDA_SVID_EXTERNAL_ID: "test-external-id",
      AWS_REGION: "us-east-1",
      ...env,
    });
  const config = configWith(options.env);
  const organizations = new OrganizationsClient({ credentials: org.credentials });
  options.withOrganizations?.(organizations);
  const clients: IssuerClients = {
    organizations,
    sts: new STSClient({}),
    secretsManagerFactory: (credentials, shared) => {
      const client = new SecretsManagerClient({ ...shared, credentials });
      options.onTenantClient?.(client);
      return client;
    },
    ...options.clients,
  };
  const tenantAccounts = org.accounts.slice(0, count);
  const runner =
    (issuer: Issuer) =>
    async (
      request: IssuerRequest = { force: false },
      remainingMs: () => number = () => Number.POSITIVE_INFINITY,
    ) => {
      const logger = new Logger({ serviceName: "lambda-svid-issuer-test", logLevel: "DEBUG" });
      const { result, output } = await captureOutput(() =>
        issuer.run(request, remainingMs, logger),
      );
      return { report: result as RunReport, output };
    };

  return {
    org,
    config,
    caDir,
    tenantAccounts,
    /** The clients the issuer is built with (Organizations, STS, tenant Secrets Manager factory). */
    clients,
    /** Runs one cycle, returning the report and everything the run logged. */
    run: runner(createIssuer(config, clients, options.now)),
    /** Another issuer over the same Organization, CA and clients, with `env` on top of the harness's settings. */
    reconfigured(env: Record<string, string>) {
      return {
        run: runner(createIssuer(configWith({ ...options.env, ...env }), clients, options.now)),
      };
    },
    /** Reads a tenant's secret with that tenant's own credentials, as the layer would. */
    async readSecret(accountId: string, name = config.secretName) {
      const sm = new SecretsManagerClient(clientConfigForAccount(accountId));
      return sm.send(new GetSecretValueCommand({ SecretId: name }));
    },
    tenantClient(accountId: string) {
      return new SecretsManagerClient(clientConfigForAccount(accountId));
    },
  };
}
