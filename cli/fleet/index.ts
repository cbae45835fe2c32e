/**
 * The fleet as the operator tools see it: one {@link FleetRow} per registered
 * identity, read from the issuer's state ({@link readFleet}) with only the
 * variables that source needs ({@link loadFleetConfig}), judged against
 * {@link FleetThresholds} ({@link healthOf}).
 *
 * @example
 * import { loadFleetConfig, readFleet, byTimeLeft, needingAttention } from "./fleet/index.ts";
 * const fleet = await readFleet(loadFleetConfig(process.env));
 *
 * @module
 */
export { type FleetConfig, type FleetSource, loadFleetConfig } from "./config.ts";
export { byTimeLeft, type Health, healthOf, msLeft, needingAttention } from "./health.ts";
export { type Fleet, type FleetClients, readFleet } from "./read.ts";
export type { FleetOutcome, FleetRow, FleetThresholds } from "./row.ts";
export { readThresholds } from "./thresholds.ts";
