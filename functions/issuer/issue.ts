import type { Logger } from "@aws-lambda-powertools/logger";
import {
  InvalidRequestException,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { encodeSvidSecret, type X509Bundle } from "../../layers/spiffe/index.ts";
import { SVID_SECRET_OWNER, SvidSecretTag } from "../../layers/svid-secret/index.ts";
import { clientRequestToken, digest } from "../../lib/secrets/index.ts";
import type { CertificateAuthority } from "./ca/port.ts";
import { checkIssued } from "./check.ts";
import type { KeyAlgorithm, SecretFormat } from "./config.ts";
import { SvidWriteError, SvidWriteReason } from "./errors.ts";
import { identityLabel } from "./identity.ts";
import { mintRequest } from "./mint.ts";
import type { ResolvedIdentity } from "./registry/entries.ts";
import { foreignSecret, readSecretState, type SecretState, writeSvidSecret } from "./tenant.ts";

/** How far notBefore is set in the past, so relying parties with a slow clock accept a new SVID. */
export const BACKDATE_MS = 60_000;
/** Tolerance when comparing the issued validity with the requested one. */
export const VALIDITY_SKEW_MS = 120_000;
/** The reason of an identity whose work the deadline cut short. */
export const DEADLINE_REASON = "issuer: the run's deadline was reached";

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
  /** The secret holding the SVID and its current version, when known (not secret: names only). */
  secretArn?: string;
  versionId?: string;
  stage?: Stage;
  reason?: string;
  /** Set on a failure that the same request cannot fix by trying again (a foreign secret). */
  permanent?: boolean;
}

/** What issuing needs of the issuer's configuration. */
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

/** What the issuer recorded of its last write into the account (the worker's state item). */
export interface KnownSecret {
  secretArn?: string;
  versionId?: string;
  spiffeId?: string;
  notAfter?: string;
}

/**
 * How to treat one identity:
 * - `if-due`: describe the secret, issue only when it is not fresh (or `force`);
 * - `issue`: issue now, without asking first: with `known.secretArn` the
 *   secret is written by ARN, falling back to describing it when that write
 *   finds it gone, deleted, or not the issuer's; without, it is created, and
 *   described only when it turns out to exist;
 * - `check`: describe the secret and issue only when it is not what `known`
 *   says the issuer last wrote (changed, deleted, re-tagged) or not fresh.
 */
export type IssueMode = "if-due" | "issue" | "check";

export interface IssueTask {
  identity: ResolvedIdentity;
  mode: IssueMode;
  force?: boolean;
  known?: KnownSecret;
}

export interface IssueDeps {
  settings: IssueSettings;
  ca: CertificateAuthority;
  bundle: X509Bundle;
  tenants: {
    secretsManager(identity: ResolvedIdentity, signal?: AbortSignal): Promise<SecretsManagerClient>;
  };
  now: () => Date;
  logger: Logger;
}

/**
 * One identity, end to end: open its account, decide from the task's mode
 * whether it needs a new SVID, mint a key and CSR, have the CA sign, verify
 * the result, and write it. Never throws: a failure is the identity's outcome,
 * and one after `signal` aborted is `not-reached` at the stage it was in.
 *
 * @example
 * const result = await issueIdentity(deps, { identity, mode: "issue", known }, deadline.signal);
 */
