import { ResourceExistsException } from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { randomAccountId } from "./accounts.ts";
import {
  createSecretInAccount,
  describeSecretInAccount,
  getSecretInAccount,
  putSecretInAccount,
} from "./secrets.ts";

describe("secrets", () => {
  it("creates a tagged string secret, puts a new version, reads and describes it", async () => {
    const account = randomAccountId();
    const name = "keywhiz/db-password";
    const created = await createSecretInAccount(account, {
      name,
      secretString: "v1",
      tags: { owner: "keywhiz", "lambda-svid:managed": "true" },
    });
    expect(created.ARN).toMatch(new RegExp(`^arn:aws:secretsmanager:us-east-1:${account}:secret:`));

    const put = await putSecretInAccount(account, name, { secretString: "v2" });
    const current = await getSecretInAccount(account, name);
    expect(current.SecretString).toBe("v2");
    expect(current.VersionId).toBe(put.VersionId);

    const described = await describeSecretInAccount(account, name);
    expect(Object.fromEntries((described.Tags ?? []).map((t) => [t.Key, t.Value]))).toEqual({
      owner: "keywhiz",
      "lambda-svid:managed": "true",
    });
    expect(Object.keys(described.VersionIdsToStages ?? {})).toHaveLength(2);
  });

  it("stores binary secrets as bytes", async () => {
    const account = randomAccountId();
    const bytes = new Uint8Array([0, 1, 2, 254, 255]);
    await createSecretInAccount(account, { name: "binary", secretBinary: bytes });
    expect((await getSecretInAccount(account, "binary")).SecretBinary).toEqual(bytes);
  });

  it("rejects a second secret of the same name in the same account", async () => {
    const account = randomAccountId();
    await createSecretInAccount(account, { name: "once", secretString: "x" });
    await expect(
      createSecretInAccount(account, { name: "once", secretString: "y" }),
    ).rejects.toBeInstanceOf(ResourceExistsException);
  });
});
