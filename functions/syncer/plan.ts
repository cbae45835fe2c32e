/**
 * The syncer's decisions, without I/O. A run reads Keywhiz's listing and the
 * mirrored secrets' tags, and {@link planSync} decides from them alone what is
 * skipped, what is unchanged, what must be fetched and what is deleted (or
 * why deletion is held back). Secrets whose content decides are fetched in
 * one batch; {@link planWrites} then decides from the fetched content what is
 * written, retagged, skipped or failed. The run (`run.ts`) performs the plan.
 */
import { refuseDeletion } from "./deletion.ts";
import type { SyncRequest } from "./event.ts";
import type { KeywhizSecret, KeywhizSecretInfo } from "./keywhiz/model.ts";
import { contentKeySecretName, MAX_SECRET_BYTES, type MirroredSecret } from "./mirror.ts";
import { findCollisions, secretsManagerName, toTagValue } from "./names.ts";
import type { OptIn } from "./opt-in.ts";

/** One secret in a report: its Keywhiz name, its mirror's name when it has one, and why, when not done. */
export interface SecretOutcome {
  keywhizName: string;
  secretName?: string;
  reason?: string;
}

/** What the decisions depend on besides the state: the opt-in, the mirror prefix, the deletion share. */
export interface PlanSettings {
  optIn: Pick<OptIn, "matches" | "unmatched">;
  prefix: string;
  /** `LAMBDA_SVID_SYNC_MAX_DELETE_PERCENT`. */
  maxDeletePercent: number;
}

/** What a run reads before it changes anything. */
export interface SyncState {
  /** Keywhiz's listing for this identity; a listing that failed ends the run before any plan. */
  listing: readonly KeywhizSecretInfo[];
  /** Every secret under the prefix, by name, as `listMirrored` found it (the content key's included). */
  mirrored: ReadonlyMap<string, MirroredSecret>;
}

/** An opted-in secret whose fetched content decides whether it is written. */
export interface FetchTarget {
  keywhizName: string;
  secretName: string;
  /** Its mirror as listed: owned, or absent (the plan targets no secret another made). */
  existing: MirroredSecret | undefined;
}

/** What {@link planSync} decided before any content is fetched. */
export interface SyncPlan {
  /** Opt-in entries that matched nothing Keywhiz offers. */
  notOffered: string[];
  skipped: SecretOutcome[];
  /** Keywhiz's checksum equals the mirror's tag: nothing to fetch. */
  unchanged: SecretOutcome[];
  /** To fetch in one batch, in listing order. */
  fetch: FetchTarget[];
  /** Mirrored secrets to delete, sorted, once the writes are done. */
  delete: string[];
  /** Deletions held back, and why; then {@link SyncPlan.delete} is empty. */
  deletionRefused?: { reason: string; secretNames: string[] };
}

/** What the batch fetch returned: usable secrets, and by name why the others could not be used. */
export interface Fetched {
  secrets: readonly KeywhizSecret[];
  problems: ReadonlyArray<{ name: string; reason: string }>;
}

/** A change to one mirrored secret, decided from its fetched content. */
export type WriteAction =
  | {
      kind: "write";
      keywhizName: string;
      secretName: string;
      existing: MirroredSecret | undefined;
      content: Buffer;
      /** Keywhiz's checksum of the content, when the server sends one. */
      checksum: string | undefined;
      contentHmac: string;
    }
  | {
      /** Same content; only Keywhiz's checksum is new (a server that started sending one). */
      kind: "retag";
      keywhizName: string;
      secretName: string;
      checksum: string;
    };

/** What {@link planWrites} decided from the fetched content. */
export interface WritePlan {
  skipped: SecretOutcome[];
  unchanged: SecretOutcome[];
  /** Served unusable or not served at all. */
  failed: SecretOutcome[];
  actions: WriteAction[];
}

const NAME_TOO_LONG = "mapped Secrets Manager name is longer than 512 characters";
const NAME_RESERVED = "the mapped name is reserved for the syncer's content key";
const NOT_OWNED = "a secret with this name exists without the syncer's owner tag";

/**
 * Decides a run from what it read. Opted-in secrets map to names under the
 * prefix; a name too long, the content key's name, or one that two Keywhiz
 * names share is skipped, and a collided name is neither written nor deleted
 * until the collision is resolved. A target whose mirror exists without the
 * owner tag is skipped, as is one listed over Secrets Manager's size limit.
 * Where Keywhiz's checksum equals the mirror's tag it is unchanged; every
 * other target is fetched, or all of them when `request.force`. Unless the
 * request names secrets, owned mirrors no longer offered or opted in are
 * deleted, as long as {@link refuseDeletion} allows it.
 *
 * @example
 * const plan = planSync({ listing, mirrored }, config, { force: false });
 * // plan.fetch: what to fetch; plan.delete: what to delete after the writes
 */
