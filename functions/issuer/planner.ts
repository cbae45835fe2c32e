import { createHash } from "node:crypto";
import type { Logger } from "@aws-lambda-powertools/logger";
import {
  AccountNotFoundException,
  type OrganizationsClient,
  TargetNotFoundException,
} from "@aws-sdk/client-organizations";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { deadlineSignal, mapConcurrent, RateLimiter } from "../../lib/limits/index.ts";
import type { AccountTagKeys, RegistrySource } from "./config.ts";
import type { IdTemplate } from "./identity.ts";
import { sendWork, type WorkMessage, type WorkReason } from "./queue.ts";
import {
  accountTags,
  entriesFromAccounts,
  listActiveAccounts,
  loadRegistry,
  type RegistryProblem,
  type ResolvedIdentity,
  resolveEntries,
} from "./registry/index.ts";
import { type IssuerRequest, wanted } from "./run.ts";
import type {
  IssuerStore,
  PlanRecord,
  RegistryRecord,
  Snapshot,
  StateRecord,
  StoreItem,
} from "./store.ts";

/** Time kept back from reading tags for planning and queueing, before the deadline margin. */
export const PLAN_RESERVE_MS = 120_000;
/** Tag reads in flight at once (all through the one Organizations rate limiter). */
const TAG_READERS = 4;
/** Batches of sends or table writes in flight at once. */
const WRITERS = 8;
const EPOCH = new Date(0).toISOString();

/** What the planner needs of the issuer's configuration. */
export interface PlannerSettings {
  registry: RegistrySource;
  tagKeys: AccountTagKeys;
  idTemplate: IdTemplate;
  organizationsRate: number;
  renewBeforeMs: number;
  registryRefreshMs: number;
  checkIntervalMs: number;
  pendingTimeoutMs: number;
  deadlineMarginMs: number;
}

export interface PlannerDeps {
  settings: PlannerSettings;
  store: IssuerStore;
  organizations: OrganizationsClient;
  sqs: SQSClient;
  workQueueUrl: string;
  now: () => Date;
  /** Milliseconds until the run must have stopped; `Infinity` outside Lambda. */
  remainingMs: () => number;
  logger: Logger;
}

export interface PlanReport {
  startedAt: string;
  finishedAt: string;
  /** Identities in the registry (after the request's filters). */
  identities: number;
  /** Queued this run, by reason. */
  queued: Record<WorkReason, number>;
  /** Already queued by an earlier run and not yet answered. */
  pending: number;
  /** The last attempt failed for good (in the dead-letter queue); queued again by this run. */
  failedBefore: number;
  invalid: RegistryProblem[];
  registry: {
    /** Accounts whose tags this run read, and why. */
    tagReads: number;
    /** The Organization's accounts were listed in full this run. */
    listed: boolean;
    /** Accounts in the snapshot whose tags are older than the refresh interval, left for the next run. */
    staleLeft: number;
  };
  /** Lowest remaining lifetime of any identity's SVID, from the outcomes the workers recorded. */
  minSecondsToExpiry: number | undefined;
  /** The deadline cut the registry refresh short; planning still ran. */
  deadlineReached: boolean;
}

/**
 * One planner run: bring the registry snapshot up to date from what changed
 * (accounts named by an Organizations event, accounts new to the listing,
 * tags older than the refresh interval, oldest first, as time allows), decide
 * from the table which identities are due and why, queue one message each,
 * and record the plan. Never touches a tenant account or the CA: that is the
 * workers' job, at the CA's rate, however long the queue is.
 *
 * @example
 * const report = await runPlanner(deps, { force: false });
 */
export async function runPlanner(deps: PlannerDeps, request: IssuerRequest): Promise<PlanReport> {
  const deadline = deadlineSignal(deps.remainingMs() - deps.settings.deadlineMarginMs);
  try {
    return await plan(deps, request, deadline.signal);
  } finally {
    deadline.clear();
  }
}

