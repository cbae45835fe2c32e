import type { Logger } from "@aws-lambda-powertools/logger";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { deadlineSignal, mapConcurrent } from "../../lib/limits/index.ts";
import type { CertificateAuthority } from "./ca/port.ts";
import {
  describeIdentity,
  type IdentityResult,
  type IssueSettings,
  issueIdentity,
  type Outcome,
} from "./issue.ts";
import type { RegistryProblem, ResolvedIdentity } from "./registry/entries.ts";

export {
  BACKDATE_MS,
  DEADLINE_REASON,
  type IdentityResult,
  type IssueSettings,
  type Outcome,
  type Stage,
  VALIDITY_SKEW_MS,
} from "./issue.ts";

/** What one run is asked to do: everything, or a subset; `force` renews fresh SVIDs too. */
export interface IssuerRequest {
  force: boolean;
  accounts?: readonly string[];
  services?: readonly string[];
  environments?: readonly string[];
  /** Accounts an Organizations event says changed: the planner reads their tags first. */
  changedAccounts?: readonly string[];
  /** An Organizations event changed membership in a way that names no account: list again. */
  relist?: boolean;
}

export interface RunReport {
  trustDomain: string;
  ca: string;
  startedAt: string;
  finishedAt: string;
  counts: Record<Outcome | "invalid", number>;
  identities: IdentityResult[];
  invalid: RegistryProblem[];
  /** Lowest remaining lifetime of any SVID after the run, in seconds; `undefined` when none is known. */
  minSecondsToExpiry: number | undefined;
  /** The deadline (minus the margin) cut the run short: some work was abandoned or not started. */
  deadlineReached: boolean;
  /** `false` when the deadline came before the registry was read, so no identity is known. */
  registryRead: boolean;
}

/** Everything a run needs, injected so tests and `npm start` run the same code as the handler. */
export interface IssuerDeps {
  settings: IssueSettings;
  ca: CertificateAuthority;
  tenants: {
    secretsManager(identity: ResolvedIdentity, signal?: AbortSignal): Promise<SecretsManagerClient>;
  };
  registry: (
    signal: AbortSignal,
  ) => Promise<{ identities: ResolvedIdentity[]; problems: RegistryProblem[] }>;
  now: () => Date;
  /** Milliseconds until the run must have stopped (the Lambda deadline); `Infinity` outside Lambda. */
  remainingMs: () => number;
  logger: Logger;
  /** Told how many identities the run has and, after each, how many are done (the CLI's progress bar). */
  progress?: (done: number, total: number) => void;
}

/**
 * One issuer cycle: read the registry, and for each identity (bounded
 * concurrency) check freshness from the secret's tags, mint, sign, verify and
 * push. One identity's failure never stops the others. `deadlineMarginMs`
 * before the deadline an AbortSignal fires that every AWS call and wait
 * honours: no new identity starts, work in flight is abandoned, and both are
 * reported not reached, so the report is always returned in time.
 *
 * @example
 * const report = await runIssuer(deps, { force: false });
 */
export async function runIssuer(deps: IssuerDeps, request: IssuerRequest): Promise<RunReport> {
  const deadline = deadlineSignal(deps.remainingMs() - deps.settings.deadlineMarginMs);
  try {
    return await run(deps, request, deadline.signal);
  } finally {
    deadline.clear();
  }
}

async function run(
  deps: IssuerDeps,
  request: IssuerRequest,
  signal: AbortSignal,
): Promise<RunReport> {
  const { settings, logger } = deps;
  const startedAt = deps.now();
  let registry: Awaited<ReturnType<IssuerDeps["registry"]>>;
  try {
    registry = await deps.registry(signal);
  } catch (err) {
    if (!signal.aborted) throw err;
    logger.warn("registry not read before the deadline");
    return report(deps, startedAt, [], [], { registryRead: false, deadlineReached: true });
  }
  const { identities: all, problems } = registry;
  for (const problem of problems) {
    logger.warn("registry entry skipped", { origin: problem.origin, reason: problem.reason });
  }
  const identities = all.filter((identity) => wanted(identity, request));
  let done = 0;
  deps.progress?.(done, identities.length);
  const bundle = await deps.ca.bundle(signal).catch((err: unknown) => {
    if (!signal.aborted) throw err;
    return undefined;
  });

  const results =
    bundle === undefined
      ? identities.map(() => undefined)
      : await mapConcurrent(
          identities,
          settings.concurrency,
          async (identity) => {
            const result = await issueIdentity(
              { ...deps, bundle },
              { identity, mode: "if-due", force: request.force },
              signal,
            );
            deps.progress?.(++done, identities.length);
            return result;
          },
          () => !signal.aborted && deps.remainingMs() > settings.deadlineMarginMs,
        );
  const finished: IdentityResult[] = results.map(
    (result, i) =>
      result ?? { ...describeIdentity(identities[i] as ResolvedIdentity), outcome: "not-reached" },
  );
  for (const result of finished) {
    if (result.outcome === "not-reached")
      logger.warn("not reached before the deadline", {
        identity: result.identity,
        ...(result.stage ? { stage: result.stage } : {}),
      });
  }
  return report(deps, startedAt, finished, problems, {
    registryRead: true,
    deadlineReached: signal.aborted || finished.some((r) => r.outcome === "not-reached"),
  });
}

function report(
  deps: IssuerDeps,
  startedAt: Date,
  finished: IdentityResult[],
  problems: RegistryProblem[],
  flags: { registryRead: boolean; deadlineReached: boolean },
): RunReport {
  const { settings } = deps;
  const now = deps.now();
  const remaining = finished
    .filter((r) => r.notAfter !== undefined)
    .map((r) => Math.floor((Date.parse(r.notAfter as string) - now.getTime()) / 1000));
  const counts = {
    issued: 0,
    "skipped-fresh": 0,
    failed: 0,
    "not-reached": 0,
    invalid: problems.length,
  };
  for (const r of finished) counts[r.outcome]++;
  return {
    trustDomain: settings.trustDomain,
    ca: deps.ca.description,
    startedAt: startedAt.toISOString(),
    finishedAt: now.toISOString(),
    counts,
    identities: finished,
    invalid: problems,
    minSecondsToExpiry: remaining.length > 0 ? Math.min(...remaining) : undefined,
    ...flags,
  };
}

/** The identity is within the request's accounts, services and environments (each when given). */
export function wanted(identity: ResolvedIdentity, request: IssuerRequest): boolean {
  return (
    (request.accounts === undefined || request.accounts.includes(identity.accountId)) &&
    (request.services === undefined || request.services.includes(identity.service)) &&
    (request.environments === undefined || request.environments.includes(identity.environment))
  );
}
