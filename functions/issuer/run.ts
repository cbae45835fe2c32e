import type { Logger } from "@aws-lambda-powertools/logger";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { encodeSvidSecret, type X509Bundle } from "../../layers/spiffe/index.ts";
import { deadlineSignal, mapConcurrent } from "../../lib/limits/index.ts";
import { clientRequestToken, digest } from "../../lib/secrets/index.ts";
import type { CertificateAuthority } from "./ca/port.ts";
import { checkIssued } from "./check.ts";
import type { KeyAlgorithm, SecretFormat } from "./config.ts";
import { identityLabel } from "./identity.ts";
import { mintRequest } from "./mint.ts";
import type { RegistryProblem, ResolvedIdentity } from "./registry/entries.ts";
import { foreignSecret, readSecretState, type SecretState, writeSvidSecret } from "./tenant.ts";

/** How far notBefore is set in the past, so relying parties with a slow clock accept a new SVID. */
export const BACKDATE_MS = 60_000;
/** Tolerance when comparing the issued validity with the requested one. */
export const VALIDITY_SKEW_MS = 120_000;
/** The reason of an identity whose work the deadline cut short. */
export const DEADLINE_REASON = "issuer: the run's deadline was reached";

/** What one run is asked to do: everything, or a subset; `force` renews fresh SVIDs too. */
export interface IssuerRequest {
  force: boolean;
  accounts?: readonly string[];
  services?: readonly string[];
  environments?: readonly string[];
}

export type Outcome = "issued" | "skipped-fresh" | "failed" | "not-reached";
export type Stage = "access" | "describe" | "mint" | "sign" | "verify" | "push";

