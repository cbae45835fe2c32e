import { type SpiffeId, SpiffeIdError } from "../../../layers/spiffe/index.ts";
import { IdTemplateError } from "../errors.ts";
import { type Identity, type IdTemplate, identityLabel } from "../identity.ts";

const FIELDS = ["service", "environment", "accountId"] as const;
export type RegistryField = (typeof FIELDS)[number];

/** An identity as the registry states it, before validation. */
export interface RegistryEntry {
  service: unknown;
  environment: unknown;
  accountId: unknown;
  /**
   * `true` when the registry says this entry's SPIFFE ID is shared with other
   * accounts on purpose (file field `spansAccounts`, account tag
   * `lambda-svid:spans-accounts`); absent means `false`.
   */
  spansAccounts?: unknown;
  /** How a field that is not a string was written in the file, e.g. YAML's unquoted `012345678901`. */
  written?: Partial<Record<RegistryField, string>>;
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
 * both refused (no way to tell which is right); one SPIFFE ID claimed by
 * several accounts is refused in all of them unless every claim says the
 * identity spans accounts; when `members` is given, an account outside the
 * Organization is refused.
 *
 * @example
 * const { identities, problems } = resolveEntries(
 *   [{ service: "web", environment: "prod", accountId: "111122223333", origin: "file entry 0" }],
 *   IdTemplate.parse(IdTemplate.DEFAULT, parseTrustDomain("example.org")),
 * );
 */
export function resolveEntries(
  entries: readonly RegistryEntry[],
  template: IdTemplate,
  members?: ReadonlySet<string>,
): { identities: ResolvedIdentity[]; problems: RegistryProblem[] } {
  const problems: RegistryProblem[] = [];
  const byAccount = new Map<string, Claim>();
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
      if (!(err instanceof IdTemplateError || err instanceof SpiffeIdError)) throw err;
      problems.push({ origin: entry.origin, reason: err.message });
      continue;
    }
    const existing = byAccount.get(identity.accountId);
    if (existing === undefined) {
      byAccount.set(identity.accountId, {
        identity: { ...identity, spiffeId },
        origin: entry.origin,
        spansAccounts: entry.spansAccounts === true,
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

  const claims: Claim[] = [];
  for (const [accountId, claim] of byAccount) {
    if (conflicted.has(accountId)) {
      problems.push({
        origin: claim.origin,
        reason: `account ${accountId} is claimed by more than one identity; neither is issued`,
      });
    } else {
      claims.push(claim);
    }
  }

  const byId = new Map<string, Claim[]>();
  for (const claim of claims) {
    const id = claim.identity.spiffeId.toString();
    byId.set(id, [...(byId.get(id) ?? []), claim]);
  }
  const identities: ResolvedIdentity[] = [];
  for (const claim of claims) {
    const id = claim.identity.spiffeId.toString();
    const sharing = byId.get(id) as Claim[];
    if (sharing.length === 1 || sharing.every((c) => c.spansAccounts)) {
      identities.push(claim.identity);
      continue;
    }
    const others = sharing.filter((c) => c !== claim).map((c) => c.origin);
    problems.push({
      origin: claim.origin,
      reason: `${id} is also claimed by ${others.join(", ")}; ${others.length === 1 ? "neither" : "none"} is issued unless every claim says the identity spans accounts`,
    });
  }
  return { identities, problems };
}

/** One account's accepted entry, before SPIFFE IDs are compared across accounts. */
interface Claim {
  identity: ResolvedIdentity;
  origin: string;
  spansAccounts: boolean;
}

function checkShape(entry: RegistryEntry): string | undefined {
  for (const field of FIELDS) {
    const value = entry[field];
    if (value === undefined || value === null || value === "") return `${field} is missing`;
    if (typeof value !== "string") return notAString(field, value, entry.written?.[field]);
  }
  if (!ACCOUNT_ID.test(entry.accountId as string)) {
    return `accountId ${JSON.stringify(entry.accountId)} is not a 12-digit AWS account id`;
  }
  if (entry.spansAccounts !== undefined && typeof entry.spansAccounts !== "boolean") {
    return `spansAccounts is ${describeValue(entry.spansAccounts)}; expected true or false`;
  }
  return undefined;
}

/**
 * YAML reads an unquoted `012345678901` as the number 12345678901, losing the
 * leading zero, so the message shows what was read, how it was written, and
 * the quoted form that keeps it.
 */
function notAString(field: RegistryField, value: unknown, written: string | undefined): string {
  const scalar =
    typeof value === "number" || typeof value === "boolean" || typeof value === "bigint";
  if (!scalar) return `${field} is ${describeValue(value)}, not a string`;
  const text = written ?? String(value);
  const as = written === undefined ? "" : ` (written ${written})`;
  return `${field} is ${describeValue(value)}${as}, not a string; write it in quotes: ${JSON.stringify(text)}`;
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return `the string ${JSON.stringify(value)}`;
    case "number":
    case "boolean":
    case "bigint":
      return `the ${typeof value} ${String(value)}`;
    default:
      return `an ${typeof value}`;
  }
}
