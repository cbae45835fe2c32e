import type { SpiffeId } from "../../../layers/spiffe/index.ts";
import { type Identity, type IdTemplate, identityLabel } from "../identity.ts";

/** An identity as the registry states it, before validation. */
export interface RegistryEntry {
  service: unknown;
  environment: unknown;
  accountId: unknown;
  /** Where the entry came from, for reports: `file entry 3`, `account 111122223333`. */
  origin: string;
}

/** A registry entry that was skipped, with the reason. */
export interface RegistryProblem {
  origin: string;
  reason: string;
}

/** A validated identity with its SPIFFE ID. */
export interface ResolvedIdentity extends Identity {
  spiffeId: SpiffeId;
}

const ACCOUNT_ID = /^\d{12}$/;

/**
 * Validates registry entries one by one: each bad entry is reported and
 * skipped, the good ones proceed. Rules: a 12-digit account id; a service and
 * environment that form a valid SPIFFE ID through `template`; an exact
 * duplicate is kept once; two different identities claiming one account are
 * both refused (no way to tell which is right); when `members` is given, an
 * account outside the Organization is refused.
 */
export function resolveEntries(
  entries: readonly RegistryEntry[],
  template: IdTemplate,
  members?: ReadonlySet<string>,
): { identities: ResolvedIdentity[]; problems: RegistryProblem[] } {
  const problems: RegistryProblem[] = [];
  const byAccount = new Map<string, { identity: ResolvedIdentity; origin: string }>();
  const conflicted = new Set<string>();

  for (const entry of entries) {
    const reason = checkShape(entry);
    if (reason !== undefined) {
      problems.push({ origin: entry.origin, reason });
      continue;
    }
    const identity: Identity = {
      service: entry.service as string,
      environment: entry.environment as string,
      accountId: entry.accountId as string,
    };
    if (members !== undefined && !members.has(identity.accountId)) {
      problems.push({
        origin: entry.origin,
        reason: `account ${identity.accountId} is not an active member of the Organization`,
      });
      continue;
    }
    let spiffeId: SpiffeId;
    try {
      spiffeId = template.render(identity);
    } catch (err) {
      problems.push({ origin: entry.origin, reason: (err as Error).message });
      continue;
    }
    const existing = byAccount.get(identity.accountId);
    if (existing === undefined) {
      byAccount.set(identity.accountId, {
        identity: { ...identity, spiffeId },
        origin: entry.origin,
      });
    } else if (existing.identity.spiffeId.equals(spiffeId)) {
      problems.push({
        origin: entry.origin,
        reason: `duplicate of ${existing.origin} (${identityLabel(identity)})`,
      });
    } else {
      conflicted.add(identity.accountId);
      problems.push({
        origin: entry.origin,
        reason: `account ${identity.accountId} is also claimed by ${existing.origin} as ${existing.identity.spiffeId.toString()}; neither is issued`,
      });
    }
  }

  const identities: ResolvedIdentity[] = [];
  for (const [accountId, { identity, origin }] of byAccount) {
    if (conflicted.has(accountId)) {
      problems.push({
        origin,
        reason: `account ${accountId} is claimed by more than one identity; neither is issued`,
      });
    } else {
      identities.push(identity);
    }
  }
  return { identities, problems };
}

function checkShape(entry: RegistryEntry): string | undefined {
  for (const field of ["service", "environment", "accountId"] as const) {
    if (typeof entry[field] !== "string" || entry[field] === "") {
      return `${field} is missing or not a string`;
    }
  }
  if (!ACCOUNT_ID.test(entry.accountId as string)) {
    return `accountId ${JSON.stringify(entry.accountId)} is not a 12-digit AWS account id`;
  }
  return undefined;
}
