import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateSecretCommand,
} from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import type { ModelAws } from "./aws.ts";
import { TENANT, withModel } from "./harness.ts";

const TOKEN_1 = "00000000-0000-4000-8000-000000000001";
const TOKEN_2 = "00000000-0000-4000-8000-000000000002";

function tenantClient(aws: ModelAws, account = TENANT): SecretsManagerClient {
  return new SecretsManagerClient({ ...aws.clientConfig(account), maxAttempts: 1 });
}

describe("modelled Secrets Manager", () => {
  it("creates a secret with a suffixed ARN, its tags and the token as its version", async () => {
    await withModel({}, async (aws) => {
      const sm = tenantClient(aws);
      const out = await sm.send(
        new CreateSecretCommand({
          Name: "lambda-svid/svid",
          SecretString: "v1",
          ClientRequestToken: TOKEN_1,
          Tags: [{ Key: "lambda-svid:owner", Value: "lambda-svid-issuer" }],
        }),
      );
      expect(out.ARN).toMatch(
        new RegExp(
          `^arn:aws:secretsmanager:us-east-1:${TENANT}:secret:lambda-svid/svid-[A-Za-z0-9]{6}$`,
        ),
      );
      expect(out.VersionId).toBe(TOKEN_1);
      const described = await sm.send(new DescribeSecretCommand({ SecretId: "lambda-svid/svid" }));
      expect(described.Tags).toEqual([{ Key: "lambda-svid:owner", Value: "lambda-svid-issuer" }]);
      expect(described.VersionIdsToStages).toEqual({ [TOKEN_1]: ["AWSCURRENT"] });
      await expect(
        sm.send(new CreateSecretCommand({ Name: "lambda-svid/svid", SecretString: "v2" })),
      ).rejects.toBeInstanceOf(ResourceExistsException);
      // Another account has a store of its own.
      const other = tenantClient(aws, "222222222222");
      for (const SecretId of [out.ARN, "lambda-svid/svid"]) {
        await expect(other.send(new DescribeSecretCommand({ SecretId }))).rejects.toBeInstanceOf(
          ResourceNotFoundException,
        );
      }
    });
  });

  it("makes each new version current by ARN, keeps the previous one, and treats a token as idempotent", async () => {
    await withModel({}, async (aws) => {
      const sm = tenantClient(aws);
      const { ARN } = await sm.send(
        new CreateSecretCommand({ Name: "s", SecretString: "v1", ClientRequestToken: TOKEN_1 }),
      );
      const updated = await sm.send(
        new UpdateSecretCommand({
          SecretId: ARN,
          SecretString: "v2",
          ClientRequestToken: TOKEN_2,
          Description: "not after x",
        }),
      );
      expect(updated.VersionId).toBe(TOKEN_2);
      await sm.send(
        new UpdateSecretCommand({ SecretId: ARN, SecretString: "v2", ClientRequestToken: TOKEN_2 }),
      );
      await expect(
        sm.send(
          new PutSecretValueCommand({
            SecretId: ARN,
            SecretString: "v3",
            ClientRequestToken: TOKEN_2,
          }),
        ),
      ).rejects.toBeInstanceOf(ResourceExistsException);
      const described = await sm.send(new DescribeSecretCommand({ SecretId: ARN }));
      expect(described.Description).toBe("not after x");
      expect(described.VersionIdsToStages).toEqual({
        [TOKEN_1]: ["AWSPREVIOUS"],
        [TOKEN_2]: ["AWSCURRENT"],
      });
      expect((await sm.send(new GetSecretValueCommand({ SecretId: "s" }))).SecretString).toBe("v2");
      await expect(
        sm.send(new UpdateSecretCommand({ SecretId: `${ARN}x`, SecretString: "v4" })),
      ).rejects.toBeInstanceOf(ResourceNotFoundException);
    });
  });

  it("refuses writes to a secret scheduled for deletion until it is restored, and shows DeletedDate meanwhile", async () => {
    await withModel({}, async (aws) => {
      const sm = tenantClient(aws);
      const { ARN } = await sm.send(new CreateSecretCommand({ Name: "s", SecretString: "v1" }));
      const deletedAt = Date.now() + 15;
      await sm.send(new DeleteSecretCommand({ SecretId: ARN, RecoveryWindowInDays: 7 }));
      const deleted = await sm.send(new DescribeSecretCommand({ SecretId: "s" }));
      expect(deleted.DeletedDate?.getTime()).toBe(deletedAt);
      await expect(
        sm.send(new UpdateSecretCommand({ SecretId: ARN, SecretString: "v2" })),
      ).rejects.toBeInstanceOf(InvalidRequestException);
      await sm.send(new RestoreSecretCommand({ SecretId: ARN }));
      await sm.send(new PutSecretValueCommand({ SecretId: ARN, SecretString: "v2" }));
      await sm.send(
        new TagResourceCommand({
          SecretId: ARN,
          Tags: [
            { Key: "a", Value: "1" },
            { Key: "b", Value: "2" },
          ],
        }),
      );
      await sm.send(new UntagResourceCommand({ SecretId: ARN, TagKeys: ["a"] }));
      const described = await sm.send(new DescribeSecretCommand({ SecretId: "s" }));
      expect(described.DeletedDate).toBeUndefined();
      expect(described.Tags).toEqual([{ Key: "b", Value: "2" }]);
      await sm.send(new DeleteSecretCommand({ SecretId: ARN, ForceDeleteWithoutRecovery: true }));
      await expect(sm.send(new DescribeSecretCommand({ SecretId: "s" }))).rejects.toBeInstanceOf(
        ResourceNotFoundException,
      );
    });
  });
});
