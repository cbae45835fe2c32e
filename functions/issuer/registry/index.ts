/**
 * The registry of identities with Lambda identity enabled: from AWS
 * Organizations account tags, or from a JSON/YAML file checked against the
 * Organization's membership when the Organization is readable.
 */
import type { OrganizationsClient } from "@aws-sdk/client-organizations";
import { RateLimiter } from "../../../lib/limits/index.ts";
import type { IssuerConfig } from "../config.ts";
import { type RegistryProblem, type ResolvedIdentity, resolveEntries } from "./entries.ts";
import { readRegistryFile } from "./file.ts";
import { entriesFromAccounts, listActiveAccounts, readOrganization } from "./organizations.ts";

export type { RegistryEntry, RegistryProblem, ResolvedIdentity } from "./entries.ts";
export { resolveEntries } from "./entries.ts";
export { readRegistryFile } from "./file.ts";
export { entriesFromAccounts, type MemberAccount, readOrganization } from "./organizations.ts";

/**
 * Reads and validates the configured registry. Bad entries come back as
 * problems, one each (an account whose tags cannot be read is one); the rest
 * are identities to issue for.
 *
 * @throws {DeadlineError} when `signal` aborts before the registry is read.
 * @example
 * const { identities, problems } = await loadRegistry(config, new OrganizationsClient({}));
 */
export async function loadRegistry(
  config: IssuerConfig,
  organizations: OrganizationsClient,
  signal?: AbortSignal,
): Promise<{ identities: ResolvedIdentity[]; problems: RegistryProblem[] }> {
  if (config.registry.kind === "organizations") {
    const read = await readOrganization(organizations, {
      ratePerSecond: config.organizationsRate,
      ...(signal === undefined ? {} : { signal }),
    });
    const { entries, problems } = entriesFromAccounts(read.accounts, config.tagKeys);
    const resolved = resolveEntries(entries, config.idTemplate);
    return {
      identities: resolved.identities,
      problems: [...read.problems, ...problems, ...resolved.problems],
    };
  }
  const entries = await readRegistryFile(config.registry.path);
  const members = await listActiveAccounts(
    organizations,
    new RateLimiter(config.organizationsRate),
    signal,
  );
  return resolveEntries(
    entries,
    config.idTemplate,
    members === undefined ? undefined : new Set(members.map((a) => a.Id as string)),
  );
}
