import {
  CreateSecretCommand,
  DeleteSecretCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  type SecretsManagerClient,
  TagResourceCommand,
} from "@aws-sdk/client-secrets-manager";
import { clientRequestToken, tagMap } from "../secrets/index.ts";
import { toTagValue } from "./names.ts";

/** Tags on mirrored secrets: what is not secret about them. */
export const SyncTag = {
  OWNER: "lambda-svid:owner",
  KEYWHIZ_NAME: "lambda-svid:keywhiz-name",
  /** The Keywhiz checksum, or for older servers a value from update time and length. */
  KEYWHIZ_VERSION: "lambda-svid:keywhiz-checksum",
} as const;

/** The owner tag value of secrets the syncer manages; it touches no secret without it. */
export const SYNC_OWNER = "lambda-svid-syncer";

/** Secrets Manager's limit on a secret value. */
export const MAX_SECRET_BYTES = 65_536;

/** A secret under the mirror prefix, as ListSecrets describes it. */
export interface MirroredSecret {
  name: string;
  owned: boolean;
  version: string | undefined;
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
        version: tags[SyncTag.KEYWHIZ_VERSION],
        scheduledForDeletion: entry.DeletedDate !== undefined,
      });
    }
    token = page.NextToken;
  } while (token);
  return out;
}

export interface MirrorWrite {
  name: string;
  keywhizName: string;
  version: string;
  content: Buffer;
  kmsKeyId: string | undefined;
}

/**
 * Writes one secret's content as SecretBinary: CreateSecret with tags for a
 * new one; for an owned one RestoreSecret if needed, PutSecretValue, then the
 * version tag (value first, so a failed tag update only causes a rewrite).
 * Never called for a secret that is not owned.
 */
export async function writeMirrored(
  sm: SecretsManagerClient,
  existing: MirroredSecret | undefined,
  write: MirrorWrite,
): Promise<void> {
  const token = clientRequestToken(write.name, write.version, write.content.toString("base64"));
  const versionTags = [
    { Key: SyncTag.KEYWHIZ_NAME, Value: toTagValue(write.keywhizName) },
    { Key: SyncTag.KEYWHIZ_VERSION, Value: toTagValue(write.version) },
  ];
  if (existing === undefined) {
    await sm.send(
      new CreateSecretCommand({
        Name: write.name,
        SecretBinary: write.content,
        ClientRequestToken: token,
        KmsKeyId: write.kmsKeyId,
        Description: "Mirrored from Keywhiz by lambda-svid",
        Tags: [{ Key: SyncTag.OWNER, Value: SYNC_OWNER }, ...versionTags],
      }),
    );
    return;
  }
  if (!existing.owned) throw new Error(`syncer: ${write.name} is not owned by the syncer`);
  if (existing.scheduledForDeletion)
    await sm.send(new RestoreSecretCommand({ SecretId: write.name }));
  await sm.send(
    new PutSecretValueCommand({
      SecretId: write.name,
      SecretBinary: write.content,
      ClientRequestToken: token,
    }),
  );
  await sm.send(new TagResourceCommand({ SecretId: write.name, Tags: versionTags }));
}

/** Deletes an owned mirrored secret with a recovery window, so a mistake can be undone. */
export async function deleteMirrored(
  sm: SecretsManagerClient,
  name: string,
  recoveryDays: number,
): Promise<void> {
  await sm.send(new DeleteSecretCommand({ SecretId: name, RecoveryWindowInDays: recoveryDays }));
}
