/**
 * Secrets Manager (JSON 1.1), one store per account, with the semantics the
 * issuer relies on: CreateSecret (ARN with a random 6-character suffix, tags,
 * ClientRequestToken as the VersionId, ResourceExistsException), PutSecretValue
 * and UpdateSecret (the new version becomes AWSCURRENT, the old one
 * AWSPREVIOUS; a token reused with another value is refused; a secret
 * scheduled for deletion refuses writes), DescribeSecret (tags, DeletedDate,
 * VersionIdsToStages, Description), TagResource, UntagResource, RestoreSecret,
 * DeleteSecret, GetSecretValue. Only the current value of a secret is kept.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { AwsError } from "./errors.ts";
import { type Operation, requireString, type ServiceBehaviour, ServiceModel } from "./service.ts";

/** Secrets Manager's latency and its request rate quotas. */
export const SECRETS_DEFAULTS: ServiceBehaviour = {
  latencyMs: { default: 30 },
  // Per account and Region, as AWS counts them.
  quotas: {
    DescribeSecret: { ratePerSecond: 10_000 },
    GetSecretValue: { ratePerSecond: 10_000 },
    CreateSecret: { ratePerSecond: 50 },
    PutSecretValue: { ratePerSecond: 50 },
    UpdateSecret: { ratePerSecond: 50 },
    TagResource: { ratePerSecond: 50 },
    UntagResource: { ratePerSecond: 50 },
    RestoreSecret: { ratePerSecond: 50 },
    DeleteSecret: { ratePerSecond: 50 },
  },
  perAccount: true,
};

const SUFFIX = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const NOT_FOUND = "Secrets Manager can't find the specified secret.";
const MARKED = "You can't perform this operation on the secret because it was marked for deletion.";

/** A secret as the model holds it; the value is the current version's only. */
export interface ModelSecret {
  readonly arn: string;
  readonly name: string;
  readonly account: string;
  description: string | undefined;
  kmsKeyId: string | undefined;
  tags: Map<string, string>;
  /** VersionId → stages; at most the current and the previous version. */
  versions: Map<string, string[]>;
  /** VersionId → digest of that version's value, for idempotent retries. */
  digests: Map<string, string>;
  current: { SecretString?: string; SecretBinary?: string } | undefined;
  createdAt: number;
  changedAt: number;
  deletedAt: number | undefined;
}

/** What a write hook sees: the secret after a new version became current. */
export type WriteHook = (secret: ModelSecret) => void;

/**
 * @example
 * const secrets = new SecretsManagerModel({ onWrite: (s) => held.set(s.account, s.current) });
 */
export class SecretsManagerModel extends ServiceModel {
  protected readonly operations: Record<string, Operation>;
  /** Per account: name → secret. */
  private readonly byName = new Map<string, Map<string, ModelSecret>>();
  private readonly byArn = new Map<string, ModelSecret>();

  constructor(
    private readonly options: { onWrite?: WriteHook; behaviour?: ServiceBehaviour } = {},
  ) {
    super(
      "SecretsManager",
      { kind: "json", target: "secretsmanager", version: "1.1" },
      { code: "ThrottlingException", message: "Rate exceeded" },
      options.behaviour ?? SECRETS_DEFAULTS,
    );
    this.operations = {
      CreateSecret: (input, account) => this.create(input, account),
      PutSecretValue: (input, account) => this.putValue(input, account, false),
      UpdateSecret: (input, account) => this.putValue(input, account, true),
      DescribeSecret: (input, account) => this.describe(this.find(input, account)),
      GetSecretValue: (input, account) => this.getValue(input, account),
      TagResource: (input, account) => {
        const secret = this.find(input, account);
        for (const t of (input.Tags ?? []) as { Key: string; Value: string }[]) {
          secret.tags.set(t.Key, t.Value);
        }
        return {};
      },
      UntagResource: (input, account) => {
        const secret = this.find(input, account);
        for (const k of (input.TagKeys ?? []) as string[]) secret.tags.delete(k);
        return {};
      },
      RestoreSecret: (input, account) => {
        const secret = this.find(input, account);
        secret.deletedAt = undefined;
        return { ARN: secret.arn, Name: secret.name };
      },
      DeleteSecret: (input, account) => {
        const secret = this.find(input, account);
        if (input.ForceDeleteWithoutRecovery === true) this.forget(secret);
        else secret.deletedAt = Date.now();
        return { ARN: secret.arn, Name: secret.name, DeletionDate: Date.now() / 1000 };
      },
    };
  }

  /** The secret named `name` in `account`, as stored (for the simulation's checks). */
  get(account: string, name: string): ModelSecret | undefined {
    return this.byName.get(account)?.get(name);
  }

  /** Secrets held, deleted ones included until their recovery window ends (the model never ends it). */
  get size(): number {
    return this.byArn.size;
  }

