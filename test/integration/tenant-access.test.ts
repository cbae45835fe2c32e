/**
 * Tenant clients are built from one template client: they share its connection
 * pool and resolved settings, and each signs with its own tenant's assumed-role
 * credentials. Real STS and Secrets Manager on the emulator.
 */
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { describe, expect, it } from "vitest";
import { tenantAccess } from "../../functions/issuer/compose.ts";
import { parseSpiffeId } from "../../layers/spiffe/index.ts";
import { issuerHarness } from "./issuer-harness.ts";

describe("tenant access", () => {
  it("builds every tenant client on the template's pool and settings, each with its own account's credentials", async () => {
    const h = await issuerHarness({ accounts: 2 });
    const requestHandler = new NodeHttpHandler({ connectionTimeout: 5_000 });
    const template = new SecretsManagerClient({ requestHandler, maxAttempts: 2 });
    const { writerRole, externalId } = h.config;
    if (externalId === undefined) throw new Error("the harness sets LAMBDA_SVID_EXTERNAL_ID");
    const access = tenantAccess({ writerRole, externalId }, { secretsManager: template });
    const [a, b] = h.tenantAccounts.map((account, i) => ({
      service: `svc${i}`,
      environment: "prod",
      accountId: account.id,
      spiffeId: parseSpiffeId(`spiffe://example.org/prod/svc${i}`),
      origin: "test",
    }));
    if (!a || !b) throw new Error("the harness made fewer than two tenant accounts");

    const smA = await access.secretsManager(a);
    const smB = await access.secretsManager(b);
    expect(smA).not.toBe(smB);
    for (const sm of [smA, smB]) {
      expect(sm.config.requestHandler).toBe(requestHandler);
      expect(await sm.config.maxAttempts()).toBe(2);
      // The endpoint the template resolved (the emulator's, from AWS_ENDPOINT_URL), given to each as fixed.
      expect(sm.config.isCustomEndpoint).toBe(true);
      const endpoint = await sm.config.endpoint?.();
      expect(`${endpoint?.protocol}//${endpoint?.hostname}:${endpoint?.port}`).toBe(
        process.env.AWS_ENDPOINT_URL,
      );
    }

    const name = `tenant-access-${Date.now()}`;
    await smA.send(new CreateSecretCommand({ Name: name, SecretString: "{}" }));
    // Written with A's credentials: there in A's account, absent from B's.
    const inA = await h
      .tenantClient(a.accountId)
      .send(new DescribeSecretCommand({ SecretId: name }));
    expect(inA.ARN).toContain(`:${a.accountId}:secret:${name}`);
    await expect(
      h.tenantClient(b.accountId).send(new DescribeSecretCommand({ SecretId: name })),
    ).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(smB.send(new DescribeSecretCommand({ SecretId: name }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });
});
