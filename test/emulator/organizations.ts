/**
 * AWS Organizations fixtures: an organization of tagged member accounts, the
 * identity registry the issuer reads.
 *
 * Each organization gets a fresh random management account, so test files running
 * in parallel against one emulator each see only their own organization.
 *
 * Moto differs from AWS here: CreateAccount succeeds at once (AWS answers
 * IN_PROGRESS and finishes minutes later), and CloseAccount moves an account
 * straight to SUSPENDED (AWS passes through PENDING_CLOSURE).
 */
import {
  CloseAccountCommand,
  CreateAccountCommand,
  CreateOrganizationCommand,
  OrganizationsClient,
  TagResourceCommand,
} from "@aws-sdk/client-organizations";
import type { AwsCredentialIdentityProvider } from "@smithy/types";
import { clientConfigForAccount, randomAccountId } from "./accounts.ts";

/** Enough parallel requests to create dozens of accounts in about a second. */
const CONCURRENCY = 8;

export type AccountStatus = "ACTIVE" | "SUSPENDED";

export interface AccountSpec {
  name: string;
  tags?: Record<string, string>;
  /** "SUSPENDED" closes the account after creating it. Defaults to "ACTIVE". */
  status?: AccountStatus;
}

export interface MemberAccount {
  id: string;
  name: string;
  tags: Record<string, string>;
  status: AccountStatus;
}

export interface Organization {
  managementAccountId: string;
  /** Management account credentials, for `new OrganizationsClient({ credentials })`. */
  credentials: AwsCredentialIdentityProvider;
  /** Member accounts in the order asked for; ListAccounts also returns the management account. */
  accounts: MemberAccount[];
}

/**
 * Creates an organization with the given member accounts, tagged and closed as asked.
 *
 * @example
 * const org = await createOrganization({
 *   accounts: [
 *     { name: "payments-prod", tags: { "lambda-svid:service": "payments" } },
 *     { name: "legacy", status: "SUSPENDED" },
 *   ],
 * });
 * const client = new OrganizationsClient({ credentials: org.credentials });
 */
export async function createOrganization(spec: { accounts: AccountSpec[] }): Promise<Organization> {
  const managementAccountId = randomAccountId();
  const { credentials } = clientConfigForAccount(managementAccountId);
  const client = new OrganizationsClient({ credentials });
  await client.send(new CreateOrganizationCommand({ FeatureSet: "ALL" }));
  const accounts = await mapLimited(spec.accounts, CONCURRENCY, (account) =>
    createMember(client, managementAccountId, account),
  );
  return { managementAccountId, credentials, accounts };
}

async function createMember(
  client: OrganizationsClient,
  managementAccountId: string,
  { name, tags = {}, status = "ACTIVE" }: AccountSpec,
): Promise<MemberAccount> {
  const { CreateAccountStatus: created } = await client.send(
    new CreateAccountCommand({
      AccountName: name,
      Email: `${name.replace(/[^\w.-]/g, "-")}.${managementAccountId}@example.com`,
    }),
  );
  const id = created?.AccountId;
  if (created?.State !== "SUCCEEDED" || id === undefined) {
    throw new Error(`organizations: CreateAccount ${name} did not succeed: ${created?.State}`);
  }
  if (Object.keys(tags).length > 0) {
    await client.send(
      new TagResourceCommand({
        ResourceId: id,
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
  }
  if (status === "SUSPENDED") await client.send(new CloseAccountCommand({ AccountId: id }));
  return { id, name, tags, status };
}

/** Like `Promise.all(items.map(fn))` with at most `limit` calls in flight, results in order. */
async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Sets tags on a member account after the fact, as an administrator would
 * (the change an Organizations event reports).
 *
 * @example
 * await tagAccount(org, account.id, { "lambda-svid:service": "renamed" });
 */
export async function tagAccount(
  org: Organization,
  accountId: string,
  tags: Record<string, string>,
): Promise<void> {
  const client = new OrganizationsClient({ credentials: org.credentials });
  await client.send(
    new TagResourceCommand({
      ResourceId: accountId,
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
}
