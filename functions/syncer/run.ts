import type { Logger } from "@aws-lambda-powertools/logger";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { X509Svid } from "../../layers/spiffe/index.ts";
import { mapConcurrent } from "../../lib/limits/index.ts";
import type { ContentKey } from "../../lib/secrets/index.ts";
import type { SyncerConfig } from "./config.ts";
import { refuseDeletion } from "./deletion.ts";
import type { SyncRequest } from "./event.ts";
import { KeywhizClient } from "./keywhiz/client.ts";
import {
  type FetchedSecrets,
  KeywhizError,
  KeywhizReason,
  type KeywhizSecret,
  type KeywhizSecretInfo,
} from "./keywhiz/model.ts";
import {
  contentKeySecretName,
  deleteMirrored,
  listMirrored,
  MAX_SECRET_BYTES,
  type MirroredSecret,
  tagChecksum,
  writeMirrored,
} from "./mirror.ts";
import { findCollisions, secretsManagerName, toTagValue } from "./names.ts";

/** Secrets Manager writes in flight at once: a first sync of many secrets, well under the API's rate. */
const WRITE_CONCURRENCY = 8;

export interface SecretOutcome {
  keywhizName: string;
  secretName?: string;
  reason?: string;
}

export interface SyncReport {
  /** Nothing failed and no deletion was held back. */
  ok: boolean;
  /** Why the run as a whole failed, when it did; nothing was changed then. */
  error?: string;
  clientId?: string;
  unchanged: SecretOutcome[];
  written: SecretOutcome[];
  deleted: SecretOutcome[];
  skipped: SecretOutcome[];
  failed: SecretOutcome[];
  /** Deletions this run held back on a doubtful source, and why; a forced re-sync performs them. */
  deletionRefused?: { reason: string; secretNames: string[] };
  /** Opt-in entries that matched nothing Keywhiz offers. */
  notOffered: string[];
  keywhizRequests: number;
  keywhizBytes: number;
}

export interface SyncDeps {
  config: SyncerConfig;
  sm: SecretsManagerClient;
  /** The account's verified SVID, or an error saying why there is none. */
  svid: () => Promise<X509Svid>;
  keywhiz?: (svid: X509Svid) => KeywhizClient;
  /** The syncer's content key, given its secret as listed (`undefined` when there is none yet). */
  contentKey: (existing: MirroredSecret | undefined) => Promise<ContentKey>;
  now: () => Date;
  logger: Logger;
}

/**
 * One sync run: list what Keywhiz offers this identity, keep the opted-in
 * secrets, and compare them with the mirrored secrets' tags. Where Keywhiz
 * sends a checksum, an equal tag means unchanged and nothing is fetched;
 * everything else is fetched in one batch and compared by its keyed digest,
 * so a server without checksums costs one fetch and no writes when nothing
 * changed. Changed secrets are written; a secret Keywhiz serves malformed
 * fails alone. Mirrored secrets no longer opted in or offered are deleted,
 * unless the source looks doubtful ({@link refuseDeletion}). A failed or
 * malformed listing or a missing SVID fails the run before anything is
 * written or deleted.
 */