async function plan(
  deps: PlannerDeps,
  request: IssuerRequest,
  signal: AbortSignal,
): Promise<PlanReport> {
  const { settings, logger } = deps;
  const startedAt = deps.now();
  const snapshot = await deps.store.load(signal);
  for (const item of snapshot.malformed) {
    logger.warn("state table item malformed; planned as if absent", { ...item });
    // Without a readable outcome, whether its plan was answered cannot be told: plan it again.
    if (item.sk === "state") snapshot.plans.delete(item.pk);
  }
  const refreshed =
    settings.registry.kind === "organizations"
      ? await refreshOrganization(deps, snapshot, request, signal)
      : { tagReads: 0, listed: false, staleLeft: 0, deadlineReached: false };
  const { identities: all, problems } = await resolveRegistry(deps, snapshot, signal);
  for (const problem of problems) {
    logger.warn("registry entry skipped", { origin: problem.origin, reason: problem.reason });
  }
  const identities = all.filter((identity) => wanted(identity, request));

  const now = deps.now();
  const queued: Record<WorkReason, number> = { new: 0, renew: 0, changed: 0, check: 0, reissue: 0 };
  let pending = 0;
  let failedBefore = 0;
  const messages: WorkMessage[] = [];
  const plans: StoreItem[] = [];
  let lowest: number | undefined;
  for (const identity of identities) {
    const state = snapshot.states.get(identity.accountId);
    if (state?.notAfter !== undefined) {
      const left = Math.floor((Date.parse(state.notAfter) - now.getTime()) / 1000);
      lowest = lowest === undefined ? left : Math.min(lowest, left);
    }
    const decision = decide(
      identity,
      state,
      snapshot.plans.get(identity.accountId),
      now,
      settings,
      request.force,
    );
    if (decision === "pending") {
      pending++;
      continue;
    }
    if (decision === undefined) continue;
    if (state?.outcome === "failed") failedBefore++;
    queued[decision]++;
    const plannedAt = now.toISOString();
    const spiffeId = identity.spiffeId.toString();
    messages.push({
      v: 1,
      accountId: identity.accountId,
      service: identity.service,
      environment: identity.environment,
      spiffeId,
      reason: decision,
      plannedAt,
      ...(state ? { previous: previousOf(state) } : {}),
    });
    plans.push({
      kind: "plan",
      record: { accountId: identity.accountId, plannedAt, reason: decision, spiffeId },
    });
  }
  // Queued work outlives this run, so the deadline does not cut sending: a half-sent plan would
  // only be planned again after the pending timeout.
  await mapConcurrent(chunks(messages, 10), WRITERS, (batch) =>
    sendWork(deps.sqs, deps.workQueueUrl, batch),
  );
  await mapConcurrent(chunks(plans, 25), WRITERS, (batch) => deps.store.write(batch));
  logger.info("planned", { queued, pending, identities: identities.length });
  return {
    startedAt: startedAt.toISOString(),
    finishedAt: deps.now().toISOString(),
    identities: identities.length,
    queued,
    pending,
    failedBefore,
    invalid: problems,
    registry: {
      tagReads: refreshed.tagReads,
      listed: refreshed.listed,
      staleLeft: refreshed.staleLeft,
    },
    minSecondsToExpiry: lowest,
    deadlineReached: refreshed.deadlineReached,
  };
}

/**
 * Why `identity` is due, `pending` when an earlier plan still waits for its
 * outcome, or `undefined` when nothing is due.
 */
export function decide(
  identity: ResolvedIdentity,
  state: StateRecord | undefined,
  planned: PlanRecord | undefined,
  now: Date,
  settings: Pick<PlannerSettings, "renewBeforeMs" | "checkIntervalMs" | "pendingTimeoutMs">,
  force: boolean,
): WorkReason | "pending" | undefined {
  const t = now.getTime();
  const answered =
    planned === undefined || (state !== undefined && state.plannedAt >= planned.plannedAt);
  // Queued for another SPIFFE ID (the registry changed since): that message is out of date.
  const superseded = planned !== undefined && planned.spiffeId !== identity.spiffeId.toString();
  if (
    !answered &&
    !superseded &&
    !force &&
    t - Date.parse(planned.plannedAt) < settings.pendingTimeoutMs
  )
    return "pending";
  if (force) return "reissue";
  if (state?.notAfter === undefined) return "new";
  if (state.spiffeId !== identity.spiffeId.toString()) return "changed";
  if (Date.parse(state.notAfter) - t <= settings.renewBeforeMs) return "renew";
  if (state.seenAt === undefined || t - Date.parse(state.seenAt) >= settings.checkIntervalMs)
    return "check";
  return undefined;
}

function previousOf(state: StateRecord): NonNullable<WorkMessage["previous"]> {
  return {
    ...(state.secretArn ? { secretArn: state.secretArn } : {}),
    ...(state.versionId ? { versionId: state.versionId } : {}),
    ...(state.notAfter ? { notAfter: state.notAfter } : {}),
    spiffeId: state.spiffeId,
  };
}

/**
 * Brings the snapshot's accounts up to date and writes what changed. Reads, in
 * this order and only while time is left: accounts an event named; the full
 * listing when the last is older than the refresh interval (new accounts join
 * unread, accounts no longer listed are marked gone); then tags older than the
 * refresh interval, oldest first. Each account's refresh point is spread by a
 * hash of its id over the second half of the interval, so reads settle into
 * an even share per run instead of all falling due together.
 */
