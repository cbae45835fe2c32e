import {
  AccessDeniedException,
  type Account,
  AWSOrganizationsNotInUseException,
  ListAccountsCommand,
  ListTagsForResourceCommand,
  type OrganizationsClient,
  type Tag,
} from "@aws-sdk/client-organizations";
import { DeadlineError, mapConcurrent, RateLimiter } from "../../../lib/limits/index.ts";
import type { AccountTagKeys } from "../config.ts";
import { RegistryError, RegistryReason } from "../errors.ts";
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
  /** The run's deadline: aborts every call and wait. */
  signal?: AbortSignal;
}

/**
 * Lists the active member accounts (paginated ListAccounts; suspended and
 * closed accounts are left out). Returns `undefined` when there is no
 * Organization or the caller may not read it, so a file registry can still run.
 *
 * @throws {DeadlineError} when `signal` aborts first.
 */
export async function listActiveAccounts(
  client: OrganizationsClient,
  limiter: RateLimiter,
  signal?: AbortSignal,
): Promise<Account[] | undefined> {
  const accounts: Account[] = [];
  let token: string | undefined;
  try {
    do {
      await limiter.acquire(signal);
      const page = await client.send(
        new ListAccountsCommand({ NextToken: token, MaxResults: 20 }),
        { abortSignal: signal },
      );
      accounts.push(...(page.Accounts ?? []).filter(isActive));
      token = page.NextToken;
    } while (token);
  } catch (err) {
    throwIfPastDeadline(signal);
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
 * still happens. An account whose tags cannot be read (gone since the
 * listing, access denied, throttled past the retries) is that account's
 * problem; the others are returned.
 *
 * @throws {DeadlineError} when `options.signal` aborts first.
 * @throws {RegistryError} `ORGANIZATION_UNAVAILABLE` when there is no Organization or it may not be read.
 * @example
 * const { accounts, problems } = await readOrganization(new OrganizationsClient({}), { ratePerSecond: 8 });
 */
export async function readOrganization(
  client: OrganizationsClient,
  options: OrganizationsOptions,
): Promise<{ accounts: MemberAccount[]; problems: RegistryProblem[] }> {
  const { signal } = options;
  const limiter = new RateLimiter(options.ratePerSecond);
  const listed = await listActiveAccounts(client, limiter, signal);
  if (listed === undefined) {
    throw new RegistryError(RegistryReason.ORGANIZATION_UNAVAILABLE);
  }
  const problems: RegistryProblem[] = [];
  const read = await mapConcurrent(
    listed,
    options.concurrency ?? 4,
    async (account): Promise<MemberAccount | undefined> => {
      const id = account.Id as string;
      try {
        return {
          id,
          status: statusOf(account),
          tags: await accountTags(client, limiter, id, signal),
        };
      } catch (err) {
        throwIfPastDeadline(signal);
        const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        problems.push({ origin: `account ${id}`, reason: `tags could not be read: ${reason}` });
        return undefined;
      }
    },
    () => !signal?.aborted,
  );
  if (signal?.aborted) throw signal.reason;
  return { accounts: read.filter((a): a is MemberAccount => a !== undefined), problems };
}

/**
 * Turns tagged accounts into registry entries. An account takes part when its
 * enabled tag is exactly `true`; then it must carry the service and
 * environment tags, or it is reported. The spans-accounts tag, `true` or
 * `false` when present, says whether the account's SPIFFE ID may be shared.
 *
 * @example
 * const { entries, problems } = entriesFromAccounts(accounts, config.tagKeys);
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
    const spans = account.tags[keys.spansAccounts];
    if (spans !== undefined && spans !== "true" && spans !== "false") {
      problems.push({
        origin,
        reason: `tag ${keys.spansAccounts} is ${JSON.stringify(spans)}; expected true or false`,
      });
      continue;
    }
    entries.push({
      service: account.tags[keys.service],
      environment: account.tags[keys.environment],
      accountId: account.id,
      origin,
      spansAccounts: spans === "true",
    });
  }
  return { entries, problems };
}

/**
 * One account's tags, every page, each call rate limited.
 *
 * @example
 * const tags = await accountTags(client, new RateLimiter(8), "111122223333", signal);
 */
export async function accountTags(
  client: OrganizationsClient,
  limiter: RateLimiter,
  accountId: string,
  signal: AbortSignal | undefined,
): Promise<Record<string, string>> {
  const tags: Tag[] = [];
  let token: string | undefined;
  do {
    await limiter.acquire(signal);
    const page = await client.send(
      new ListTagsForResourceCommand({ ResourceId: accountId, NextToken: token }),
      { abortSignal: signal },
    );
    tags.push(...(page.Tags ?? []));
    token = page.NextToken;
  } while (token);
  return Object.fromEntries(tags.map((t) => [t.Key as string, t.Value ?? ""]));
}

/** Whatever a call failed with once the deadline has passed, the deadline is the cause. */
function throwIfPastDeadline(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason ?? new DeadlineError();
}

/** `State` replaces the deprecated `Status` in newer API versions; read either. */
function statusOf(account: Account): string {
  return (account as { State?: string }).State ?? account.Status ?? "UNKNOWN";
}

function isActive(account: Account): boolean {
  return statusOf(account) === "ACTIVE" && account.Id !== undefined;
}