export async function runSync(deps: SyncDeps, request: SyncRequest): Promise<SyncReport> {
  const report: SyncReport = {
    ok: false,
    unchanged: [],
    written: [],
    deleted: [],
    skipped: [],
    failed: [],
    notOffered: [],
    keywhizRequests: 0,
    keywhizBytes: 0,
  };
  const { config, logger } = deps;
  let keywhiz: KeywhizClient | undefined;
  try {
    const svid = await deps.svid();
    report.clientId = svid.id.toString();
    keywhiz = (
      deps.keywhiz ??
      ((s) => new KeywhizClient({ url: config.keywhizUrl, caPem: config.keywhizCaPem, svid: s }))
    )(svid);

    const offered = await keywhiz.listSecrets();
    const optedIn = offered.filter((s) => config.optIn.matches(s.name));
    report.notOffered = config.optIn.unmatched(offered.map((s) => s.name));
    for (const entry of report.notOffered)
      logger.warn("opted in but not offered by Keywhiz", { optIn: entry });

    const keyName = contentKeySecretName(config.prefix);
    const targets = mapNames(optedIn, config.prefix, keyName, report, logger);
    const mirrored = await listMirrored(deps.sm, config.prefix);
    const keySecret = mirrored.get(keyName);
    mirrored.delete(keyName);
    const selected =
      request.secrets === undefined
        ? targets
        : targets.filter((t) => request.secrets?.includes(t.info.name));

    const toFetch: Target[] = [];
    for (const target of selected) {
      const existing = mirrored.get(target.secretName);
      const outcome = { keywhizName: target.info.name, secretName: target.secretName };
      if (existing !== undefined && !existing.owned) {
        report.skipped.push({
          ...outcome,
          reason: "a secret with this name exists without the syncer's owner tag",
        });
      } else if (target.info.secretLength > MAX_SECRET_BYTES) {
        // Only servers that list real lengths allow this before fetching; real ones list 0.
        report.skipped.push({
          ...outcome,
          reason: `content is ${target.info.secretLength} bytes; Secrets Manager allows ${MAX_SECRET_BYTES}`,
        });
      } else if (
        !request.force &&
        current(existing) &&
        target.info.checksum !== undefined &&
        existing.checksum === toTagValue(target.info.checksum)
      ) {
        report.unchanged.push(outcome);
      } else {
        toFetch.push(target);
      }
    }
    for (const s of report.skipped) logger.warn("skipped", { ...s });

    if (toFetch.length > 0) {
      const contents = await fetchAll(keywhiz, toFetch, report, logger);
      const key = await deps.contentKey(keySecret);
      await mapConcurrent(toFetch, WRITE_CONCURRENCY, async (target) => {
        const secret = contents.get(target.info.name);
        if (secret === undefined) return;
        const outcome = { keywhizName: target.info.name, secretName: target.secretName };
        if (secret.content.length > MAX_SECRET_BYTES) {
          report.skipped.push({
            ...outcome,
            reason: `content is ${secret.content.length} bytes; Secrets Manager allows ${MAX_SECRET_BYTES}`,
          });
          return;
        }
        const existing = mirrored.get(target.secretName);
        const contentHmac = key.digest(target.secretName, secret.content);
        try {
          if (!request.force && current(existing) && existing.contentHmac === contentHmac) {
            // Same content: at most Keywhiz's checksum is new (a server that started sending one).
            if (secret.checksum !== undefined && existing.checksum !== toTagValue(secret.checksum))
              await tagChecksum(deps.sm, target.secretName, secret.checksum);
            report.unchanged.push(outcome);
            return;
          }
          await writeMirrored(deps.sm, key, existing, {
            name: target.secretName,
            keywhizName: target.info.name,
            checksum: secret.checksum,
            contentHmac,
            content: secret.content,
            kmsKeyId: config.kmsKeyId,
          });
          report.written.push(outcome);
          logger.info("written", { ...outcome, bytes: secret.content.length });
        } catch (err) {
          report.failed.push({ ...outcome, reason: describe(err) });
          logger.error("write failed", { ...outcome, reason: describe(err) });
        }
      });
    }

    if (request.secrets === undefined) {
      const keep = new Set(targets.map((t) => t.secretName));
      const live = [...mirrored.values()].filter((m) => m.owned && !m.scheduledForDeletion);
      const doomed = live
        .filter((m) => !keep.has(m.name) && !collided(report, m.name))
        .map((m) => m.name)
        .sort();
      const refusal = refuseDeletion({
        deleting: doomed.length,
        mirrored: live.length,
        listed: offered.length,
        maxDeletePercent: config.maxDeletePercent,
        force: request.force,
      });
      if (refusal !== undefined) {
        report.deletionRefused = { reason: refusal, secretNames: doomed };
        logger.error("deletion refused", { reason: refusal, secretNames: doomed });
      } else {
        await deleteAll(deps, doomed, report);
      }
    }
    report.ok = report.failed.length === 0 && report.deletionRefused === undefined;
  } catch (err) {
    report.error = describe(err);
    logger.error("sync run failed; nothing written or deleted after the failure", {
      reason: report.error,
    });
  } finally {
    if (keywhiz !== undefined) {
      report.keywhizRequests = keywhiz.requests;
      report.keywhizBytes = keywhiz.bytesReceived;
      keywhiz.close();
    }
  }
  return report;
}

/** A mirror whose tags describe its current value: owned, and not scheduled for deletion. */
function current(existing: MirroredSecret | undefined): existing is MirroredSecret {
  return existing?.owned === true && !existing.scheduledForDeletion;
}

