import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import middy from "@middy/core";
import { createSyncer } from "./compose.ts";
import { loadSyncerConfig } from "./config.ts";
import { SyncerError, SyncerReason } from "./errors.ts";
import { parseSyncerEvent } from "./event.ts";
import { publishSyncMetrics } from "./report.ts";
import type { SyncReport } from "./run.ts";

const SERVICE = "lambda-svid-syncer";
const logger = new Logger({ serviceName: SERVICE });
const metrics = new Metrics({ namespace: "LambdaSvid", serviceName: SERVICE });
const tracer = new Tracer({ serviceName: SERVICE });

// Validated once per container: a bad variable fails the init with its name.
const syncer = createSyncer(loadSyncerConfig(process.env));

/**
 * One sync run. A run that failed as a whole (no valid SVID, Keywhiz listing
 * failed, malformed response) throws after reporting, so the invocation is
 * marked failed and the schedule's alarms see it.
 */
async function sync(event: unknown): Promise<SyncReport> {
  const request = parseSyncerEvent(event);
  const report = await syncer.run(request, logger);
  publishSyncMetrics(report, metrics);
  logger.info("sync finished", {
    unchanged: report.unchanged.length,
    written: report.written.length,
    deleted: report.deleted.length,
    deletionRefused: report.deletionRefused,
    skipped: report.skipped,
    failed: report.failed,
    notOffered: report.notOffered,
    keywhizRequests: report.keywhizRequests,
  });
  if (report.error !== undefined) throw new SyncerError(SyncerReason.RUN_FAILED, report.error);
  return report;
}

export const handler = middy(sync)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
