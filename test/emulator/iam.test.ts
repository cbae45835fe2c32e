import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PolicyDocument } from "../../infra/policies/render.ts";
import { type Moto, startMoto } from "../../tools/emulator/index.ts";
import { randomAccountId } from "./accounts.ts";
import { assumeRole, createRoleInAccount, createUserInAccount } from "./iam.ts";
import { pointSdkAtEmulator } from "./sdk-env.ts";
import { createSecretInAccount } from "./secrets.ts";

let moto: Moto;

beforeAll(async () => {
  moto = await startMoto({ enforceIam: true });
  pointSdkAtEmulator(moto.endpoint);
});
afterAll(() => moto?.stop());

const anyone: PolicyDocument = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Principal: { AWS: "*" }, Action: "sts:AssumeRole" }],
};
const allow = (action: string, resource: string): PolicyDocument => ({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: action, Resource: resource }],
});

describe("startMoto({ enforceIam: true })", () => {
  it("refuses keys it did not issue, except inside withoutIam, and then refuses them again", async () => {
    const dummy = new STSClient({});
    await expect(dummy.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: "InvalidClientTokenId",
    });
    await expect(
      moto.withoutIam(() => dummy.send(new GetCallerIdentityCommand({}))),
    ).resolves.toMatchObject({ Account: "123456789012" });
    await expect(dummy.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: "InvalidClientTokenId",
    });
  });

  it("allows a user's key exactly what its policy allows, and its role sessions act in the role's account", async () => {
    const account = randomAccountId();
    const other = randomAccountId();
    const { user, roleArn } = await moto.withoutIam(async () => ({
      user: await createUserInAccount(account, "operator", {
        assume: allow("sts:AssumeRole", `arn:aws:iam::${other}:role/reader`),
      }),
      roleArn: await createRoleInAccount(other, { name: "reader", trust: anyone }),
    }));
    const sts = new STSClient({ credentials: user.credentials });
    await expect(sts.send(new GetCallerIdentityCommand({}))).resolves.toMatchObject({
      Arn: `arn:aws:iam::${account}:user/operator`,
    });
    const session = await assumeRole(roleArn, "probe", {
      credentials: async () => user.credentials,
    });
    await expect(
      new STSClient({ credentials: session }).send(new GetCallerIdentityCommand({})),
    ).resolves.toMatchObject({ Account: other });
    await expect(
      assumeRole(`arn:aws:iam::${other}:role/admin`, "probe", {
        credentials: async () => user.credentials,
      }),
    ).rejects.toMatchObject({
      name: "AccessDenied",
      message: expect.stringContaining("is not authorized to perform: sts:AssumeRole"),
    });
  });
});

describe("iam_authorization.py: resources as AWS names them", () => {
  it("judges secret ARNs with IAM's wildcards and denies with an AccessDeniedException naming the resource", async () => {
    const account = randomAccountId();
    const prefix = `arn:aws:secretsmanager:us-east-1:${account}:secret:`;
    const session = await moto.withoutIam(async () => {
      await createSecretInAccount(account, { name: "app.db", secretString: "allowed" });
      await createSecretInAccount(account, { name: "appXdb", secretString: "not allowed" });
      const arn = await createRoleInAccount(account, {
        name: "app",
        trust: anyone,
        inline: {
          read: allow("secretsmanager:GetSecretValue", `${prefix}app.db-??????`),
          create: allow("secretsmanager:CreateSecret", `${prefix}new/*`),
        },
      });
      return assumeRole(arn, "probe");
    });
    const sm = new SecretsManagerClient({ credentials: session });

    await expect(sm.send(new GetSecretValueCommand({ SecretId: "app.db" }))).resolves.toMatchObject(
      { SecretString: "allowed" },
    );
    await expect(sm.send(new GetSecretValueCommand({ SecretId: "appXdb" }))).rejects.toMatchObject({
      name: "AccessDeniedException",
      message: expect.stringMatching(
        new RegExp(
          `^User: arn:aws:sts::${account}:assumed-role/app/probe is not authorized to perform: secretsmanager:GetSecretValue on resource: ${prefix}appXdb-\\w{6}$`,
        ),
      ),
    });
    await expect(
      sm.send(new CreateSecretCommand({ Name: "new/one", SecretString: "x" })),
    ).resolves.toMatchObject({ Name: "new/one" });
    await expect(
      sm.send(new CreateSecretCommand({ Name: "old/one", SecretString: "x" })),
    ).rejects.toMatchObject({ name: "AccessDeniedException" });
    // A secret that does not exist is judged by its name's ARN, which no `-??????` pattern covers.
    await expect(sm.send(new GetSecretValueCommand({ SecretId: "app.db2" }))).rejects.toMatchObject(
      {
        name: "AccessDeniedException",
        message: expect.stringContaining(`on resource: ${prefix}app.db2`),
      },
    );
  });
});