export function planSync(state: SyncState, settings: PlanSettings, request: SyncRequest): SyncPlan {
  const keyName = contentKeySecretName(settings.prefix);
  const plan: SyncPlan = {
    notOffered: settings.optIn.unmatched(state.listing.map((s) => s.name)),
    skipped: [],
    unchanged: [],
    fetch: [],
    delete: [],
  };
  const optedIn = state.listing.filter((s) => settings.optIn.matches(s.name));

  const mapped = new Map<string, string>();
  for (const info of optedIn) {
    const name = secretsManagerName(settings.prefix, info.name);
    if (name === undefined) plan.skipped.push({ keywhizName: info.name, reason: NAME_TOO_LONG });
    else if (name === keyName)
      plan.skipped.push({ keywhizName: info.name, secretName: name, reason: NAME_RESERVED });
    else mapped.set(info.name, name);
  }
  const collided = new Set<string>();
  for (const group of findCollisions(mapped)) {
    for (const name of group) {
      const others = group.filter((n) => n !== name).map((n) => JSON.stringify(n));
      const secretName = mapped.get(name) as string;
      plan.skipped.push({
        keywhizName: name,
        secretName,
        reason: `maps to the same Secrets Manager name as ${others.join(", ")}`,
      });
      collided.add(secretName);
      mapped.delete(name);
    }
  }
  const targets = optedIn.filter((info) => mapped.has(info.name));

  for (const info of targets) {
    if (request.secrets !== undefined && !request.secrets.includes(info.name)) continue;
    const secretName = mapped.get(info.name) as string;
    const existing = state.mirrored.get(secretName);
    const outcome = { keywhizName: info.name, secretName };
    if (existing !== undefined && !existing.owned) {
      plan.skipped.push({ ...outcome, reason: NOT_OWNED });
    } else if (info.secretLength > MAX_SECRET_BYTES) {
      // Only servers that list real lengths allow this before fetching; real ones list 0.
      plan.skipped.push({ ...outcome, reason: tooLarge(info.secretLength) });
    } else if (
      !request.force &&
      current(existing) &&
      info.checksum !== undefined &&
      existing.checksum === toTagValue(info.checksum)
    ) {
      plan.unchanged.push(outcome);
    } else {
      plan.fetch.push({ ...outcome, existing });
    }
  }

  if (request.secrets === undefined) {
    const keep = new Set(mapped.values());
    const live = [...state.mirrored.values()].filter((m) => m.name !== keyName && current(m));
    const doomed = live
      .filter((m) => !keep.has(m.name) && !collided.has(m.name))
      .map((m) => m.name)
      .sort();
    const refusal = refuseDeletion({
      deleting: doomed.length,
      mirrored: live.length,
      listed: state.listing.length,
      maxDeletePercent: settings.maxDeletePercent,
      force: request.force,
    });
    if (refusal === undefined) plan.delete = doomed;
    else plan.deletionRefused = { reason: refusal, secretNames: doomed };
  }
  return plan;
}

/**
 * Decides the fetched targets from their content: over the size limit is
 * skipped; a keyed digest (`contentHmac`) equal to the mirror's tag is
 * unchanged, retagged when only Keywhiz's checksum is new; anything else, or
 * everything with `force`, is written. A secret Keywhiz served unusable or
 * refused fails alone.
 *
 * @example
 * const writes = planWrites(plan.fetch, await fetchAll(...), (n, c) => key.digest(n, c), false);
 */
export function planWrites(
  targets: readonly FetchTarget[],
  fetched: Fetched,
  contentHmac: (secretName: string, content: Buffer) => string,
  force: boolean,
): WritePlan {
  const byName = new Map(targets.map((t) => [t.keywhizName, t]));
  const plan: WritePlan = { skipped: [], unchanged: [], failed: [], actions: [] };
  for (const problem of fetched.problems) {
    const target = byName.get(problem.name);
    if (target !== undefined)
      plan.failed.push({
        keywhizName: target.keywhizName,
        secretName: target.secretName,
        reason: problem.reason,
      });
  }
  const served = new Map(fetched.secrets.map((s) => [s.name, s]));
  for (const target of targets) {
    const secret = served.get(target.keywhizName);
    if (secret === undefined) continue;
    const { keywhizName, secretName, existing } = target;
    if (secret.content.length > MAX_SECRET_BYTES) {
      plan.skipped.push({ keywhizName, secretName, reason: tooLarge(secret.content.length) });
      continue;
    }
    const hmac = contentHmac(secretName, secret.content);
    if (!force && current(existing) && existing.contentHmac === hmac) {
      if (secret.checksum !== undefined && existing.checksum !== toTagValue(secret.checksum))
        plan.actions.push({ kind: "retag", keywhizName, secretName, checksum: secret.checksum });
      else plan.unchanged.push({ keywhizName, secretName });
      continue;
    }
    plan.actions.push({
      kind: "write",
      keywhizName,
      secretName,
      existing,
      content: secret.content,
      checksum: secret.checksum,
      contentHmac: hmac,
    });
  }
  return plan;
}

/** A mirror whose tags describe its current value: owned, and not scheduled for deletion. */
function current(existing: MirroredSecret | undefined): existing is MirroredSecret {
  return existing?.owned === true && !existing.scheduledForDeletion;
}

function tooLarge(bytes: number): string {
  return `content is ${bytes} bytes; Secrets Manager allows ${MAX_SECRET_BYTES}`;
}
