/**
 * The issuer's typed failures that only an AWS answer can cause, each from the
 * emulator: a real call, its output changed by SDK middleware where the
 * emulator cannot be made to answer that way.
 */
import { ACMPCAClient } from "@aws-sdk/client-acm-pca";
import { OrganizationsClient } from "@aws-sdk/client-organizations";
import { STSClient } from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";
import {
  CaReason,
  RegistryError,
  RegistryReason,
  TenantAccessError,
  TenantAccessReason,
} from "../../functions/issuer/errors.ts";
import { readOrganization } from "../../functions/issuer/registry/organizations.ts";
import { TenantAccess } from "../../functions/issuer/tenant.ts";
import { parseSpiffeId } from "../../layers/spiffe/index.ts";
import { clientConfigForAccount, randomAccountId } from "../emulator/accounts.ts";
import { injectFaults } from "../emulator/faults.ts";
import { createPrivateCa } from "../emulator/pca.ts";
import { issuerHarness } from "./issuer-harness.ts";

/** Rewrites the output of `command` as the emulator returned it. */
function rewriteOutput(
  client: ACMPCAClient | STSClient,
  command: string,
  rewrite: (output: Record<string, unknown>) => void,
): void {
  (client.middlewareStack as ACMPCAClient["middlewareStack"]).add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === `${command}Command`) {
        rewrite(result.output as unknown as Record<string, unknown>);
      }
      return result;
    },
    { step: "initialize" },
  );
}

describe("issuer errors from AWS answers", () => {
  it("a CA whose key algorithm has no signing algorithm fails the identity at sign, naming the algorithm and the CA", async () => {
    const ca = await createPrivateCa();
    const pca = new ACMPCAClient(ca.clientConfig);
    rewriteOutput(pca, "DescribeCertificateAuthority", (out) => {
      const authority = out.CertificateAuthority as {
        CertificateAuthorityConfiguration: { KeyAlgorithm: string };
      };
      authority.CertificateAuthorityConfiguration.KeyAlgorithm = "SM2";
    });
    const h = await issuerHarness({
      accounts: 1,
      env: { LAMBDA_SVID_CA: `acm-pca:${ca.arn}` },
      clients: { pca },
    });
    const { report } = await h.run();
    expect(report.identities[0]).toMatchObject({ outcome: "failed", stage: "sign" });
    expect(report.identities[0]?.reason).toBe(
      `CaError: ${CaReason.KEY_ALGORITHM}: "SM2" of ${ca.arn}`,
    );
  });

  it("a GetCertificate answer without a certificate fails the identity at sign, naming the certificate", async () => {
    const ca = await createPrivateCa();
    const pca = new ACMPCAClient(ca.clientConfig);
    const issued: string[] = [];
    rewriteOutput(pca, "IssueCertificate", (out) => {
      issued.push(out.CertificateArn as string);
    });
    rewriteOutput(pca, "GetCertificate", (out) => {
      delete out.Certificate;
    });
    const h = await issuerHarness({
      accounts: 1,
      env: { LAMBDA_SVID_CA: `acm-pca:${ca.arn}` },
      clients: { pca },
    });
    const { report } = await h.run();
    expect(report.identities[0]).toMatchObject({ outcome: "failed", stage: "sign" });
    expect(issued).toHaveLength(1);
    expect(report.identities[0]?.reason).toBe(`CaError: ${CaReason.NO_CERTIFICATE}: ${issued[0]}`);
  });

  it("an Organization the issuer may not read is a registry error, not an empty registry", async () => {
    const client = new OrganizationsClient(clientConfigForAccount(randomAccountId()));
    injectFaults(client, { commands: ["ListAccounts"], kind: "access-denied" });
    const err = await readOrganization(client, { ratePerSecond: 100 }).then(
      () => expect.unreachable("read"),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).reason).toBe(RegistryReason.ORGANIZATION_UNAVAILABLE);
    expect((err as RegistryError).message).toBe(
      "issuer: registry: the Organization is not available to the issuer (not in use, or access denied)",
    );
  });

  it("AssumeRole without credentials is refused, naming the role and the account", async () => {
    const sts = new STSClient({});
    rewriteOutput(sts, "AssumeRole", (out) => {
      delete out.Credentials;
    });
    const accountId = randomAccountId();
    const access = new TenantAccess({ sts, roleName: "lambda-svid-writer", externalId: "ext-id" });
    const identity = {
      service: "payments",
      environment: "prod",
      accountId,
      spiffeId: parseSpiffeId("spiffe://example.org/prod/payments"),
      origin: "test",
    };
    const err = await access.secretsManager(identity).then(
      () => expect.unreachable("opened"),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TenantAccessError);
    expect((err as TenantAccessError).reason).toBe(TenantAccessReason.NO_CREDENTIALS);
    expect((err as TenantAccessError).message).toBe(
      `issuer: sts: AssumeRole returned no credentials: role lambda-svid-writer in account ${accountId}`,
    );
  });
});
