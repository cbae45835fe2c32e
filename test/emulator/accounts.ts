/**
 * Separate AWS accounts inside the one shared emulator.
 *
 * Moto keeps a separate backend per account id and decides the account of each
 * request from its access key: keys that STS AssumeRole issued for a role ARN in
 * account X belong to X; any other key falls into the default account
 * 123456789012. So a test reaches a fresh, empty account by assuming a role there,
 * the same call the issuer makes against real AWS. Test files run in parallel
 * against one emulator; fresh random account ids keep them apart without a reset.
 */
import { randomInt } from "node:crypto";
import { AssumeRoleCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";

/** Moto does not require the role to exist; the name only shows up in ARNs. */
const ROLE_NAME = "lambda-svid-test";
/** Refresh a little before expiry, as the SDK's own providers do. */
const EXPIRY_MARGIN_MS = 5 * 60_000;

let sts: STSClient | undefined;
const cache = new Map<string, Promise<AwsCredentialIdentity>>();

/**
 * A random 12-digit account id; a clash with another test or moto's default account
 * is negligibly unlikely.
 *
 * @example
 * const tenant = randomAccountId(); // e.g. "403918276154"
 */
export function randomAccountId(): string {
  // Never a leading zero: a test should not fail on only the one run in ten that draws
  // one. Leading-zero ids (real AWS has them) deserve a deliberate test of their own.
  return `${randomInt(1, 10)}${String(randomInt(0, 100_000_000_000)).padStart(11, "0")}`;
}

/**
 * Credentials whose calls land in `accountId`, from a real STS AssumeRole against
 * the emulator. Cached per account until shortly before they expire.
 *
 * @example
 * const credentials = await credentialsForAccount("403918276154");
 */
export function credentialsForAccount(accountId: string): Promise<AwsCredentialIdentity> {
  const cached = cache.get(accountId);
  if (cached !== undefined) {
    return cached.then((identity) => (fresh(identity) ? identity : refresh(accountId)));
  }
  return refresh(accountId);
}

/**
 * Client configuration for any AWS SDK v3 client acting in `accountId`.
 *
 * @example
 * const secrets = new SecretsManagerClient(clientConfigForAccount(tenant));
 */
export function clientConfigForAccount(accountId: string): {
  credentials: AwsCredentialIdentityProvider;
} {
  return { credentials: () => credentialsForAccount(accountId) };
}

function refresh(accountId: string): Promise<AwsCredentialIdentity> {
  const pending = assumeRoleIn(accountId);
  cache.set(accountId, pending);
  pending.catch(() => cache.delete(accountId));
  return pending;
}

function fresh(identity: AwsCredentialIdentity): boolean {
  return (
    identity.expiration === undefined ||
    identity.expiration.getTime() - EXPIRY_MARGIN_MS > Date.now()
  );
}

async function assumeRoleIn(accountId: string): Promise<AwsCredentialIdentity> {
  sts ??= new STSClient({});
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${accountId}:role/${ROLE_NAME}`,
      RoleSessionName: `lambda-svid-test-${accountId}`,
    }),
  );
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken) {
    throw new Error(`accounts: AssumeRole into ${accountId} returned no credentials`);
  }
  return {
    accessKeyId: c.AccessKeyId,
    secretAccessKey: c.SecretAccessKey,
    sessionToken: c.SessionToken,
    expiration: c.Expiration,
  };
}
