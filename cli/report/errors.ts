/**
 * Typed errors of the HTML fleet report: a fixed `reason` prefixed
 * `report: ` and a message `<reason>: <detail>`. The detail names the
 * identity by its SPIFFE ID and quotes the bad value: rows carry no secrets.
 */
import { LambdaSvidError } from "../../lib/errors/index.ts";

/** Reasons the report cannot be drawn. */
export const ReportReason = {
  BAD_NOW: "report: thresholds.now is not an ISO 8601 instant",
  BAD_THRESHOLD: "report: a threshold is not a finite duration of 0 ms or more",
  BAD_TIME: "report: a row's notBefore or notAfter is not an ISO 8601 instant",
} as const;
export type ReportReason = (typeof ReportReason)[keyof typeof ReportReason];

/**
 * Input the report cannot place on its timeline.
 *
 * @example
 * throw new ReportError(ReportReason.BAD_NOW, `got ${JSON.stringify(thresholds.now)}`);
 */
export class ReportError extends LambdaSvidError {
  declare readonly reason: ReportReason;

  constructor(reason: ReportReason, detail: string) {
    super(reason, detail);
    this.name = "ReportError";
  }
}
