/**
 * Secrets Manager fixtures in a chosen account: what a tenant account holds
 * before the issuer or the syncer runs, and what a test reads back afterwards.
 */
import {
  CreateSecretCommand,
  type CreateSecretCommandOutput,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  PutSecretValueCommand,
  type PutSecretValueCommandOutput,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { clientConfigForAccount } from "./accounts.ts";

export interface SecretValue {
  secretString?: string;
  secretBinary?: Uint8Array;
}

export interface SecretSpec extends SecretValue {
  name: string;
  tags?: Record<string, string>;
}

const clients = new Map<string, SecretsManagerClient>();

/**
 * A Secrets Manager client acting in `accountId`, reused per account.
 *
 * @example
 * const client = secretsClientForAccount(tenant);
 */
export function secretsClientForAccount(accountId: string): SecretsManagerClient {
  let client = clients.get(accountId);
  if (client === undefined) {
    client = new SecretsManagerClient(clientConfigForAccount(accountId));
    clients.set(accountId, client);
  }
  return client;
}

/**
 * Creates a secret in `accountId`, with a first value if one is given.
 *
 * @example
 * await createSecretInAccount(tenant, { name: "keywhiz/db", secretString: "s3cr3t", tags: { owner: "keywhiz" } });
 */
export function createSecretInAccount(
  accountId: string,
  { name, secretString, secretBinary, tags = {} }: SecretSpec,
): Promise<CreateSecretCommandOutput> {
  return secretsClientForAccount(accountId).send(
    new CreateSecretCommand({
      Name: name,
      SecretString: secretString,
      SecretBinary: secretBinary,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
}

/**
 * Stores a new current version of an existing secret in `accountId`.
 *
 * @example
 * await putSecretInAccount(tenant, "keywhiz/db", { secretString: "rotated" });
 */
export function putSecretInAccount(
  accountId: string,
  name: string,
  { secretString, secretBinary }: SecretValue,
): Promise<PutSecretValueCommandOutput> {
  return secretsClientForAccount(accountId).send(
    new PutSecretValueCommand({
      SecretId: name,
      SecretString: secretString,
      SecretBinary: secretBinary,
    }),
  );
}

/**
 * The current value of a secret in `accountId`.
 *
 * @example
 * const { SecretString } = await getSecretInAccount(tenant, "lambda-svid/svid");
 */
export function getSecretInAccount(
  accountId: string,
  name: string,
): Promise<GetSecretValueCommandOutput> {
  return secretsClientForAccount(accountId).send(new GetSecretValueCommand({ SecretId: name }));
}

/**
 * A secret's metadata (tags, versions, dates) in `accountId`, without its value.
 *
 * @example
 * const { Tags } = await describeSecretInAccount(tenant, "lambda-svid/svid");
 */
export function describeSecretInAccount(
  accountId: string,
  name: string,
): Promise<DescribeSecretCommandOutput> {
  return secretsClientForAccount(accountId).send(new DescribeSecretCommand({ SecretId: name }));
}
