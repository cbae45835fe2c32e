/**
 * IAM fixtures in a chosen account: roles built from policy documents, and the
 * credentials a principal would hold. Against an emulator started with
 * `startMoto({ enforceIam: true })`, those credentials are allowed exactly what
 * the documents allow, as far as moto evaluates them (see `iam_authorization.py`).
 *
 * Creating roles is an administrator's work: do it inside `moto.withoutIam(...)`.
 */
import {
  AttachRolePolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from "@aws-sdk/client-iam";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import type { PolicyDocument } from "../../infra/policies/render.ts";
import { clientConfigForAccount } from "./accounts.ts";

export interface RoleSpec {
  name: string;
  /** Who may assume the role. */
  trust: PolicyDocument;
  /** Inline policies, by policy name (`aws_iam_role_policy`). */
  inline?: Record<string, PolicyDocument>;
  /** Customer-managed policies created in the account and attached, by policy name (`aws_iam_policy`). */
  managed?: Record<string, PolicyDocument>;
}

/**
 * Creates a role with its policies in `accountId` and returns the role's ARN.
 *
 * @example
 * const arn = await createRoleInAccount(tenant, {
 *   name: "lambda-svid-writer",
 *   trust: renderPolicy("writer-trust", { issuer_role_arn, external_id }),
 *   inline: { writer: renderPolicy("writer", writerValues) },
 * });
 */
export async function createRoleInAccount(accountId: string, spec: RoleSpec): Promise<string> {
  const iam = new IAMClient(clientConfigForAccount(accountId));
  const { Role } = await iam.send(
    new CreateRoleCommand({
      RoleName: spec.name,
      AssumeRolePolicyDocument: JSON.stringify(spec.trust),
    }),
  );
  if (Role?.Arn === undefined) throw new Error(`iam: CreateRole ${spec.name} returned no ARN`);
  for (const [name, document] of Object.entries(spec.inline ?? {})) {
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: spec.name,
        PolicyName: name,
        PolicyDocument: JSON.stringify(document),
      }),
    );
  }
  for (const [name, document] of Object.entries(spec.managed ?? {})) {
    const { Policy } = await iam.send(
      new CreatePolicyCommand({ PolicyName: name, PolicyDocument: JSON.stringify(document) }),
    );
    await iam.send(new AttachRolePolicyCommand({ RoleName: spec.name, PolicyArn: Policy?.Arn }));
  }
  return Role.Arn;
}

export interface IamUser {
  arn: string;
  /** The user's long-term access key. */
  credentials: AwsCredentialIdentity;
}

/**
 * Creates an IAM user with inline policies and an access key in `accountId`.
 *
 * @example
 * const user = await createUserInAccount(central, "operator", { assume: allowAssumeRole });
 * new STSClient({ credentials: user.credentials });
 */
export async function createUserInAccount(
  accountId: string,
  name: string,
  inline: Record<string, PolicyDocument> = {},
): Promise<IamUser> {
  const iam = new IAMClient(clientConfigForAccount(accountId));
  const { User } = await iam.send(new CreateUserCommand({ UserName: name }));
  if (User?.Arn === undefined) throw new Error(`iam: CreateUser ${name} returned no ARN`);
  for (const [policyName, document] of Object.entries(inline)) {
    await iam.send(
      new PutUserPolicyCommand({
        UserName: name,
        PolicyName: policyName,
        PolicyDocument: JSON.stringify(document),
      }),
    );
  }
  const { AccessKey: key } = await iam.send(new CreateAccessKeyCommand({ UserName: name }));
  if (!key?.AccessKeyId || !key.SecretAccessKey) {
    throw new Error(`iam: CreateAccessKey ${name} returned no key`);
  }
  return {
    arn: User.Arn,
    credentials: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey },
  };
}

export interface AssumeOptions {
  /** Who asks; defaults to the SDK's standard chain (in tests, the emulator's dummy keys). */
  credentials?: AwsCredentialIdentityProvider;
  externalId?: string;
}

/**
 * Temporary credentials of `roleArn` from a real STS AssumeRole; calls made with
 * them act in the role's account, as the role.
 *
 * @example
 * const issuer = await assumeRole(issuerRoleArn, "lambda-svid-issuer");
 * const writer = await assumeRole(writerRoleArn, "probe", { credentials: issuer, externalId });
 */
export async function assumeRole(
  roleArn: string,
  sessionName: string,
  options: AssumeOptions = {},
): Promise<AwsCredentialIdentity> {
  const sts = new STSClient(options.credentials ? { credentials: options.credentials } : {});
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: roleArn,
      RoleSessionName: sessionName,
      ExternalId: options.externalId,
    }),
  );
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
    throw new Error(`iam: AssumeRole ${roleArn} returned no credentials`);
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  };
}
