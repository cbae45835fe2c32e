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
  UntagResourceCommand,
  UpdateSecretCommand,
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

/**
 * What the writer must know of the secret as it stands, from DescribeSecret or
 * ListSecrets, or from the writer's own record of what it last wrote. With an
 * `arn`, the write addresses exactly that secret: one recreated by someone
 * else since has another ARN, so the write fails instead of landing in it.
 * With `tags` (the secret's current tags), only tags whose value differs are
 * written, and none when all match.
 */
export type OwnedSecretState =
  | { kind: "missing" }
  | { kind: "foreign" }
  | {
      kind: "owned";
      scheduledForDeletion: boolean;
      arn?: string;
      tags?: Readonly<Record<string, string>>;
    };

/** The secret a write landed in, and the version it made current. */
export interface WrittenSecret {
  arn: string;
  versionId: string;
}

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
  /**
   * `true`: a new version of an existing secret is written with UpdateSecret,
   * which sets the value and the description in one call, so a description
   * that states what the value is can never disagree with it. Otherwise
   * PutSecretValue, and the description is set only at creation.
   */
  describeEachVersion?: boolean;
  /** Tag keys to remove when the secret carries them (tags an older writer set and this one no longer keeps). */
  retiredTags?: readonly string[];
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
 * Writes `write` into the secret described by `state` and returns where it
 * landed. The value goes before the tags: a failed tag update then only leaves
 * a stale tag, which makes the owner write again early, while the reverse
 * order could mark old content as new. A write to a known owned secret whose
 * tags already match is one call.
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
): Promise<WrittenSecret> {
  const { signal, recheck, attempts = 1 } = options;
  const send = { abortSignal: signal };
  let current = state;
  for (let attempt = 1; current.kind === "missing"; attempt++) {
    try {
      const out = await sm.send(
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
      return written(out, write);
    } catch (err) {
      if (!(err instanceof ResourceExistsException) || recheck === undefined) throw err;
      if (attempt >= attempts) throw options.conflict?.(attempt) ?? err;
      current = await recheck();
    }
  }
  if (current.kind === "foreign") throw options.foreign();
  const secretId = current.arn ?? write.name;
  if (current.scheduledForDeletion) {
    await sm.send(new RestoreSecretCommand({ SecretId: secretId }), send);
  }
  const out = await sm.send(
    write.describeEachVersion
      ? new UpdateSecretCommand({
          SecretId: secretId,
          ...write.value,
          Description: write.description,
          ClientRequestToken: write.clientRequestToken,
        })
      : new PutSecretValueCommand({
          SecretId: secretId,
          ...write.value,
          ClientRequestToken: write.clientRequestToken,
        }),
    send,
  );
  const held = current.tags;
  const changed =
    held === undefined ? write.tags : write.tags.filter((t) => held[t.Key] !== t.Value);
  if (changed.length > 0) {
    await sm.send(new TagResourceCommand({ SecretId: secretId, Tags: [...changed] }), send);
  }
  const retired = (write.retiredTags ?? []).filter((key) => held?.[key] !== undefined);
  if (retired.length > 0) {
    await sm.send(new UntagResourceCommand({ SecretId: secretId, TagKeys: retired }), send);
  }
  return written(out, write);
}

/** What CreateSecret, UpdateSecret and PutSecretValue answer: the secret's ARN and the new version. */
function written(
  out: { ARN?: string; VersionId?: string },
  write: OwnedSecretWrite,
): WrittenSecret {
  return { arn: out.ARN ?? write.name, versionId: out.VersionId ?? write.clientRequestToken };
}
