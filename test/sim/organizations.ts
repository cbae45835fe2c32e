/**
 * Organizations (JSON 1.1): member accounts with tags. ListAccounts pages of
 * at most 20, ListTagsForResource, DescribeAccount; `setTags` and `add` let a
 * simulation change the organization without an API call, as someone else's
 * change (a tag edited in the console) looks to the issuer.
 */
import { AwsError } from "./errors.ts";
import { type Operation, requireString, type ServiceBehaviour, ServiceModel } from "./service.ts";

/** Organizations' latency and per-operation request rates (AWS throttles it early). */
export const ORGANIZATIONS_DEFAULTS: ServiceBehaviour = {
  latencyMs: { default: 60 },
  quotas: {
    ListAccounts: { ratePerSecond: 10 },
    ListTagsForResource: { ratePerSecond: 10 },
    DescribeAccount: { ratePerSecond: 10 },
  },
};

export interface ModelAccount {
  id: string;
  name: string;
  status: "ACTIVE" | "SUSPENDED" | "PENDING_CLOSURE";
  joinedAt: Date;
  tags: Map<string, string>;
}

const PAGE = 20;

/**
 * @example
 * const org = new OrganizationsModel("999999999999");
 * org.add("111111111111", { "lambda-svid:enabled": "true" });
 */
export class OrganizationsModel extends ServiceModel {
  protected readonly operations: Record<string, Operation>;
  private readonly accounts = new Map<string, ModelAccount>();
  private order: string[] = [];

  constructor(
    /** The organization's management account, itself a member. */
    readonly managementAccount: string,
    behaviour: ServiceBehaviour = ORGANIZATIONS_DEFAULTS,
  ) {
    super(
      "Organizations",
      { kind: "json", target: "AWSOrganizationsV20161128", version: "1.1" },
      {
        code: "TooManyRequestsException",
        message:
          "AWS Organizations can't complete your request because another request is already in progress. Try again later.",
      },
      behaviour,
    );
    this.add(managementAccount, {});
    this.operations = {
      ListAccounts: (input) => this.listAccounts(input),
      ListTagsForResource: (input) => ({
        Tags: [
          ...this.account(
            requireString(input, "ResourceId", "InvalidInputException"),
            "TargetNotFoundException",
          ).tags,
        ].map(([Key, Value]) => ({ Key, Value })),
      }),
      DescribeAccount: (input) => ({
        Account: this.wire(
          this.account(
            requireString(input, "AccountId", "InvalidInputException"),
            "AccountNotFoundException",
          ),
        ),
      }),
    };
  }

  /** Adds a member account with its tags. */
  add(id: string, tags: Record<string, string>, name = `account-${id}`): ModelAccount {
    const account: ModelAccount = {
      id,
      name,
      status: "ACTIVE",
      joinedAt: new Date(),
      tags: new Map(Object.entries(tags)),
    };
    if (!this.accounts.has(id)) this.order.push(id);
    this.accounts.set(id, account);
    return account;
  }

  has(id: string): boolean {
    return this.accounts.has(id);
  }

  /** Replaces (`value`) or removes (`undefined`) tags of an account, as a change outside the issuer does. */
  setTags(id: string, tags: Record<string, string | undefined>): void {
    const account = this.account(id, "TargetNotFoundException");
    for (const [k, v] of Object.entries(tags)) {
      if (v === undefined) account.tags.delete(k);
      else account.tags.set(k, v);
    }
  }

  /** Takes an account out of the organization. */
  remove(id: string): void {
    this.accounts.delete(id);
    this.order = this.order.filter((a) => a !== id);
  }

  private listAccounts(input: Record<string, unknown>) {
    const max = input.MaxResults === undefined ? PAGE : Number(input.MaxResults);
    if (!(max >= 1 && max <= PAGE)) {
      throw new AwsError(
        "InvalidInputException",
        "You provided a value that does not match the required pattern.",
      );
    }
    const start = input.NextToken === undefined ? 0 : Number.parseInt(String(input.NextToken), 36);
    if (!(start >= 0 && start <= this.order.length)) {
      throw new AwsError("InvalidInputException", "The provided NextToken is not valid.");
    }
    const ids = this.order.slice(start, start + max);
    const next = start + ids.length;
    return {
      Accounts: ids.map((id) => this.wire(this.accounts.get(id) as ModelAccount)),
      ...(next < this.order.length ? { NextToken: next.toString(36) } : {}),
    };
  }

  private account(id: string, notFound: string): ModelAccount {
    const account = this.accounts.get(id);
    if (account === undefined) {
      throw new AwsError(notFound, `You specified an account that doesn't exist.`);
    }
    return account;
  }

  private wire(a: ModelAccount) {
    return {
      Id: a.id,
      Arn: `arn:aws:organizations::${this.managementAccount}:account/o-sim/${a.id}`,
      Email: `${a.id}@example.org`,
      Name: a.name,
      Status: a.status,
      State: a.status,
      JoinedMethod: "CREATED",
      JoinedTimestamp: a.joinedAt.getTime() / 1000,
    };
  }
}
