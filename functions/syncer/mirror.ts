import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ResourceExistsException,
  RestoreSecretCommand,
  type SecretsManagerClient,
  TagResourceCommand,
} from "@aws-sdk/client-secrets-manager";
import {
  ContentKey,
  ContentKeyError,
  OWNER_TAG,
  tagMap,
  writeOwnedSecret,
} from "../../lib/secrets/index.ts";
import { SyncerError, SyncerReason } from "./errors.ts";
import { toTagValue } from "./names.ts";

/** Tags on mirrored secrets: what is not secret about them. */
export const SyncTag = {
  OWNER: OWNER_TAG,
  KEYWHIZ_NAME: "lambda-svid:keywhiz-name",
  /** Keywhiz's checksum (an HMAC under the server's key), from servers that send one. */
  KEYWHIZ_CHECKSUM: "lambda-svid:keywhiz-checksum",
  /** HMAC of the mirrored name and content under the syncer's {@link ContentKey}. */
  CONTENT_HMAC: "lambda-svid:content-hmac",
  /** Set only on the content key's secret, which is not a mirror. */
  PURPOSE: "lambda-svid:purpose",
} as const;

/** The owner tag value of secrets the syncer manages; it touches no secret without it. */
export const SYNC_OWNER = "lambda-svid-syncer";

const CONTENT_KEY_PURPOSE = "content-key";

/** Secrets Manager's limit on a secret value. */
export const MAX_SECRET_BYTES = 65_536;

/** A secret under the mirror prefix, as ListSecrets describes it. */
export interface MirroredSecret {
  name: string;
  owned: boolean;
  /** The {@link SyncTag.KEYWHIZ_CHECKSUM} tag. */
  checksum: string | undefined;
  /** The {@link SyncTag.CONTENT_HMAC} tag. */
  contentHmac: string | undefined;
  purpose: string | undefined;
  /** The VersionId labelled AWSCURRENT. */
  currentVersionId: string | undefined;
  scheduledForDeletion: boolean;
}

/**
 * Every secret whose name starts with `prefix`, with its tags, in pages of
 * 100: the whole state the syncer compares against, without reading any value.
 */
export async function listMirrored(
  sm: SecretsManagerClient,
  prefix: string,
): Promise<Map<string, MirroredSecret>> {
  const out = new Map<string, MirroredSecret>();
  let token: string | undefined;
  do {
    const page = await sm.send(
      new ListSecretsCommand({
        MaxResults: 100,
        NextToken: token,
        IncludePlannedDeletion: true,
        Filters: [{ Key: "name", Values: [prefix] }],
      }),
    );
    for (const entry of page.SecretList ?? []) {
      // The name filter is a case-insensitive prefix match; keep exact matches only.
      if (!entry.Name?.startsWith(prefix)) continue;
      const tags = tagMap(entry.Tags);
      out.set(entry.Name, {
        name: entry.Name,
        owned: tags[SyncTag.OWNER] === SYNC_OWNER,
        checksum: tags[SyncTag.KEYWHIZ_CHECKSUM],
        contentHmac: tags[SyncTag.CONTENT_HMAC],
        purpose: tags[SyncTag.PURPOSE],
        currentVersionId: Object.entries(entry.SecretVersionsToStages ?? {}).find(([, stages]) =>
          stages.includes("AWSCURRENT"),
        )?.[0],
        scheduledForDeletion: entry.DeletedDate !== undefined,
      });
    }
    token = page.NextToken;
  } while (token);
  return out;
}

/**
 * The content key's secret: under the mirror prefix, so the syncer's existing
 * permissions cover it and no other infrastructure is needed. The leading dot
 * marks it as no mirror; a Keywhiz secret that maps to this name is refused.
 */
export function contentKeySecretName(prefix: string): string {
  return `${prefix}.lambda-svid-sync-key`;
}

/**
 * The syncer's {@link ContentKey}: read from its secret, or created there on
 * first use with 32 random bytes. A random key kept apart, rather than one
 * derived from the SVID's private key, because that key changes every day
 * and every digest with it, which would rewrite every mirrored secret daily.
 * Only the syncer and readers of this one secret can read it; a reader of
 * mirrored values learns nothing from it that the values do not tell.
 *
 * @param existing the key secret as {@link listMirrored} found it, if at all.
 * @throws {SyncerError} when the secret exists but was not made by the syncer
 *   or does not hold a key: digests under a key someone else chose would be
 *   guessable by them.
 */
