import type { Logger } from "@aws-lambda-powertools/logger";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { X509Svid } from "../../layers/spiffe/index.ts";
import { mapConcurrent } from "../limits/index.ts";
import type { SyncerConfig } from "./config.ts";
import type { SyncRequest } from "./event.ts";
import { KeywhizClient } from "./keywhiz/client.ts";
import {
  KeywhizError,
  KeywhizReason,
  type KeywhizSecret,
  type KeywhizSecretInfo,
  versionOf,
} from "./keywhiz/model.ts";
import { deleteMirrored, listMirrored, MAX_SECRET_BYTES, writeMirrored } from "./mirror.ts";
import { findCollisions, secretsManagerName, toTagValue } from "./names.ts";

/** Secrets Manager writes in flight at once: a first sync of many secrets, well under the API's rate. */
const WRITE_CONCURRENCY = 8;

export interface SecretOutcome {
  keywhizName: string;
  secretName?: string;
  reason?: string;
}

export interface SyncReport {
  ok: boolean;
  /** Why the run as a whole failed, when it did; nothing was changed then. */
  error?: string;
  clientId?: string;
  unchanged: SecretOutcome[];
  written: SecretOutcome[];
  deleted: SecretOutcome[];
  skipped: SecretOutcome[];
  failed: SecretOutcome[];
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
  now: () => Date;
  logger: Logger;
}

/**
 * One sync run: list what Keywhiz offers this identity, keep the opted-in
 * secrets, compare their checksums with the tags of the mirrored secrets,
 * fetch the changed ones in one batch, write them, and delete mirrored secrets
 * that are no longer opted in or offered. A failed listing, a malformed
 * response or a missing SVID fails the run before anything is written or
 * deleted.
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

    const targets = mapNames(optedIn, config.prefix, report, logger);
    const mirrored = await listMirrored(deps.sm, config.prefix);
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
        report.skipped.push({
          ...outcome,
          reason: `content is ${target.info.secretLength} bytes; Secrets Manager allows ${MAX_SECRET_BYTES}`,
        });
      } else if (
        !request.force &&
        existing !== undefined &&
        !existing.scheduledForDeletion &&
        existing.version === toTagValue(versionOf(target.info))
      ) {
        report.unchanged.push(outcome);
      } else {
        toFetch.push(target);
      }
    }
    for (const s of report.skipped) logger.warn("skipped", { ...s });

    const contents =
      toFetch.length > 0
        ? await fetchAll(keywhiz, toFetch, report)
        : new Map<string, KeywhizSecret>();
    await mapConcurrent(toFetch, WRITE_CONCURRENCY, async (target) => {
      const secret = contents.get(target.info.name);
      if (secret === undefined) return;
      const outcome = { keywhizName: target.info.name, secretName: target.secretName };
      if (secret.content.length !== secret.secretLength) {
        report.failed.push({
          ...outcome,
          reason: `content is ${secret.content.length} bytes, listed as ${secret.secretLength}`,
        });
        return;
      }
      if (secret.content.length > MAX_SECRET_BYTES) {
        report.skipped.push({
          ...outcome,
          reason: `content is ${secret.content.length} bytes; Secrets Manager allows ${MAX_SECRET_BYTES}`,
        });
        return;
      }
      try {
        await writeMirrored(deps.sm, mirrored.get(target.secretName), {
          name: target.secretName,
          keywhizName: target.info.name,
          version: versionOf(secret),
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

    if (request.secrets === undefined) {
      const keep = new Set(targets.map((t) => t.secretName));
      for (const existing of mirrored.values()) {
        if (!existing.owned || existing.scheduledForDeletion || keep.has(existing.name)) continue;
        if (collided(report, existing.name)) continue;
        try {
          await deleteMirrored(deps.sm, existing.name, config.recoveryWindowDays);
          report.deleted.push({ keywhizName: "", secretName: existing.name });
          logger.info("deleted: no longer opted in or offered", {
            secretName: existing.name,
            recoveryWindowDays: config.recoveryWindowDays,
          });
        } catch (err) {
          report.failed.push({ keywhizName: "", secretName: existing.name, reason: describe(err) });
        }
      }
    }
    report.ok = report.failed.length === 0;
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

interface Target {
  info: KeywhizSecretInfo;
  secretName: string;
}

function mapNames(
  optedIn: KeywhizSecretInfo[],
  prefix: string,
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
 * request per secret so the others still sync.
 */
async function fetchAll(
  keywhiz: KeywhizClient,
  targets: Target[],
  report: SyncReport,
): Promise<Map<string, KeywhizSecret>> {
  const names = targets.map((t) => t.info.name);
  try {
    const batch = await keywhiz.batchSecrets(names);
    const byName = new Map(batch.map((s) => [s.name, s]));
    for (const target of targets) {
      if (!byName.has(target.info.name)) {
        throw new KeywhizError(
          KeywhizReason.MALFORMED,
          `batch response lacks ${JSON.stringify(target.info.name)}`,
        );
      }
    }
    return byName;
  } catch (err) {
    if (
      !(err instanceof KeywhizError) ||
      (err.reason !== KeywhizReason.FORBIDDEN && err.reason !== KeywhizReason.NOT_FOUND)
    )
      throw err;
  }
  const out = new Map<string, KeywhizSecret>();
  for (const target of targets) {
    try {
      out.set(target.info.name, await keywhiz.getSecret(target.info.name));
    } catch (err) {
      if (
        !(err instanceof KeywhizError) ||
        (err.reason !== KeywhizReason.FORBIDDEN && err.reason !== KeywhizReason.NOT_FOUND)
      )
        throw err;
      report.failed.push({
        keywhizName: target.info.name,
        secretName: target.secretName,
        reason: err.message,
      });
    }
  }
  return out;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
