import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { SyncReport } from "./run.ts";

/** Publishes a run's outcome counts as EMF metrics. */
export function publishSyncMetrics(report: SyncReport, metrics: Metrics): void {
  metrics.addMetric("SecretsUnchanged", MetricUnit.Count, report.unchanged.length);
  metrics.addMetric("SecretsWritten", MetricUnit.Count, report.written.length);
  metrics.addMetric("SecretsDeleted", MetricUnit.Count, report.deleted.length);
  metrics.addMetric("SecretsSkipped", MetricUnit.Count, report.skipped.length);
  metrics.addMetric("SecretsFailed", MetricUnit.Count, report.failed.length);
  metrics.addMetric(
    "DeletionsRefused",
    MetricUnit.Count,
    report.deletionRefused?.secretNames.length ?? 0,
  );
  metrics.addMetric("SyncRunFailed", MetricUnit.Count, report.error === undefined ? 0 : 1);
  metrics.addMetric("KeywhizRequests", MetricUnit.Count, report.keywhizRequests);
}
