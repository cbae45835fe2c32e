/**
 * The registry of identities with Lambda identity enabled: from AWS
 * Organizations account tags, or from a JSON/YAML file checked against the
 * Organization's membership when the Organization is readable.
 */
import type { OrganizationsClient } from "@aws-sdk/client-organizations";
import { RateLimiter } from "../../limits/index.ts";
import type { IssuerConfig } from "../config.ts";
import { type RegistryProblem, type ResolvedIdentity, resolveEntries } from "./entries.ts";
import { readRegistryFile } from "./file.ts";
import { entriesFromAccounts, listActiveAccounts, readOrganization } from "./organizations.ts";

export type { RegistryEntry, RegistryProblem, ResolvedIdentity } from "./entries.ts";
export { resolveEntries } from "./entries.ts";
export { RegistryFileError, readRegistryFile } from "./file.ts";
export { entriesFromAccounts, type MemberAccount, readOrganization } from "./organizations.ts";

/**
 * Reads and validates the configured registry. Bad entries come back as
 * problems, one each; the rest are identities to issue for.
 */
export async function loadRegistry(
  config: IssuerConfig,
  organizations: OrganizationsClient,
): Promise<{ identities: ResolvedIdentity[]; problems: RegistryProblem[] }> {
  if (config.registry.kind === "organizations") {
    const accounts = await readOrganization(organizations, {
      ratePerSecond: config.organizationsRate,
    });
    const { entries, problems } = entriesFromAccounts(accounts, config.tagKeys);
    const resolved = resolveEntries(entries, config.idTemplate);
    return { identities: resolved.identities, problems: [...problems, ...resolved.problems] };
  }
  const entries = await readRegistryFile(config.registry.path);
  const members = await listActiveAccounts(
    organizations,
    new RateLimiter(config.organizationsRate),
  );
  return resolveEntries(
    entries,
    config.idTemplate,
    members === undefined ? undefined : new Set(members.map((a) => a.Id as string)),
  );
}
