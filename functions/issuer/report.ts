import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { PlanReport } from "./planner.ts";
import type { RunReport } from "./run.ts";
import type { WorkReport } from "./worker.ts";

/**
 * Publishes a run's counts, whether the deadline cut it short, and the fleet's
 * lowest remaining SVID lifetime as EMF metrics.
 *
 * @example
 * publishMetrics(await issuer.run(request, remainingMs, logger), metrics);
 */
export function publishMetrics(report: RunReport, metrics: Metrics): void {
  metrics.addMetric("SvidsIssued", MetricUnit.Count, report.counts.issued);
  metrics.addMetric("SvidsSkippedFresh", MetricUnit.Count, report.counts["skipped-fresh"]);
  metrics.addMetric("SvidsFailed", MetricUnit.Count, report.counts.failed);
  metrics.addMetric("SvidsNotReached", MetricUnit.Count, report.counts["not-reached"]);
  metrics.addMetric("RegistryEntriesInvalid", MetricUnit.Count, report.counts.invalid);
  metrics.addMetric("RunDeadlineReached", MetricUnit.Count, report.deadlineReached ? 1 : 0);
  if (report.minSecondsToExpiry !== undefined) {
    metrics.addMetric("MinSecondsToExpiry", MetricUnit.Seconds, report.minSecondsToExpiry);
  }
}

/** A plain-text table of the run, one identity per line, for the command line. */
export function formatReport(report: RunReport): string {
  const rows = report.identities.map((r) => [
    r.spiffeId,
    r.accountId,
    r.notAfter ?? "-",
    r.outcome + (r.reason ? ` (${r.stage}: ${r.reason})` : ""),
  ]);
  const header = ["SPIFFE ID", "ACCOUNT", "NOT AFTER", "OUTCOME"];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] as string).length)),
  );
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] as number))).join("  ");
  const c = report.counts;
  return [
    line(header),
    ...rows.map(line),
    ...report.invalid.map((p) => `invalid registry entry: ${p.origin}: ${p.reason}`),
    ...(report.registryRead ? [] : ["registry not read before the deadline"]),
    `issued ${c.issued}, skipped-fresh ${c["skipped-fresh"]}, failed ${c.failed}, not-reached ${c["not-reached"]}, invalid ${c.invalid}`,
  ].join("\n");
}

/**
 * Publishes a planner run: identities queued (by reason and in all), still
 * pending from earlier runs, registry problems, the fleet's lowest remaining
 * SVID lifetime, and whether the deadline cut the registry refresh short.
 *
 * @example
 * publishPlanMetrics(await planner.run(request, remainingMs, logger), metrics);
 */
export function publishPlanMetrics(report: PlanReport, metrics: Metrics): void {
  const queued = Object.values(report.queued).reduce((a, b) => a + b, 0);
  metrics.addMetric("IdentitiesQueued", MetricUnit.Count, queued);
  metrics.addMetric("IdentitiesQueuedForRenewal", MetricUnit.Count, report.queued.renew);
  metrics.addMetric("IdentitiesPending", MetricUnit.Count, report.pending);
  metrics.addMetric("IdentitiesFailedBefore", MetricUnit.Count, report.failedBefore);
  metrics.addMetric("RegistryEntriesInvalid", MetricUnit.Count, report.invalid.length);
  metrics.addMetric("RegistryTagReads", MetricUnit.Count, report.registry.tagReads);
  metrics.addMetric("RegistryStaleLeft", MetricUnit.Count, report.registry.staleLeft);
  metrics.addMetric("RunDeadlineReached", MetricUnit.Count, report.deadlineReached ? 1 : 0);
  if (report.minSecondsToExpiry !== undefined) {
    metrics.addMetric("MinSecondsToExpiry", MetricUnit.Seconds, report.minSecondsToExpiry);
  }
}

/**
 * Publishes a worker batch: SVIDs issued, checked, failed (retried or sent to
 * the dead-letter queue), and whether the deadline left work for SQS.
 *
 * @example
 * publishWorkMetrics((await worker.handle(records, remainingMs, logger)).report, metrics);
 */
export function publishWorkMetrics(report: WorkReport, metrics: Metrics): void {
  const count = (outcome: string) => report.results.filter((r) => r.outcome === outcome).length;
  metrics.addMetric("SvidsIssued", MetricUnit.Count, count("issued"));
  metrics.addMetric("SvidsChecked", MetricUnit.Count, count("skipped-fresh"));
  metrics.addMetric("SvidsFailed", MetricUnit.Count, count("failed"));
  metrics.addMetric("WorkDeadLettered", MetricUnit.Count, report.deadLettered);
  metrics.addMetric("WorkRetried", MetricUnit.Count, report.retried);
  metrics.addMetric("RunDeadlineReached", MetricUnit.Count, report.deadlineReached ? 1 : 0);
}
