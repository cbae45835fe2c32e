import {
  DeleteSecretCommand,
  GetSecretValueCommand,
  ResourceExistsException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import {
  OWNER_TAG,
  type OwnedSecretWrite,
  tagMap,
  writeOwnedSecret,
} from "../../../lib/secrets/index.ts";
import { clientConfigForAccount, randomAccountId } from "../../emulator/accounts.ts";
import { countCalls } from "../../emulator/faults.ts";
import { createSecretInAccount, describeSecretInAccount } from "../../emulator/secrets.ts";

const TOKEN_1 = "11111111-1111-4111-8111-111111111111";
const TOKEN_2 = "22222222-2222-4222-8222-222222222222";

class NotMine extends Error {}
class Conflict extends Error {}

function setup() {
  const account = randomAccountId();
  const sm = new SecretsManagerClient(clientConfigForAccount(account));
  const write = (over: Partial<OwnedSecretWrite> = {}): OwnedSecretWrite => ({
    name: "owned/example",
    value: { SecretString: "v1" },
    owner: "lambda-svid-tester",
    tags: [{ Key: "lambda-svid:note", Value: "one" }],
    clientRequestToken: TOKEN_1,
    kmsKeyId: undefined,
    description: "written by the owned-secret test",
    ...over,
  });
  return { account, sm, write, calls: countCalls(sm) };
}

const foreign = () => new NotMine("not mine");

describe("writeOwnedSecret", () => {
  it("creates a missing secret with its value, owner tag, tags and token in one call", async () => {
    const { account, sm, write, calls } = setup();
    await writeOwnedSecret(sm, { kind: "missing" }, write(), { foreign });
    expect(calls.count("CreateSecret")).toBe(1);
    expect(calls.total).toBe(1);
    const described = await describeSecretInAccount(account, "owned/example");
    expect(tagMap(described.Tags)).toEqual({
      [OWNER_TAG]: "lambda-svid-tester",
      "lambda-svid:note": "one",
    });
    expect(described.Description).toBe("written by the owned-secret test");
    const value = await sm.send(new GetSecretValueCommand({ SecretId: "owned/example" }));
    expect(value.SecretString).toBe("v1");
    expect(value.VersionId).toBe(TOKEN_1);
  });

  it("restores an owned secret scheduled for deletion, puts the new value, then re-tags it", async () => {
    const { account, sm, write, calls } = setup();
    await writeOwnedSecret(sm, { kind: "missing" }, write(), { foreign });
    await sm.send(new DeleteSecretCommand({ SecretId: "owned/example", RecoveryWindowInDays: 7 }));
    await writeOwnedSecret(
      sm,
      { kind: "owned", scheduledForDeletion: true },
      write({
        value: { SecretBinary: Buffer.from("v2") },
        tags: [{ Key: "lambda-svid:note", Value: "two" }],
        clientRequestToken: TOKEN_2,
      }),
      { foreign },
    );
    const described = await describeSecretInAccount(account, "owned/example");
    expect(described.DeletedDate).toBeUndefined();
    expect(tagMap(described.Tags)).toEqual({
      [OWNER_TAG]: "lambda-svid-tester",
      "lambda-svid:note": "two",
    });
    const value = await sm.send(new GetSecretValueCommand({ SecretId: "owned/example" }));
    expect(Buffer.from(value.SecretBinary ?? []).toString()).toBe("v2");
    expect(value.SecretString).toBeUndefined();
    expect(value.VersionId).toBe(TOKEN_2);
    expect(["RestoreSecret", "PutSecretValue", "TagResource"].map(calls.count)).toEqual([1, 1, 1]);
  });

  it("throws the part's own error for a foreign secret and writes nothing", async () => {
    const { account, sm, write, calls } = setup();
    await createSecretInAccount(account, { name: "owned/example", secretString: "theirs" });
    await expect(writeOwnedSecret(sm, { kind: "foreign" }, write(), { foreign })).rejects.toThrow(
      NotMine,
    );
    expect(calls.total).toBe(0);
    const value = await sm.send(new GetSecretValueCommand({ SecretId: "owned/example" }));
    expect(value.SecretString).toBe("theirs");
  });

  it("without recheck, a secret created meanwhile is ResourceExistsException", async () => {
    const { account, sm, write } = setup();
    await createSecretInAccount(account, { name: "owned/example", secretString: "raced" });
    await expect(
      writeOwnedSecret(sm, { kind: "missing" }, write(), { foreign }),
    ).rejects.toBeInstanceOf(ResourceExistsException);
  });

  it("with recheck, decides again from the new state: owned is written, foreign refused", async () => {
    const { account, sm, write, calls } = setup();
    await createSecretInAccount(account, {
      name: "owned/example",
      secretString: "raced",
      tags: { [OWNER_TAG]: "lambda-svid-tester" },
    });
    await writeOwnedSecret(sm, { kind: "missing" }, write(), {
      foreign,
      attempts: 3,
      recheck: async () => ({ kind: "owned", scheduledForDeletion: false }),
    });
    const value = await sm.send(new GetSecretValueCommand({ SecretId: "owned/example" }));
    expect(value.SecretString).toBe("v1");
    expect(calls.count("CreateSecret")).toBe(1);

    await expect(
      writeOwnedSecret(sm, { kind: "missing" }, write({ clientRequestToken: TOKEN_2 }), {
        foreign,
        attempts: 3,
        recheck: async () => ({ kind: "foreign" }),
      }),
    ).rejects.toThrow(NotMine);
  });

  it("gives up with the part's conflict error after `attempts` creates that keep colliding", async () => {
    const { account, sm, write, calls } = setup();
    await createSecretInAccount(account, { name: "owned/example", secretString: "hidden" });
    let rechecks = 0;
    const err = await writeOwnedSecret(sm, { kind: "missing" }, write(), {
      foreign,
      attempts: 3,
      recheck: async () => {
        rechecks++;
        return { kind: "missing" };
      },
      conflict: (attempts) => new Conflict(`gave up after ${attempts}`),
    }).catch((e: unknown) => e);
    expect(err).toEqual(new Conflict("gave up after 3"));
    expect(calls.count("CreateSecret")).toBe(3);
    expect(rechecks).toBe(2);
  });

  it("writes nothing once the signal has aborted", async () => {
    const { account, sm, write } = setup();
    const controller = new AbortController();
    controller.abort(new Error("deadline"));
    await expect(
      writeOwnedSecret(sm, { kind: "missing" }, write(), { foreign, signal: controller.signal }),
    ).rejects.toThrow("Request aborted");
    await expect(describeSecretInAccount(account, "owned/example")).rejects.toThrow(
      "Secrets Manager can't find the specified secret",
    );
  });
});