async function deleteAll(deps: SyncDeps, names: string[], report: SyncReport): Promise<void> {
  const { config, logger } = deps;
  for (const name of names) {
    try {
      await deleteMirrored(deps.sm, name, config.recoveryWindowDays);
      report.deleted.push({ keywhizName: "", secretName: name });
      logger.info("deleted: no longer opted in or offered", {
        secretName: name,
        recoveryWindowDays: config.recoveryWindowDays,
      });
    } catch (err) {
      report.failed.push({ keywhizName: "", secretName: name, reason: describe(err) });
    }
  }
}

interface Target {
  info: KeywhizSecretInfo;
  secretName: string;
}

function mapNames(
  optedIn: KeywhizSecretInfo[],
  prefix: string,
  reserved: string,
  report: SyncReport,
  logger: Logger,
): Target[] {
  const mapped = new Map<string, string>();
  for (const info of optedIn) {
    const name = secretsManagerName(prefix, info.name);
    if (name === undefined) {
      report.skipped.push({
        keywhizName: info.name,
        reason: "mapped Secrets Manager name is longer than 512 characters",
      });
    } else if (name === reserved) {
      report.skipped.push({
        keywhizName: info.name,
        secretName: name,
        reason: "the mapped name is reserved for the syncer's content key",
      });
    } else {
      mapped.set(info.name, name);
    }
  }
  const collisions = findCollisions(mapped);
  for (const group of collisions) {
    for (const name of group) {
      report.skipped.push({
        keywhizName: name,
        secretName: mapped.get(name),
        reason: `maps to the same Secrets Manager name as ${group
          .filter((n) => n !== name)
          .map((n) => JSON.stringify(n))
          .join(", ")}`,
      });
      logger.warn("name collision", { keywhizName: name, secretName: mapped.get(name) });
      mapped.delete(name);
    }
  }
  return optedIn
    .filter((info) => mapped.has(info.name))
    .map((info) => ({ info, secretName: mapped.get(info.name) as string }));
}

/** Collided names stay out of both writes and deletions until the collision is resolved. */
function collided(report: SyncReport, secretName: string): boolean {
  return report.skipped.some((s) => s.secretName === secretName);
}

/**
 * Fetches the changed secrets in one batch. If the batch is refused because one
 * secret vanished or became unreadable since the listing, falls back to one
 * request per secret so the others still sync. A secret that Keywhiz serves
 * malformed, or that cannot be read, is reported failed by name; the others
 * are returned.
 */
async function fetchAll(
  keywhiz: KeywhizClient,
  targets: Target[],
  report: SyncReport,
  logger: Logger,
): Promise<Map<string, KeywhizSecret>> {
  const byName = new Map(targets.map((t) => [t.info.name, t]));
  const fail = (target: Target, reason: string) => {
    const outcome = { keywhizName: target.info.name, secretName: target.secretName, reason };
    report.failed.push(outcome);
    logger.error("secret failed", { ...outcome });
  };
  const answers: FetchedSecrets[] = [];
  try {
    const batch = await keywhiz.batchSecrets([...byName.keys()]);
    const answered = new Set([...batch.secrets, ...batch.problems].map((s) => s.name));
    for (const name of byName.keys()) {
      if (!answered.has(name)) {
        throw new KeywhizError(
          KeywhizReason.MALFORMED,
          `batch response lacks ${JSON.stringify(name)}`,
        );
      }
    }
    answers.push(batch);
  } catch (err) {
    if (!refused(err)) throw err;
    for (const target of targets) {
      try {
        answers.push(await keywhiz.getSecret(target.info.name));
      } catch (err) {
        if (!refused(err)) throw err;
        fail(target, err.message);
      }
    }
  }
  const out = new Map<string, KeywhizSecret>();
  for (const answer of answers) {
    for (const secret of answer.secrets) if (byName.has(secret.name)) out.set(secret.name, secret);
    for (const problem of answer.problems) {
      const target = byName.get(problem.name);
      if (target !== undefined) fail(target, problem.error.message);
    }
  }
  return out;
}

/** Keywhiz refused to serve a requested secret: it vanished or became unreadable since the listing. */
function refused(err: unknown): err is KeywhizError {
  return (
    err instanceof KeywhizError &&
    (err.reason === KeywhizReason.FORBIDDEN || err.reason === KeywhizReason.NOT_FOUND)
  );
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
