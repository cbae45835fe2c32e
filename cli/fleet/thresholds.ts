import type { Env } from "../../lib/config/index.ts";
import { CLI_CATALOGUE, DEFAULT_ALARM_BELOW_MS } from "../config.ts";
import type { FleetConfig } from "./config.ts";
import type { FleetThresholds } from "./row.ts";

/**
 * What `status` and `report` judge the fleet against: the alarm threshold
 * (`LAMBDA_SVID_ALARM_BELOW`, a duration such as `6h`; set it
 * to the deployment's `minSecondsToExpiryThreshold`) and the issuer's own
 * renewal window (`LAMBDA_SVID_RENEW_BEFORE`, read with the fleet's configuration).
 *
 * @throws {ConfigError} naming `LAMBDA_SVID_ALARM_BELOW` when it is not a duration below the validity.
 * @example
 * const thresholds = readThresholds(process.env, loadFleetConfig(process.env), new Date());
 */
export function readThresholds(
  env: Env,
  config: Pick<FleetConfig, "validityMs" | "renewBeforeMs">,
  now: Date,
): FleetThresholds {
  return {
    now: now.toISOString(),
    alarmBelowMs: CLI_CATALOGUE.reader(env).read("LAMBDA_SVID_ALARM_BELOW", {
      fallback: Math.min(DEFAULT_ALARM_BELOW_MS, config.renewBeforeMs),
      max: config.validityMs,
    }),
    renewBeforeMs: config.renewBeforeMs,
  };
}