/** One identity's outcome; a `not-reached` one that had started names the stage the deadline cut short. */
export interface IdentityResult {
  identity: string;
  accountId: string;
  service: string;
  environment: string;
  spiffeId: string;
  outcome: Outcome;
  /** Not-after of the SVID the account holds after this run, when known. */
  notAfter?: string;
  /** Not-after of the SVID the account held before this run, when there was one of ours. */
  previousNotAfter?: string;
  stage?: Stage;
  reason?: string;
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

/** What a run needs of the issuer's configuration; `createIssuer` builds it from `IssuerConfig`. */
export interface IssueSettings {
  /** The trust domain's name, for the report. */
  trustDomain: string;
  secretName: string;
  secretFormat: SecretFormat;
  kmsKeyId: string | undefined;
  validityMs: number;
  renewBeforeMs: number;
  keyAlgorithm: KeyAlgorithm;
  /** Identities in flight at once. */
  concurrency: number;
  /** How long before the deadline the run stops starting and abandons work. */
  deadlineMarginMs: number;
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
          (identity) => processIdentity(deps, identity, bundle, request.force, signal),
          () => !signal.aborted && deps.remainingMs() > settings.deadlineMarginMs,
        );
  const finished: IdentityResult[] = results.map(
    (result, i) =>
      result ?? { ...describe(identities[i] as ResolvedIdentity), outcome: "not-reached" },
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

async function processIdentity(
  deps: IssuerDeps,
  identity: ResolvedIdentity,
  bundle: X509Bundle,
  force: boolean,
  signal: AbortSignal,
): Promise<IdentityResult> {
  const { settings } = deps;
  const base = describe(identity);
  const log = deps.logger.createChild({
    persistentKeys: {
      identity: base.identity,
      spiffeId: base.spiffeId,
      accountId: identity.accountId,
    },
  });
  let stage: Stage = "access";
  let state: SecretState | undefined;
  let sm: SecretsManagerClient | undefined;
  try {
    sm = await deps.tenants.secretsManager(identity, signal);
    stage = "describe";
    state = await readSecretState(sm, settings.secretName, signal);
    const fresh = freshUntil(state, base.spiffeId, deps.now(), settings.renewBeforeMs);
    if (fresh !== undefined && !force) {
      log.debug("fresh, skipped", { notAfter: fresh.toISOString() });
      return { ...base, outcome: "skipped-fresh", notAfter: fresh.toISOString() };
    }
    if (state.kind === "foreign") {
      stage = "push";
      throw foreignSecret(identity.accountId, settings.secretName);
    }

    const previous = state.kind === "owned" ? state.notAfter?.toISOString() : undefined;
    stage = "mint";
    const minted = mintRequest(identity.spiffeId, settings.keyAlgorithm);
    stage = "sign";
    const now = deps.now();
    const notBefore = new Date(now.getTime() - BACKDATE_MS);
    const notAfter = new Date(notBefore.getTime() + settings.validityMs);
    const signed = await deps.ca.sign(
      {
        csrPem: minted.csrPem,
        spiffeId: identity.spiffeId,
        notBefore,
        notAfter,
        idempotencyToken: digest(
          [
            base.spiffeId,
            identity.accountId,
            Math.floor(now.getTime() / Math.max(settings.renewBeforeMs, 60_000)),
            minted.spkiDer.toString("base64"),
          ],
          32,
        ),
      },
      signal,
    );
    stage = "verify";
    const svid = checkIssued(signed.chainPem, minted, bundle, {
      spiffeId: identity.spiffeId,
      notBefore,
      notAfter,
      skewMs: VALIDITY_SKEW_MS,
      now,
    });
    stage = "push";
    await writeSvidSecret(
      sm,
      identity.accountId,
      state,
      {
        name: settings.secretName,
        document: encodeSvidSecret(svid, bundle),
        format: settings.secretFormat,
        spiffeId: base.spiffeId,
        notAfter: svid.notAfter,
        clientRequestToken: clientRequestToken(base.spiffeId, svid.leaf.serialNumber),
        kmsKeyId: settings.kmsKeyId,
      },
      signal,
    );
    log.info("issued", {
      serialNumber: svid.leaf.serialNumber,
      notAfter: svid.notAfter.toISOString(),
    });
    return {
      ...base,
      outcome: "issued",
      notAfter: svid.notAfter.toISOString(),
      ...(previous ? { previousNotAfter: previous } : {}),
    };
  } catch (err) {
    const held = state?.kind === "owned" ? state.notAfter?.toISOString() : undefined;
    const kept = held ? { notAfter: held } : {};
    // Whatever a call failed with once the deadline passed, it was cut short, not broken.
    if (signal.aborted)
      return { ...base, outcome: "not-reached", stage, reason: DEADLINE_REASON, ...kept };
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    log.error("failed", { stage, reason });
    return { ...base, outcome: "failed", stage, reason, ...kept };
  } finally {
    // Each tenant client holds its own connections; a run over thousands of accounts must not keep them.
    sm?.destroy();
  }
}

/** The current SVID's not-after when it is ours, for this ID, and has more than `renewBeforeMs` left. */
function freshUntil(
  state: SecretState,
  spiffeId: string,
  now: Date,
  renewBeforeMs: number,
): Date | undefined {
  if (state.kind !== "owned" || state.scheduledForDeletion || state.spiffeId !== spiffeId)
    return undefined;
  if (state.notAfter === undefined) return undefined;
  return state.notAfter.getTime() - now.getTime() > renewBeforeMs ? state.notAfter : undefined;
}

function wanted(identity: ResolvedIdentity, request: IssuerRequest): boolean {
  return (
    (request.accounts === undefined || request.accounts.includes(identity.accountId)) &&
    (request.services === undefined || request.services.includes(identity.service)) &&
    (request.environments === undefined || request.environments.includes(identity.environment))
  );
}

function describe(identity: ResolvedIdentity): Omit<IdentityResult, "outcome"> {
  return {
    identity: identityLabel(identity),
    accountId: identity.accountId,
    service: identity.service,
    environment: identity.environment,
    spiffeId: identity.spiffeId.toString(),
  };
}
