import type { Logger } from "@aws-lambda-powertools/logger";
import type { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { X509Svid } from "../../layers/spiffe/index.ts";
import { mapConcurrent } from "../../lib/limits/index.ts";
import type { ContentKey } from "../../lib/secrets/index.ts";
import { KeywhizError, KeywhizReason } from "./errors.ts";
import type { SyncRequest } from "./event.ts";
import type { KeywhizClient } from "./keywhiz/client.ts";
import type { FetchedSecrets } from "./keywhiz/model.ts";
import {
  contentKeySecretName,
  deleteMirrored,
  listMirrored,
  type MirroredSecret,
  tagChecksum,
  writeMirrored,
} from "./mirror.ts";
import {
  type Fetched,
  type PlanSettings,
  planSync,
  planWrites,
  type SecretOutcome,
  type WriteAction,
} from "./plan.ts";

/** Secrets Manager writes in flight at once: a first sync of many secrets, well under the API's rate. */
const WRITE_CONCURRENCY = 8;

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

/** What a run needs of the syncer's configuration: the plan's settings and how to write and delete. */
export interface SyncSettings extends PlanSettings {
  kmsKeyId: string | undefined;
  recoveryWindowDays: number;
}

export interface SyncDeps {
  settings: SyncSettings;
  sm: SecretsManagerClient;
  /** The account's verified SVID, or an error saying why there is none. */
  svid: () => Promise<X509Svid>;
  /** A Keywhiz client authenticated with the SVID; the run closes it. */
  keywhiz: (svid: X509Svid) => KeywhizClient;
  /** The syncer's content key, given its secret as listed (`undefined` when there is none yet). */
  contentKey: (existing: MirroredSecret | undefined) => Promise<ContentKey>;
  logger: Logger;
}

/**
 * One sync run: list what Keywhiz offers this identity and the mirrored
 * secrets' tags, decide with {@link planSync}, fetch in one batch what the
 * plan names, decide the writes with {@link planWrites}, then perform them and
 * the plan's deletions. So a server with checksums costs one listing when
 * nothing changed, a server without costs one fetch and no writes. A failed or
 * malformed listing or a missing SVID fails the run before anything is
 * written or deleted; a secret that fails to fetch or write fails alone.
 *
 * @example
 * const report = await runSync(deps, { force: false });
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
  const { settings, logger } = deps;
  let keywhiz: KeywhizClient | undefined;
  try {
    const svid = await deps.svid();
    report.clientId = svid.id.toString();
    keywhiz = deps.keywhiz(svid);

    const listing = await keywhiz.listSecrets();
    const mirrored = await listMirrored(deps.sm, settings.prefix);
    const plan = planSync({ listing, mirrored }, settings, request);
    report.notOffered = plan.notOffered;
    for (const entry of plan.notOffered)
      logger.warn("opted in but not offered by Keywhiz", { optIn: entry });
    record(report, plan, logger);

    if (plan.fetch.length > 0) {
      const fetched = await fetchAll(
        keywhiz,
        plan.fetch.map((t) => t.keywhizName),
      );
      const key = await deps.contentKey(mirrored.get(contentKeySecretName(settings.prefix)));
      const writes = planWrites(
        plan.fetch,
        fetched,
        (name, content) => key.digest(name, content),
        request.force,
      );
      record(report, writes, logger);
      await perform(deps, key, writes.actions, report);
    }

    if (plan.deletionRefused !== undefined) {
      report.deletionRefused = plan.deletionRefused;
      logger.error("deletion refused", { ...plan.deletionRefused });
    } else {
      await deleteAll(deps, plan.delete, report);
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

/** Adds a plan's decided outcomes to the report, and logs the ones an operator must see. */
function record(
  report: SyncReport,
  decided: { skipped: SecretOutcome[]; unchanged: SecretOutcome[]; failed?: SecretOutcome[] },
  logger: Logger,
): void {
  report.skipped.push(...decided.skipped);
  report.unchanged.push(...decided.unchanged);
  report.failed.push(...(decided.failed ?? []));
  for (const s of decided.skipped) logger.warn("skipped", { ...s });
  for (const f of decided.failed ?? []) logger.error("secret failed", { ...f });
}

/** Performs the writes and retags, a bounded number at once; each one fails alone. */
async function perform(
  deps: SyncDeps,
  key: ContentKey,
  actions: readonly WriteAction[],
  report: SyncReport,
): Promise<void> {
  const { settings, logger } = deps;
  const done = await mapConcurrent(actions, WRITE_CONCURRENCY, async (action) => {
    const outcome = { keywhizName: action.keywhizName, secretName: action.secretName };
    try {
      if (action.kind === "retag") {
        await tagChecksum(deps.sm, action.secretName, action.checksum);
        return { outcome, into: report.unchanged };
      }
      await writeMirrored(deps.sm, key, action.existing, {
        name: action.secretName,
        keywhizName: action.keywhizName,
        checksum: action.checksum,
        contentHmac: action.contentHmac,
        content: action.content,
        kmsKeyId: settings.kmsKeyId,
      });
      logger.info("written", { ...outcome, bytes: action.content.length });
      return { outcome, into: report.written };
    } catch (err) {
      const failed = { ...outcome, reason: describe(err) };
      logger.error("write failed", failed);
      return { outcome: failed, into: report.failed };
    }
  });
  for (const result of done) result?.into.push(result.outcome);
}

async function deleteAll(
  deps: SyncDeps,
  names: readonly string[],
  report: SyncReport,
): Promise<void> {
  const { settings, logger } = deps;
  for (const name of names) {
    try {
      await deleteMirrored(deps.sm, name, settings.recoveryWindowDays);
      report.deleted.push({ keywhizName: "", secretName: name });
      logger.info("deleted: no longer opted in or offered", {
        secretName: name,
        recoveryWindowDays: settings.recoveryWindowDays,
      });
    } catch (err) {
      report.failed.push({ keywhizName: "", secretName: name, reason: describe(err) });
    }
  }
}

/**
 * Fetches the named secrets in one batch. If the batch is refused because one
 * secret vanished or became unreadable since the listing, falls back to one
 * request per secret so the others still sync. What Keywhiz serves malformed,
 * or refuses, comes back as a problem of that secret alone.
 */
async function fetchAll(keywhiz: KeywhizClient, names: readonly string[]): Promise<Fetched> {
  const answers: FetchedSecrets[] = [];
  const problems: Array<{ name: string; reason: string }> = [];
  try {
    const batch = await keywhiz.batchSecrets([...names]);
    const answered = new Set([...batch.secrets, ...batch.problems].map((s) => s.name));
    for (const name of names) {
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
    for (const name of names) {
      try {
        answers.push(await keywhiz.getSecret(name));
      } catch (err) {
        if (!refused(err)) throw err;
        problems.push({ name, reason: err.message });
      }
    }
  }
  for (const answer of answers)
    for (const problem of answer.problems)
      problems.push({ name: problem.name, reason: problem.error.message });
  return { secrets: answers.flatMap((a) => a.secrets), problems };
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
