import "reflect-metadata";
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import middy from "@middy/core";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createIssuer, createPlanner, createWorker } from "./compose.ts";
import { type IssuerConfig, loadIssuerConfig } from "./config.ts";
import { parseIssuerEvent } from "./event.ts";
import type { PlanReport } from "./planner.ts";
import { publishMetrics, publishPlanMetrics, publishWorkMetrics } from "./report.ts";
import type { RunReport } from "./run.ts";

const SERVICE = "lambda-svid-issuer";
const logger = new Logger({ serviceName: SERVICE });
const metrics = new Metrics({ namespace: "LambdaSvid", serviceName: SERVICE });
const tracer = new Tracer({ serviceName: SERVICE });

// Validated once per container: a bad variable fails the init with its name. The CA and the
// ExternalId may be unset (the planner is deployed without them): the worker and a direct run
// refuse to be built without them, on their first invocation, before any work.
const config: IssuerConfig = loadIssuerConfig(process.env);
// Built on first use, so a container builds only what its function calls.
let planner: ReturnType<typeof createPlanner> | undefined;
let direct: ReturnType<typeof createIssuer> | undefined;
let workerInstance: ReturnType<typeof createWorker> | undefined;

/** Summary returned to the invoker: what was planned (or, direct, each identity's outcome); no key material. */
async function plan(event: unknown, context: Context): Promise<PlanReport | RunReport> {
  const request = parseIssuerEvent(event);
  logger.info("run started", { request });
  const remainingMs = () => context.getRemainingTimeInMillis();
  // The planner when a work queue is configured; otherwise the issuer runs direct, in this process.
  if (config.queue.workQueueUrl !== undefined) {
    planner ??= createPlanner(config);
    const report = await planner.run(request, remainingMs, logger);
    publishPlanMetrics(report, metrics);
    logger.info("run finished", {
      queued: report.queued,
      pending: report.pending,
      minSecondsToExpiry: report.minSecondsToExpiry,
      deadlineReached: report.deadlineReached,
    });
    return report;
  }
  direct ??= createIssuer(config);
  const report = await direct.run(request, remainingMs, logger);
  publishMetrics(report, metrics);
  logger.info("run finished", {
    counts: report.counts,
    minSecondsToExpiry: report.minSecondsToExpiry,
    deadlineReached: report.deadlineReached,
  });
  return report;
}

/** One batch of the work queue; what failed with attempts left goes back to SQS. */
async function work(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  workerInstance ??= createWorker(config);
  const { batchItemFailures, report } = await workerInstance.handle(
    event.Records,
    () => context.getRemainingTimeInMillis(),
    logger,
  );
  publishWorkMetrics(report, metrics);
  logger.info("batch finished", {
    received: report.received,
    deadLettered: report.deadLettered,
    retried: report.retried,
    deadlineReached: report.deadlineReached,
  });
  return { batchItemFailures };
}

/** The planner (schedule, re-issue and Organizations events), or the direct issuer without a queue. */
export const handler = middy(plan)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));

/** The worker: the work queue's SQS event source (ReportBatchItemFailures). */
export const worker = middy(work)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