export async function loadContentKey(
  sm: SecretsManagerClient,
  name: string,
  existing: MirroredSecret | undefined,
  kmsKeyId: string | undefined,
): Promise<ContentKey> {
  if (existing === undefined) {
    const key = ContentKey.generate();
    try {
      await sm.send(
        new CreateSecretCommand({
          Name: name,
          SecretBinary: key.bytes(),
          KmsKeyId: kmsKeyId,
          Description: "lambda-svid syncer: key for version ids and tags of mirrored secrets",
          Tags: [
            { Key: SyncTag.OWNER, Value: SYNC_OWNER },
            { Key: SyncTag.PURPOSE, Value: CONTENT_KEY_PURPOSE },
          ],
        }),
      );
      return key;
    } catch (err) {
      // Another invocation created it since the listing: use that one.
      if (!(err instanceof ResourceExistsException)) throw err;
    }
  } else {
    if (!existing.owned || existing.purpose !== CONTENT_KEY_PURPOSE) {
      throw new SyncerError(
        SyncerReason.CONTENT_KEY,
        `${JSON.stringify(name)} exists without the syncer's ${existing.owned ? "purpose" : "owner"} tag`,
      );
    }
    if (existing.scheduledForDeletion) await sm.send(new RestoreSecretCommand({ SecretId: name }));
  }
  const stored = await sm.send(new GetSecretValueCommand({ SecretId: name }));
  try {
    return new ContentKey(stored.SecretBinary ?? new Uint8Array());
  } catch (err) {
    if (!(err instanceof ContentKeyError)) throw err;
    throw new SyncerError(SyncerReason.CONTENT_KEY, JSON.stringify(name), { cause: err });
  }
}

export interface MirrorWrite {
  name: string;
  keywhizName: string;
  /** Keywhiz's checksum of this content, when the server sends one. */
  checksum: string | undefined;
  /** {@link SyncTag.CONTENT_HMAC} of this content. */
  contentHmac: string;
  content: Buffer;
  kmsKeyId: string | undefined;
}

/**
 * Writes one secret's content as SecretBinary: CreateSecret with tags for a
 * new one; for an owned one RestoreSecret if needed, PutSecretValue, then the
 * tags (value first, so a failed tag update only causes a rewrite). Never
 * called for a secret that is not owned.
 *
 * The ClientRequestToken is keyed (it becomes the VersionId, which
 * DescribeSecret shows) and covers the current VersionId, so a retried write
 * is one version while a value that returns to an earlier one (A, B, A) is a
 * new version that becomes current, not the old one left behind.
 */
export async function writeMirrored(
  sm: SecretsManagerClient,
  key: ContentKey,
  existing: MirroredSecret | undefined,
  write: MirrorWrite,
): Promise<void> {
  const token = key.clientRequestToken(write.name, existing?.currentVersionId ?? "", write.content);
  const tags = [
    { Key: SyncTag.KEYWHIZ_NAME, Value: toTagValue(write.keywhizName) },
    { Key: SyncTag.CONTENT_HMAC, Value: write.contentHmac },
    ...(write.checksum === undefined
      ? []
      : [{ Key: SyncTag.KEYWHIZ_CHECKSUM, Value: toTagValue(write.checksum) }]),
  ];
  await writeOwnedSecret(
    sm,
    existing === undefined
      ? { kind: "missing" }
      : existing.owned
        ? { kind: "owned", scheduledForDeletion: existing.scheduledForDeletion }
        : { kind: "foreign" },
    {
      name: write.name,
      value: { SecretBinary: write.content },
      owner: SYNC_OWNER,
      tags,
      clientRequestToken: token,
      kmsKeyId: write.kmsKeyId,
      description: "Mirrored from Keywhiz by lambda-svid",
    },
    { foreign: () => new SyncerError(SyncerReason.NOT_OWNED, JSON.stringify(write.name)) },
  );
}

/** Records Keywhiz's new checksum on a mirrored secret whose content is already current. */
export async function tagChecksum(
  sm: SecretsManagerClient,
  name: string,
  checksum: string,
): Promise<void> {
  await sm.send(
    new TagResourceCommand({
      SecretId: name,
      Tags: [{ Key: SyncTag.KEYWHIZ_CHECKSUM, Value: toTagValue(checksum) }],
    }),
  );
}

/** Deletes an owned mirrored secret with a recovery window, so a mistake can be undone. */
export async function deleteMirrored(
  sm: SecretsManagerClient,
  name: string,
  recoveryDays: number,
): Promise<void> {
  await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: recoveryDays }));
}