async function refreshOrganization(
  deps: PlannerDeps,
  snapshot: Snapshot,
  request: IssuerRequest,
  signal: AbortSignal,
): Promise<{ tagReads: number; listed: boolean; staleLeft: number; deadlineReached: boolean }> {
  const { settings, logger } = deps;
  const limiter = new RateLimiter(settings.organizationsRate);
  const writes: StoreItem[] = [];
  const timeLeft = () =>
    !signal.aborted && deps.remainingMs() > settings.deadlineMarginMs + PLAN_RESERVE_MS;
  let listed = false;
  const now = deps.now();
  const listingDue =
    request.relist === true ||
    snapshot.listedAt === undefined ||
    now.getTime() - Date.parse(snapshot.listedAt) >= settings.registryRefreshMs;
  if (listingDue && timeLeft()) {
    const accounts = await listActiveAccounts(deps.organizations, limiter, signal).catch(
      (err: unknown) => {
        if (signal.aborted) return undefined;
        throw err;
      },
    );
    if (accounts !== undefined) {
      listed = true;
      const ids = new Set(accounts.map((a) => a.Id as string));
      for (const id of ids) {
        if (!snapshot.registry.has(id)) {
          const record = { accountId: id, status: "ACTIVE", tags: {}, readAt: EPOCH };
          snapshot.registry.set(id, record);
          writes.push({ kind: "registry", record });
        }
      }
      for (const record of snapshot.registry.values()) {
        if (!ids.has(record.accountId) && record.status !== "GONE") {
          const gone = { ...record, status: "GONE" };
          snapshot.registry.set(record.accountId, gone);
          writes.push({ kind: "registry", record: gone });
        }
      }
      const listedAt = now.toISOString();
      writes.push({ kind: "listing", listedAt });
    }
  }

  const named = new Set(request.changedAccounts ?? []);
  const stale = [...snapshot.registry.values()]
    .filter((r) => r.status !== "GONE" && !named.has(r.accountId))
    .filter((r) => now.getTime() - Date.parse(r.readAt) >= refreshAfter(r.accountId, settings))
    .sort((a, b) => a.readAt.localeCompare(b.readAt))
    .map((r) => r.accountId);
  const toRead = [...named, ...stale];
  let reads = 0;
  await mapConcurrent(
    toRead,
    TAG_READERS,
    async (accountId) => {
      reads++;
      const readAt = deps.now().toISOString();
      let record: RegistryRecord;
      try {
        const tags = await accountTags(deps.organizations, limiter, accountId, signal);
        record = { accountId, status: "ACTIVE", tags, readAt };
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof TargetNotFoundException || err instanceof AccountNotFoundException) {
          record = { accountId, status: "GONE", tags: {}, readAt };
        } else {
          // Kept as it was, to be read again next run; the old tags still stand.
          logger.warn("account tags not read", {
            accountId,
            reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
          });
          return;
        }
      }
      snapshot.registry.set(accountId, record);
      writes.push({ kind: "registry", record });
    },
    timeLeft,
  );
  await mapConcurrent(chunks(writes, 25), WRITERS, (batch) => deps.store.write(batch));
  const left = [...snapshot.registry.values()].filter(
    (r) =>
      r.status !== "GONE" &&
      now.getTime() - Date.parse(r.readAt) >= refreshAfter(r.accountId, settings),
  ).length;
  return { tagReads: reads, listed, staleLeft: left, deadlineReached: !timeLeft() && left > 0 };
}

/** An account's tags are re-read between half and all of the refresh interval after the last read. */
function refreshAfter(
  accountId: string,
  settings: Pick<PlannerSettings, "registryRefreshMs">,
): number {
  const spread = createHash("sha256").update(accountId).digest().readUInt16BE(0) / 65_536;
  return settings.registryRefreshMs * (1 - spread / 2);
}

/** The registry's identities: from the snapshot's active accounts, or from the file checked against the Organization. */
/**
 * The identities the registry gives, from the snapshot (Organizations) or the
 * registry file: what the planner plans for and the operator tools show.
 *
 * @example
 * const { identities } = await resolveRegistry({ settings, organizations }, await store.load(), signal);
 */
export async function resolveRegistry(
  deps: {
    settings: Pick<PlannerSettings, "registry" | "tagKeys" | "idTemplate" | "organizationsRate">;
    organizations: OrganizationsClient;
  },
  snapshot: Snapshot,
  signal: AbortSignal,
): Promise<{ identities: ResolvedIdentity[]; problems: RegistryProblem[] }> {
  const { settings } = deps;
  if (settings.registry.kind === "organizations") {
    const accounts = [...snapshot.registry.values()]
      .filter((r) => r.status !== "GONE" && r.readAt !== EPOCH)
      .map((r) => ({ id: r.accountId, status: r.status, tags: r.tags }));
    const { entries, problems } = entriesFromAccounts(accounts, settings.tagKeys);
    const resolved = resolveEntries(entries, settings.idTemplate);
    return { identities: resolved.identities, problems: [...problems, ...resolved.problems] };
  }
  return loadRegistry(
    {
      source: settings.registry,
      tagKeys: settings.tagKeys,
      idTemplate: settings.idTemplate,
      organizationsRate: settings.organizationsRate,
    },
    deps.organizations,
    signal,
  );
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
