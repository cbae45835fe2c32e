import "reflect-metadata";
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { createIssuer } from "./compose.ts";
import { loadIssuerConfig } from "./config.ts";
import { parseIssuerEvent } from "./event.ts";
import { publishMetrics } from "./report.ts";
import type { RunReport } from "./run.ts";

const SERVICE = "lambda-svid-issuer";
const logger = new Logger({ serviceName: SERVICE });
const metrics = new Metrics({ namespace: "LambdaSvid", serviceName: SERVICE });
const tracer = new Tracer({ serviceName: SERVICE });

// Validated once per container: a bad variable fails the init with its name.
const issuer = createIssuer(loadIssuerConfig(process.env));

/** Summary returned to the invoker: counts and per-identity outcomes, no key material. */
async function issue(event: unknown, context: Context): Promise<RunReport> {
  const request = parseIssuerEvent(event);
  logger.info("run started", { request });
  const report = await issuer.run(request, () => context.getRemainingTimeInMillis(), logger);
  publishMetrics(report, metrics);
  logger.info("run finished", {
    counts: report.counts,
    minSecondsToExpiry: report.minSecondsToExpiry,
    deadlineReached: report.deadlineReached,
  });
  return report;
}

export const handler = middy(issue)
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger))
  .use(logMetrics(metrics));
