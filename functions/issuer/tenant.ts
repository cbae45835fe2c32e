import {
  DescribeSecretCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from "@aws-sdk/client-secrets-manager";
import { AssumeRoleCommand, type STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity } from "@smithy/types";
import {
  notAfterFromDescription,
  SVID_SECRET_OWNER,
  SvidSecretTag,
  svidSecretDescription,
} from "../../layers/svid-secret/index.ts";
import { fixedEndpoint } from "../../lib/endpoints/index.ts";
import { tagMap, type WrittenSecret, writeOwnedSecret } from "../../lib/secrets/index.ts";
import type { SecretFormat } from "./config.ts";
import {
  SvidWriteError,
  SvidWriteReason,
  TenantAccessError,
  TenantAccessReason,
} from "./errors.ts";
import type { ResolvedIdentity } from "./registry/entries.ts";

/**
 * What every tenant client shares: one request handler and its connection
 * pool (the endpoint is the same for all accounts), so an identity costs no
 * new TCP or TLS connection; and the settings the SDK's standard chain
 * (environment, shared config files) resolved once, so a new client does not
 * walk that chain again. Walking it costs about 1 ms of CPU per client,
 * mostly errors thrown and caught by the providers that find nothing.
 */
export type TenantClientSettings = Pick<
  SecretsManagerClientConfig,
  | "endpoint"
  | "requestHandler"
  | "region"
  | "useFipsEndpoint"
  | "useDualstackEndpoint"
  | "maxAttempts"
  | "retryMode"
  | "userAgentAppId"
  | "authSchemePreference"
>;

/**
 * Builds a Secrets Manager client for a tenant account from assumed-role
 * credentials and the settings all tenant clients share.
 *
 * @example
 * const factory: SecretsManagerFactory = (credentials, shared) => new SecretsManagerClient({ ...shared, credentials });
 */
export type SecretsManagerFactory = (
  credentials: AwsCredentialIdentity,
  shared: TenantClientSettings,
) => SecretsManagerClient;

export interface TenantAccessOptions {
  sts: STSClient;
  roleName: string;
  externalId: string;
  /** The AWS partition of the tenant accounts (`aws`, `aws-cn`, `aws-us-gov`). */
  partition?: string;
  /**
   * The client whose resolved settings and connection pool every tenant client
   * shares (it never sends anything itself); by default one built from the
   * SDK's standard chain. Give it to point the tenant clients elsewhere (an
   * emulator, a model of AWS) the way they are built in production.
   */
  template?: SecretsManagerClient;
  /** Lets the caller wrap each tenant client (middleware in tests); it gets the shared settings to build on. */
  secretsManagerFactory?: SecretsManagerFactory;
}

/**
 * Opens a tenant account for writing: assumes the writer role with the
 * ExternalId and a session name that says which issuer acts for which identity,
 * so CloudTrail in the tenant account shows both.
 */
export class TenantAccess {
  private shared: Promise<TenantClientSettings> | undefined;

  constructor(private readonly options: TenantAccessOptions) {}

  /** @param signal the run's deadline; AssumeRole is abandoned when it aborts. */
  async secretsManager(
    identity: ResolvedIdentity,
    signal?: AbortSignal,
  ): Promise<SecretsManagerClient> {
    const { sts, roleName, externalId } = this.options;
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:${this.options.partition ?? "aws"}:iam::${identity.accountId}:role/${roleName}`,
        RoleSessionName: sessionName(identity),
        ExternalId: externalId,
        DurationSeconds: 900,
      }),
      { abortSignal: signal },
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) {
      throw new TenantAccessError(
        TenantAccessReason.NO_CREDENTIALS,
        `role ${roleName} in account ${identity.accountId}`,
      );
    }
    const credentials: AwsCredentialIdentity = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
    const shared = await this.sharedSettings();
    return (
      this.options.secretsManagerFactory ??
      ((creds, settings) => new SecretsManagerClient({ ...settings, credentials: creds }))
    )(credentials, shared);
  }

  /**
   * The template's own providers, which the SDK memoizes, so the chain runs
   * once for all tenant clients; and its endpoint, resolved once
   * ({@link fixedEndpoint}), so a new client does not look for a configured one.
   */
  private sharedSettings(): Promise<TenantClientSettings> {
    this.shared ??= resolveShared(this.options.template ?? new SecretsManagerClient({})).catch(
      (err: unknown) => {
        this.shared = undefined;
        throw err;
      },
    );
    return this.shared;
  }
}

async function resolveShared(template: SecretsManagerClient): Promise<TenantClientSettings> {
  const c = template.config;
  const endpoint = await fixedEndpoint(c, DescribeSecretCommand);
  return {
    ...(endpoint === undefined ? {} : { endpoint }),
    requestHandler: c.requestHandler,
    region: c.region,
    useFipsEndpoint: c.useFipsEndpoint,
    useDualstackEndpoint: c.useDualstackEndpoint,
    maxAttempts: c.maxAttempts,
    retryMode: c.retryMode,
    userAgentAppId: c.userAgentAppId,
    authSchemePreference: c.authSchemePreference,
  };
}

/** Role session names allow [\w+=,.@-] and at most 64 characters. */
export function sessionName(identity: ResolvedIdentity): string {
  const raw = `lambda-svid-issuer@${identity.environment}.${identity.service}`;
  return raw.replace(/[^\w+=,.@-]/g, "-").slice(0, 64);
}

/**
 * What the issuer knows of the tenant's SVID secret without reading its value:
 * from DescribeSecret, or from its own record of the last write (`arn`,
 * `versionId`), which lets a renewal write without asking first.
 */
export type SecretState =
  | { kind: "missing" }
  | { kind: "foreign" }
  | {
      kind: "owned";
      scheduledForDeletion: boolean;
      arn?: string;
      /** The secret's tags when known; a write then sets only those that differ. */
      tags?: Readonly<Record<string, string>>;
      spiffeId: string | undefined;
      notAfter: Date | undefined;
      /** The version labelled AWSCURRENT, when known. */
      versionId?: string;
    };

export async function readSecretState(
  sm: SecretsManagerClient,
  name: string,
  signal?: AbortSignal,
): Promise<SecretState> {
  try {
    const out = await sm.send(new DescribeSecretCommand({ SecretId: name }), {
      abortSignal: signal,
    });
    const tags = tagMap(out.Tags);
    if (tags[SvidSecretTag.OWNER] !== SVID_SECRET_OWNER) return { kind: "foreign" };
    // A secret written before the description carried the not-after still has it as a tag.
    const legacyTag = tags[SvidSecretTag.NOT_AFTER];
    const legacy = legacyTag ? new Date(legacyTag) : undefined;
    const notAfter =
      notAfterFromDescription(out.Description) ??
      (legacy && !Number.isNaN(legacy.getTime()) ? legacy : undefined);
    const current = Object.entries(out.VersionIdsToStages ?? {}).find(([, stages]) =>
      stages.includes("AWSCURRENT"),
    );
    return {
      kind: "owned",
      scheduledForDeletion: out.DeletedDate !== undefined,
      ...(out.ARN ? { arn: out.ARN } : {}),
      tags,
      spiffeId: tags[SvidSecretTag.SPIFFE_ID],
      notAfter,
      ...(current ? { versionId: current[0] } : {}),
    };
  } catch (err) {
    if (err instanceof ResourceNotFoundException) return { kind: "missing" };
    throw err;
  }
}

export interface SvidWrite {
  name: string;
  /** The SVID secret's JSON document. */
  document: string;
  /** Which field holds the document; a new version carries only that one. */
  format: SecretFormat;
  spiffeId: string;
  notAfter: Date;
  /** Idempotency token of the new version (32 to 64 characters). */
  clientRequestToken: string;
  kmsKeyId: string | undefined;
}

/**
 * CreateSecret answered "exists" while DescribeSecret answered "not found"
 * this many times: the two disagree (replication lag, a policy that hides the
 * secret), and asking again will not settle it within this run.
 */
export const CREATE_ATTEMPTS = 3;

/**
 * Writes the SVID document and returns the secret and version it landed in.
 * A new secret is created with its value, tags and description in one call;
 * an existing one gets a new version and its description (the not-after) in
 * one UpdateSecret call, addressed by ARN when the state knows it, and a tag
 * call only when the SPIFFE ID tag differs (or a retired not-after tag is to
 * be removed). The document goes in `SecretString` or `SecretBinary` as
 * `write.format` says, and a new version holds only that field, so switching
 * formats needs nothing else.
 *
 * @param signal the run's deadline; every call is abandoned when it aborts.
 * @throws {SvidWriteError} `FOREIGN_SECRET` when the secret exists without the owner tag,
 *   `CREATE_CONFLICT` when a secret created meanwhile stays invisible.
 * @example
 * await writeSvidSecret(sm, "111122223333", await readSecretState(sm, name), {
 *   name, document: encodeSvidSecret(svid, bundle), format: "string", spiffeId,
 *   notAfter: svid.notAfter, clientRequestToken, kmsKeyId: undefined,
 * });
 */
export async function writeSvidSecret(
  sm: SecretsManagerClient,
  accountId: string,
  state: SecretState,
  write: SvidWrite,
  signal?: AbortSignal,
): Promise<WrittenSecret> {
  return writeOwnedSecret(
    sm,
    state,
    {
      name: write.name,
      value:
        write.format === "binary"
          ? { SecretBinary: Buffer.from(write.document, "utf8") }
          : { SecretString: write.document },
      owner: SVID_SECRET_OWNER,
      tags: [{ Key: SvidSecretTag.SPIFFE_ID, Value: write.spiffeId }],
      retiredTags: [SvidSecretTag.NOT_AFTER],
      clientRequestToken: write.clientRequestToken,
      kmsKeyId: write.kmsKeyId,
      description: svidSecretDescription(write.notAfter),
      describeEachVersion: true,
    },
    {
      signal,
      // Created since we looked: decide again from its tags.
      recheck: () => readSecretState(sm, write.name, signal),
      attempts: CREATE_ATTEMPTS,
      foreign: () => foreignSecret(accountId, write.name),
      conflict: (attempts) =>
        new SvidWriteError(
          SvidWriteReason.CREATE_CONFLICT,
          `${JSON.stringify(write.name)} in account ${accountId}, ${attempts} attempts`,
        ),
    },
  );
}

/**
 * The refusal to overwrite a secret the issuer did not create, naming the tag it lacks.
 *
 * @example
 * if (state.kind === "foreign") throw foreignSecret("111122223333", "lambda-svid/svid");
 */
export function foreignSecret(accountId: string, name: string): SvidWriteError {
  return new SvidWriteError(
    SvidWriteReason.FOREIGN_SECRET,
    `${JSON.stringify(name)} in account ${accountId} lacks ${SvidSecretTag.OWNER}=${SVID_SECRET_OWNER}`,
  );
}
