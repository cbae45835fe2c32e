/**
 * `report --html FILE`: the fleet as one self-contained HTML page. A
 * timeline of every identity's validity window with now, the renewal
 * threshold and the alarm band marked; failed, missing and pending identities
 * drawn apart; summary counts at the top; filters by account, service,
 * environment and state; sorted by time left. Inline CSS and script only, a
 * Content-Security-Policy that forbids every fetch, all row text escaped: it
 * opens from a file, offline, and stays quick at 5,000 identities.
 */
import type { FleetRow, FleetThresholds } from "../fleet/row.ts";
import { buildReportModel } from "./model.ts";
import { renderPage } from "./page.ts";

export { ReportError, ReportReason } from "./errors.ts";

/**
 * The report page for these rows, judged against these thresholds. The page
 * shows the fleet as of `thresholds.now`, not as of when it is opened.
 * Throws a {@link ReportError} when `now`, a threshold or a row's time is not
 * valid.
 *
 * @example
 * await writeFile(
 *   "fleet.html",
 *   renderFleetReport(rows, {
 *     now: new Date().toISOString(),
 *     alarmBelowMs: 6 * 3_600_000,
 *     renewBeforeMs: 8 * 3_600_000,
 *   }),
 * );
 */
export function renderFleetReport(rows: readonly FleetRow[], thresholds: FleetThresholds): string {
  return renderPage(buildReportModel(rows, thresholds));
}
