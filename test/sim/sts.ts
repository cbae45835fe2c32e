/**
 * STS (awsQuery, XML answers): AssumeRole into a role of an account the model
 * knows, with the role's ExternalId condition, returning temporary keys that
 * sign the tenant's requests as that account; GetCallerIdentity.
 */
import { AwsError } from "./errors.ts";
import type { Principals } from "./principals.ts";
import { type Operation, requireString, type ServiceBehaviour, ServiceModel } from "./service.ts";

/** STS's latency and AssumeRole's default rate quota. */
export const STS_DEFAULTS: ServiceBehaviour = {
  latencyMs: { default: 50 },
  // STS's default request rate quota per account.
  quotas: { AssumeRole: { ratePerSecond: 600 } },
};

export interface StsOptions {
  principals: Principals;
  /** Whether an account exists (AssumeRole into any other is denied). */
  accountExists: (accountId: string) => boolean;
  /** The ExternalId every role's trust policy requires; none when unset. */
  externalId?: string;
  behaviour?: ServiceBehaviour;
}

const ROLE_ARN = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;

/**
 * @example
 * const sts = new StsModel({ principals, accountExists: (id) => org.has(id), externalId: "x" });
 */
export class StsModel extends ServiceModel {
  protected readonly operations: Record<string, Operation>;

  constructor(private readonly options: StsOptions) {
    super(
      "STS",
      { kind: "query", host: "sts", xmlns: "https://sts.amazonaws.com/doc/2011-06-15/" },
      { code: "Throttling", message: "Rate exceeded" },
      options.behaviour ?? STS_DEFAULTS,
    );
    this.operations = {
      AssumeRole: (input, caller) => this.assumeRole(input, caller),
      GetCallerIdentity: (_input, caller) => ({
        UserId: `AIDASIM${caller}`,
        Account: caller,
        Arn: `arn:aws:iam::${caller}:user/sim`,
      }),
    };
  }

  private assumeRole(input: Record<string, unknown>, caller: string) {
    const roleArn = requireString(input, "RoleArn");
    const session = requireString(input, "RoleSessionName");
    const match = ROLE_ARN.exec(roleArn);
    const denied = () =>
      new AwsError(
        "AccessDenied",
        `User: arn:aws:sts::${caller}:assumed-role/lambda-svid-issuer/sim is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
        403,
      );
    if (!match) throw new AwsError("ValidationError", `${roleArn} is not a valid role ARN`);
    const [, account, role] = match as unknown as [string, string, string];
    if (!this.options.accountExists(account)) throw denied();
    if (this.options.externalId !== undefined && input.ExternalId !== this.options.externalId) {
      throw denied();
    }
    const seconds = Number(input.DurationSeconds ?? 3600);
    const key = this.options.principals.issue(account, seconds * 1000);
    return {
      Credentials: {
        AccessKeyId: key.accessKeyId,
        SecretAccessKey: key.secretAccessKey,
        SessionToken: key.sessionToken,
        Expiration: key.expiration,
      },
      AssumedRoleUser: {
        AssumedRoleId: `AROASIM${account}:${session}`,
        Arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
      },
    };
  }
}