  private create(input: Record<string, unknown>, account: string) {
    const name = requireString(input, "Name", "InvalidParameterException");
    const token =
      typeof input.ClientRequestToken === "string" ? input.ClientRequestToken : randomUUID();
    const existing = this.get(account, name);
    if (existing !== undefined) {
      if (existing.digests.get(token) === digestOf(input)) {
        return { ARN: existing.arn, Name: existing.name, VersionId: token };
      }
      if (existing.deletedAt !== undefined) {
        throw new AwsError(
          "InvalidRequestException",
          "You can't create this secret because a secret with this name is already scheduled for deletion.",
        );
      }
      throw new AwsError(
        "ResourceExistsException",
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    const now = Date.now();
    const secret: ModelSecret = {
      arn: `arn:aws:secretsmanager:us-east-1:${account}:secret:${name}-${suffix()}`,
      name,
      account,
      description: input.Description as string | undefined,
      kmsKeyId: input.KmsKeyId as string | undefined,
      tags: new Map(
        ((input.Tags ?? []) as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value]),
      ),
      versions: new Map(),
      digests: new Map(),
      current: undefined,
      createdAt: now,
      changedAt: now,
      deletedAt: undefined,
    };
    let accountSecrets = this.byName.get(account);
    if (accountSecrets === undefined) {
      accountSecrets = new Map();
      this.byName.set(account, accountSecrets);
    }
    accountSecrets.set(name, secret);
    this.byArn.set(secret.arn, secret);
    const hasValue = input.SecretString !== undefined || input.SecretBinary !== undefined;
    if (hasValue) this.newVersion(secret, token, input);
    return { ARN: secret.arn, Name: name, ...(hasValue ? { VersionId: token } : {}) };
  }

  private putValue(input: Record<string, unknown>, account: string, update: boolean) {
    const secret = this.find(input, account);
    if (secret.deletedAt !== undefined) throw new AwsError("InvalidRequestException", MARKED);
    const hasValue = input.SecretString !== undefined || input.SecretBinary !== undefined;
    if (!update && !hasValue) {
      throw new AwsError(
        "InvalidRequestException",
        "You must provide either SecretString or SecretBinary.",
      );
    }
    if (update) {
      if (input.Description !== undefined) secret.description = input.Description as string;
      if (input.KmsKeyId !== undefined) secret.kmsKeyId = input.KmsKeyId as string;
      secret.changedAt = Date.now();
      if (!hasValue) return { ARN: secret.arn, Name: secret.name };
    }
    const token =
      typeof input.ClientRequestToken === "string" ? input.ClientRequestToken : randomUUID();
    const known = secret.digests.get(token);
    if (known !== undefined && known !== digestOf(input)) {
      throw new AwsError(
        "ResourceExistsException",
        "You can't modify an existing version, you can only create a new version.",
      );
    }
    if (known === undefined) this.newVersion(secret, token, input);
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: token,
      ...(update ? {} : { VersionStages: secret.versions.get(token) ?? [] }),
    };
  }

  private newVersion(secret: ModelSecret, token: string, input: Record<string, unknown>): void {
    for (const [id, stages] of secret.versions) {
      if (stages.includes("AWSPREVIOUS")) {
        secret.versions.delete(id);
        secret.digests.delete(id);
      }
    }
    for (const [id, stages] of secret.versions) {
      if (stages.includes("AWSCURRENT")) secret.versions.set(id, ["AWSPREVIOUS"]);
    }
    secret.versions.set(token, ["AWSCURRENT"]);
    secret.digests.set(token, digestOf(input));
    secret.current =
      input.SecretString !== undefined
        ? { SecretString: input.SecretString as string }
        : { SecretBinary: input.SecretBinary as string };
    secret.changedAt = Date.now();
    this.options.onWrite?.(secret);
  }

  private getValue(input: Record<string, unknown>, account: string) {
    const secret = this.find(input, account);
    if (secret.deletedAt !== undefined) throw new AwsError("InvalidRequestException", MARKED);
    const current = [...secret.versions].find(([, s]) => s.includes("AWSCURRENT"));
    if (current === undefined || secret.current === undefined) {
      throw new AwsError(
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
      );
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: current[0],
      VersionStages: current[1],
      ...secret.current,
      CreatedDate: secret.changedAt / 1000,
    };
  }

  private describe(secret: ModelSecret) {
    return {
      ARN: secret.arn,
      Name: secret.name,
      Description: secret.description,
      KmsKeyId: secret.kmsKeyId,
      Tags: [...secret.tags].map(([Key, Value]) => ({ Key, Value })),
      VersionIdsToStages: Object.fromEntries(secret.versions),
      CreatedDate: secret.createdAt / 1000,
      LastChangedDate: secret.changedAt / 1000,
      ...(secret.deletedAt === undefined ? {} : { DeletedDate: secret.deletedAt / 1000 }),
    };
  }

  /** By ARN (only the caller's own account's) or by name in the caller's account. */
  private find(input: Record<string, unknown>, account: string): ModelSecret {
    const id = requireString(input, "SecretId", "InvalidParameterException");
    const secret = id.startsWith("arn:") ? this.byArn.get(id) : this.get(account, id);
    if (secret === undefined || secret.account !== account) {
      throw new AwsError("ResourceNotFoundException", NOT_FOUND);
    }
    return secret;
  }

  private forget(secret: ModelSecret): void {
    this.byArn.delete(secret.arn);
    this.byName.get(secret.account)?.delete(secret.name);
  }
}

function suffix(): string {
  return Array.from(randomBytes(6), (b) => SUFFIX[b % SUFFIX.length]).join("");
}

function digestOf(input: Record<string, unknown>): string {
  return createHash("sha1")
    .update(String(input.SecretString ?? ""))
    .update("\0")
    .update(String(input.SecretBinary ?? ""))
    .digest("base64");
}
