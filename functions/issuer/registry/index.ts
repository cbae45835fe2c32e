/**
 * The registry of identities with Lambda identity enabled: from AWS
 * Organizations account tags, or from a JSON/YAML file checked against the
 * Organization's membership when the Organization is readable.
 */
import type { OrganizationsClient } from "@aws-sdk/client-organizations";
import { RateLimiter } from "../../../lib/limits/index.ts";
import type { AccountTagKeys, RegistrySource } from "../config.ts";
import type { IdTemplate } from "../identity.ts";
import { type RegistryProblem, type ResolvedIdentity, resolveEntries } from "./entries.ts";
import { readRegistryFile } from "./file.ts";
import { entriesFromAccounts, listActiveAccounts, readOrganization } from "./organizations.ts";

export type { RegistryEntry, RegistryProblem, ResolvedIdentity } from "./entries.ts";
export { resolveEntries } from "./entries.ts";
export { readRegistryFile } from "./file.ts";
export {
  accountTags,
  entriesFromAccounts,
  listActiveAccounts,
  type MemberAccount,
  readOrganization,
} from "./organizations.ts";

/** What reading the registry needs of the issuer's configuration. */
export interface RegistryOptions {
  source: RegistrySource;
  /** Account tags that enable and describe an identity (Organizations source). */
  tagKeys: AccountTagKeys;
  idTemplate: IdTemplate;
  /** Organizations API calls per second. */
  organizationsRate: number;
}

/**
 * Reads and validates the configured registry. Bad entries come back as
 * problems, one each (an account whose tags cannot be read is one); the rest
 * are identities to issue for.
 *
 * @throws {DeadlineError} when `signal` aborts before the registry is read.
 * @example
 * const { identities, problems } = await loadRegistry(
 *   { source: { kind: "organizations" }, tagKeys, idTemplate, organizationsRate: 5 },
 *   new OrganizationsClient({}),
 * );
 */
export async function loadRegistry(
  options: RegistryOptions,
  organizations: OrganizationsClient,
  signal?: AbortSignal,
): Promise<{ identities: ResolvedIdentity[]; problems: RegistryProblem[] }> {
  if (options.source.kind === "organizations") {
    const read = await readOrganization(organizations, {
      ratePerSecond: options.organizationsRate,
      ...(signal === undefined ? {} : { signal }),
    });
    const { entries, problems } = entriesFromAccounts(read.accounts, options.tagKeys);
    const resolved = resolveEntries(entries, options.idTemplate);
    return {
      identities: resolved.identities,
      problems: [...read.problems, ...problems, ...resolved.problems],
    };
  }
  const entries = await readRegistryFile(options.source.path);
  const members = await listActiveAccounts(
    organizations,
    new RateLimiter(options.organizationsRate),
    signal,
  );
  return resolveEntries(
    entries,
    options.idTemplate,
    members === undefined ? undefined : new Set(members.map((a) => a.Id as string)),
  );
}
