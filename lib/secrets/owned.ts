/**
 * The one way a part writes a secret it owns: create it with its value and
 * tags, or, for one it owns already, restore it if deleted, put a new version,
 * then tag it. The owner tag says whose it is; no part writes over a secret
 * that lacks its own owner value.
 */
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  RestoreSecretCommand,
  type SecretsManagerClient,
  TagResourceCommand,
} from "@aws-sdk/client-secrets-manager";

/**
 * The tag key that marks a secret as written by lambda-svid; its value names
 * the owning part (the issuer's SVID secret, the syncer's mirrors), and each
 * part touches only secrets with its own value. IAM and SCP conditions test it too.
 */
export const OWNER_TAG = "lambda-svid:owner";

export interface SecretTag {
  Key: string;
  Value: string;
}

/** Where a secret value goes; a new version holds only this one field. */
export type SecretValue = { SecretString: string } | { SecretBinary: Uint8Array };

/** What the writer must know of the secret as it stands, from DescribeSecret or ListSecrets. */
export type OwnedSecretState =
  | { kind: "missing" }
  | { kind: "foreign" }
  | { kind: "owned"; scheduledForDeletion: boolean };

export interface OwnedSecretWrite {
  name: string;
  value: SecretValue;
  /** The {@link OWNER_TAG} value of the writing part. */
  owner: string;
  /** Set on a new secret beside the owner tag, and again after each new version. */
  tags: readonly SecretTag[];
  /** Idempotency token of the new version (32 to 64 characters); it becomes the VersionId. */
  clientRequestToken: string;
  kmsKeyId: string | undefined;
  description: string;
}

export interface OwnedSecretOptions {
  /** Every call is abandoned when it aborts. */
  signal?: AbortSignal;
  /**
   * Asked again after CreateSecret finds the secret already there, to decide
   * from its tags; without it, that ResourceExistsException is thrown.
   */
  recheck?: () => Promise<OwnedSecretState>;
  /** CreateSecret attempts before {@link OwnedSecretOptions.conflict} (with `recheck`); default 1. */
  attempts?: number;
  /** The part's own error for a secret that exists without its owner value. */
  foreign: () => Error;
  /** The part's own error when CreateSecret and `recheck` disagree `attempts` times. */
  conflict?: (attempts: number) => Error;
}

/**
 * Writes `write` into the secret described by `state`. The value goes before
 * the tags: a failed tag update then only leaves a stale tag, which makes the
 * owner write again early, while the reverse order could mark old content as new.
 *
 * @throws the part's `foreign()` error when the secret is not its own, and its
 *   `conflict()` error when a secret created meanwhile stays invisible.
 * @example
 * await writeOwnedSecret(sm, { kind: "missing" }, {
 *   name: "keywhiz/db-password", value: { SecretBinary: content }, owner: "lambda-svid-syncer",
 *   tags: [{ Key: "lambda-svid:keywhiz-name", Value: "db-password" }],
 *   clientRequestToken, kmsKeyId: undefined, description: "Mirrored from Keywhiz by lambda-svid",
 * }, { foreign: () => new Error("syncer: not owned") });
 */
export async function writeOwnedSecret(
  sm: SecretsManagerClient,
  state: OwnedSecretState,
  write: OwnedSecretWrite,
  options: OwnedSecretOptions,
): Promise<void> {
  const { signal, recheck, attempts = 1 } = options;
  const send = { abortSignal: signal };
  let current = state;
  for (let attempt = 1; current.kind === "missing"; attempt++) {
    try {
      await sm.send(
        new CreateSecretCommand({
          Name: write.name,
          ...write.value,
          Tags: [{ Key: OWNER_TAG, Value: write.owner }, ...write.tags],
          KmsKeyId: write.kmsKeyId,
          ClientRequestToken: write.clientRequestToken,
          Description: write.description,
        }),
        send,
      );
      return;
    } catch (err) {
      if (!(err instanceof ResourceExistsException) || recheck === undefined) throw err;
      if (attempt >= attempts) throw options.conflict?.(attempt) ?? err;
      current = await recheck();
    }
  }
  if (current.kind === "foreign") throw options.foreign();
  if (current.scheduledForDeletion) {
    await sm.send(new RestoreSecretCommand({ SecretId: write.name }), send);
  }
  await sm.send(
    new PutSecretValueCommand({
      SecretId: write.name,
      ...write.value,
      ClientRequestToken: write.clientRequestToken,
    }),
    send,
  );
  await sm.send(new TagResourceCommand({ SecretId: write.name, Tags: [...write.tags] }), send);
}
