import { ListSecretsCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";
import { clientConfigForAccount, credentialsForAccount, randomAccountId } from "./accounts.ts";
import { createSecretInAccount, getSecretInAccount } from "./secrets.ts";

describe("accounts", () => {
  it("randomAccountId gives distinct 12-digit ids", () => {
    const ids = new Set(Array.from({ length: 100 }, randomAccountId));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^[1-9]\d{11}$/);
  });

  it("credentials from AssumeRole act in the requested account", async () => {
    const account = randomAccountId();
    const sts = new STSClient(clientConfigForAccount(account));
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe(account);
    expect(identity.Arn).toBe(
      `arn:aws:sts::${account}:assumed-role/lambda-svid-test/lambda-svid-test-${account}`,
    );
  });

  it("caches credentials per account", async () => {
    const account = randomAccountId();
    const first = await credentialsForAccount(account);
    expect(await credentialsForAccount(account)).toBe(first);
    expect((await credentialsForAccount(randomAccountId())).accessKeyId).not.toBe(
      first.accessKeyId,
    );
  });

  it("keeps secrets of two accounts, and of the default account, apart", async () => {
    const [a, b] = [randomAccountId(), randomAccountId()];
    const name = "lambda-svid/svid";
    await createSecretInAccount(a, { name, secretString: "for a" });
    await createSecretInAccount(b, { name, secretString: "for b" });

    expect((await getSecretInAccount(a, name)).SecretString).toBe("for a");
    expect((await getSecretInAccount(b, name)).SecretString).toBe("for b");
    const defaultAccount = await new SecretsManagerClient({}).send(
      new ListSecretsCommand({ Filters: [{ Key: "name", Values: [name] }] }),
    );
    expect(defaultAccount.SecretList ?? []).toEqual([]);
  });
});