export async function issueIdentity(
  deps: IssueDeps,
  task: IssueTask,
  signal: AbortSignal,
): Promise<IdentityResult> {
  const { settings } = deps;
  const { identity } = task;
  const base = describeIdentity(identity);
  const log = identityLog(deps.logger, {
    identity: base.identity,
    spiffeId: base.spiffeId,
    accountId: identity.accountId,
  });
  let stage: Stage = "access";
  let state: SecretState | undefined = knownState(task);
  try {
    const sm = await deps.tenants.secretsManager(identity, signal);
    if (state === undefined) {
      stage = "describe";
      state = await readSecretState(sm, settings.secretName, signal);
      const fresh = freshUntil(state, base.spiffeId, deps.now(), settings.renewBeforeMs);
      const unchanged = task.mode !== "check" || sameAsKnown(state, task.known);
      if (fresh !== undefined && unchanged && !task.force) {
        log.debug("fresh, skipped", { notAfter: fresh.toISOString() });
        return {
          ...base,
          outcome: "skipped-fresh",
          notAfter: fresh.toISOString(),
          ...where(state),
        };
      }
      if (state.kind === "foreign") {
        stage = "push";
        throw foreignSecret(identity.accountId, settings.secretName);
      }
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
    const svid = checkIssued(signed.chainPem, minted, deps.bundle, {
      spiffeId: identity.spiffeId,
      notBefore,
      notAfter,
      skewMs: VALIDITY_SKEW_MS,
      now,
    });
    stage = "push";
    const write = {
      name: settings.secretName,
      document: encodeSvidSecret(svid, deps.bundle),
      format: settings.secretFormat,
      spiffeId: base.spiffeId,
      notAfter: svid.notAfter,
      clientRequestToken: clientRequestToken(base.spiffeId, svid.leaf.serialNumber),
      kmsKeyId: settings.kmsKeyId,
    };
    const client = sm;
    const written = await writeSvidSecret(client, identity.accountId, state, write, signal).catch(
      async (err: unknown) => {
        // The record was out of date: the secret is gone, deleted, or no longer ours. Look, then decide.
        if (
          state?.kind !== "owned" ||
          state.arn === undefined ||
          !staleRecord(err) ||
          signal.aborted
        )
          throw err;
        log.info("recorded secret not writable, describing it", { reason: errorText(err) });
        state = await readSecretState(client, settings.secretName, signal);
        if (state.kind === "foreign") throw foreignSecret(identity.accountId, settings.secretName);
        return writeSvidSecret(client, identity.accountId, state, write, signal);
      },
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
      secretArn: written.arn,
      versionId: written.versionId,
    };
  } catch (err) {
    const held = state?.kind === "owned" ? state.notAfter?.toISOString() : undefined;
    const kept = held ? { notAfter: held } : {};
    // Whatever a call failed with once the deadline passed, it was cut short, not broken.
    if (signal.aborted)
      return { ...base, outcome: "not-reached", stage, reason: DEADLINE_REASON, ...kept };
    const reason = errorText(err);
    log.error("failed", { stage, reason });
    // Trying again cannot make someone else's secret the issuer's.
    const permanent =
      err instanceof SvidWriteError && err.reason === SvidWriteReason.FOREIGN_SECRET;
    return {
      ...base,
      outcome: "failed",
      stage,
      reason,
      ...kept,
      ...(permanent ? { permanent } : {}),
    };
  }
}

type LogKeys = Record<string, string>;

/**
 * The run's logger with the identity's keys added to each line. A Powertools
 * child logger would carry them too, but builds a new Console for every
 * child: once per identity, about a tenth of a millisecond each at fleet scale.
 */
function identityLog(logger: Logger, keys: LogKeys) {
  return {
    debug: (message: string, extra: LogKeys) => logger.debug(message, { ...keys, ...extra }),
    info: (message: string, extra: LogKeys) => logger.info(message, { ...keys, ...extra }),
    error: (message: string, extra: LogKeys) => logger.error(message, { ...keys, ...extra }),
  };
}

/**
 * For an `issue` task, the state to write against without asking first: the
 * one its record implies, or none yet, so CreateSecret goes first and a
 * secret already there (the issuer's from before the record, or someone
 * else's) is described only then.
 */
function knownState(task: IssueTask): SecretState | undefined {
  const known = task.known;
  if (task.mode !== "issue") return undefined;
  if (known?.secretArn === undefined) return { kind: "missing" };
  const notAfter = known.notAfter ? new Date(known.notAfter) : undefined;
  return {
    kind: "owned",
    scheduledForDeletion: false,
    arn: known.secretArn,
    tags: {
      [SvidSecretTag.OWNER]: SVID_SECRET_OWNER,
      ...(known.spiffeId ? { [SvidSecretTag.SPIFFE_ID]: known.spiffeId } : {}),
    },
    spiffeId: known.spiffeId,
    notAfter: notAfter && !Number.isNaN(notAfter.getTime()) ? notAfter : undefined,
    ...(known.versionId ? { versionId: known.versionId } : {}),
  };
}

/**
 * A write by recorded ARN that failed because the record no longer holds:
 * the secret was deleted for good (not found), is scheduled for deletion
 * (invalid request), or lost its owner tag (the writer role's condition denies).
 */
function staleRecord(err: unknown): boolean {
  return (
    err instanceof ResourceNotFoundException ||
    err instanceof InvalidRequestException ||
    (err instanceof Error && err.name === "AccessDeniedException")
  );
}

/** The secret is exactly the version the issuer last wrote, under the same ARN. */
function sameAsKnown(state: SecretState, known: KnownSecret | undefined): boolean {
  if (state.kind !== "owned" || known === undefined) return false;
  return (
    (known.secretArn === undefined || state.arn === known.secretArn) &&
    (known.versionId === undefined || state.versionId === known.versionId)
  );
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

function where(state: SecretState): Pick<IdentityResult, "secretArn" | "versionId"> {
  if (state.kind !== "owned") return {};
  return {
    ...(state.arn ? { secretArn: state.arn } : {}),
    ...(state.versionId ? { versionId: state.versionId } : {}),
  };
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** The report fields of an identity before anything is known of its outcome. */
export function describeIdentity(identity: ResolvedIdentity): Omit<IdentityResult, "outcome"> {
  return {
    identity: identityLabel(identity),
    accountId: identity.accountId,
    service: identity.service,
    environment: identity.environment,
    spiffeId: identity.spiffeId.toString(),
  };
}
