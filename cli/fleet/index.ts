/**
 * The fleet as the operator tools see it: one {@link FleetRow} per registered
 * identity, read from the issuer's state ({@link readFleet}), judged against
 * {@link FleetThresholds} ({@link healthOf}).
 *
 * @example
 * import { readFleet, byTimeLeft, needingAttention } from "./fleet/index.ts";
 * const fleet = await readFleet(loadIssuerConfig(process.env));
 *
 * @module
 */
export { byTimeLeft, type Health, healthOf, msLeft, needingAttention } from "./health.ts";
export { type Fleet, type FleetClients, readFleet } from "./read.ts";
export type { FleetOutcome, FleetRow, FleetThresholds } from "./row.ts";
export { readThresholds } from "./thresholds.ts";
