import {
  AccessDeniedException,
  type Account,
  AWSOrganizationsNotInUseException,
  ListAccountsCommand,
  ListTagsForResourceCommand,
  type OrganizationsClient,
  type Tag,
} from "@aws-sdk/client-organizations";
import { mapConcurrent, RateLimiter } from "../../limits/index.ts";
import type { AccountTagKeys } from "../config.ts";
import type { RegistryEntry, RegistryProblem } from "./entries.ts";

/** An Organization member account with its tags. */
export interface MemberAccount {
  id: string;
  status: string;
  tags: Record<string, string>;
}

export interface OrganizationsOptions {
  /** Requests per second to Organizations across both operations. */
  ratePerSecond: number;
  /** ListTagsForResource calls in flight at once. */
  concurrency?: number;
}

/**
 * Lists the active member accounts (paginated ListAccounts; suspended and
 * closed accounts are left out). Returns `undefined` when there is no
 * Organization or the caller may not read it, so a file registry can still run.
 */
export async function listActiveAccounts(
  client: OrganizationsClient,
  limiter: RateLimiter,
): Promise<Account[] | undefined> {
  const accounts: Account[] = [];
  let token: string | undefined;
  try {
    do {
      await limiter.acquire();
      const page = await client.send(new ListAccountsCommand({ NextToken: token, MaxResults: 20 }));
      accounts.push(...(page.Accounts ?? []).filter(isActive));
      token = page.NextToken;
    } while (token);
  } catch (err) {
    if (err instanceof AWSOrganizationsNotInUseException || err instanceof AccessDeniedException) {
      return undefined;
    }
    throw err;
  }
  return accounts;
}

/**
 * Reads every active member account and its tags. Organizations throttles
 * early, and this needs one ListTagsForResource per account, so calls are
 * rate limited and bounded; the client's own retry handles what throttling
 * still happens.
 */
export async function readOrganization(
  client: OrganizationsClient,
  options: OrganizationsOptions,
): Promise<MemberAccount[]> {
  const limiter = new RateLimiter(options.ratePerSecond);
  const accounts = await listActiveAccounts(client, limiter);
  if (accounts === undefined) {
    throw new Error(
      "registry: the Organization is not available to the issuer (not in use, or access denied)",
    );
  }
  const withTags = await mapConcurrent(accounts, options.concurrency ?? 4, async (account) => ({
    id: account.Id as string,
    status: statusOf(account),
    tags: await accountTags(client, limiter, account.Id as string),
  }));
  return withTags.filter((a): a is MemberAccount => a !== undefined);
}

/**
 * Turns tagged accounts into registry entries. An account takes part when its
 * enabled tag is exactly `true`; then it must carry the service and
 * environment tags, or it is reported.
 */
export function entriesFromAccounts(
  accounts: readonly MemberAccount[],
  keys: AccountTagKeys,
): { entries: RegistryEntry[]; problems: RegistryProblem[] } {
  const entries: RegistryEntry[] = [];
  const problems: RegistryProblem[] = [];
  for (const account of accounts) {
    const enabled = account.tags[keys.enabled];
    if (enabled === undefined || enabled.toLowerCase() === "false") continue;
    const origin = `account ${account.id}`;
    if (enabled !== "true") {
      problems.push({
        origin,
        reason: `tag ${keys.enabled} is ${JSON.stringify(enabled)}; expected true or false`,
      });
      continue;
    }
    const missing = [keys.service, keys.environment].filter((k) => !account.tags[k]);
    if (missing.length > 0) {
      problems.push({ origin, reason: `enabled but missing tag ${missing.join(" and ")}` });
      continue;
    }
    entries.push({
      service: account.tags[keys.service],
      environment: account.tags[keys.environment],
      accountId: account.id,
      origin,
    });
  }
  return { entries, problems };
}

async function accountTags(
  client: OrganizationsClient,
  limiter: RateLimiter,
  accountId: string,
): Promise<Record<string, string>> {
  const tags: Tag[] = [];
  let token: string | undefined;
  do {
    await limiter.acquire();
    const page = await client.send(
      new ListTagsForResourceCommand({ ResourceId: accountId, NextToken: token }),
    );
    tags.push(...(page.Tags ?? []));
    token = page.NextToken;
  } while (token);
  return Object.fromEntries(tags.map((t) => [t.Key as string, t.Value ?? ""]));
}

/** `State` replaces the deprecated `Status` in newer API versions; read either. */
function statusOf(account: Account): string {
  return (account as { State?: string }).State ?? account.Status ?? "UNKNOWN";
}

function isActive(account: Account): boolean {
  return statusOf(account) === "ACTIVE" && account.Id !== undefined;
}
